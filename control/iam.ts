/**
 * What the control plane calls in AWS, in the shared declaration format (shared/iam-needs.ts): each capability's
 * own calls (`iam(config)` beside its handler) plus what the pipeline makes for every call (the audit record), under
 * the control plane's identity. The IAM simulation (iam/) replays every call against the `ziggie-control-plane`
 * user of the synthesized stacks from the VPS's address, and checks a request just outside each is denied.
 */
import type { ZiggieConfig } from '../config/schema';
import type { IamCall, IamNeeds } from '../shared/iam-needs';
import { ziggieNames } from '../shared/names';
import type { AnyCapability } from './capability';

/** What the pipeline makes for every call, whatever the capability: its audit records (the stream is per host). */
export function pipelineCalls(config: ZiggieConfig): IamCall[] {
  const stream = `${ziggieNames(config).auditLogGroupArn}:log-stream:ziggie-cli/vps`;
  return [
    { action: 'logs:PutLogEvents', resource: stream, why: 'the audit record' },
    { action: 'logs:CreateLogStream', resource: stream, why: 'this host\'s audit stream, on first use' },
  ];
}

/** One declaration per capability, as `capability <name>` run by the control plane's identity. */
export function capabilityNeeds(config: ZiggieConfig, capabilities: readonly AnyCapability[]): IamNeeds[] {
  // The stacks create the identity only for a config with agents (stacks/iam.ts).
  if (Object.keys(config.agents).length === 0) return [];
  const identity = ziggieNames(config).controlPlaneUser;
  return capabilities.map((c) => ({ command: `capability ${c.name}`, identity, calls: [...c.iam(config), ...pipelineCalls(config)], exact: true }));
}
