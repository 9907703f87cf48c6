/**
 * What a capability needs from AWS: IAM actions on resources, computed from the config. The control plane's own
 * identity (stacks/iam.ts, `controlPlane`) is the union of these and nothing more; the IAM simulator checks it.
 */
import type { ZiggieConfig } from '../config/schema';
import type { PolicyStatement } from '../shared/iam-policy';
import { ziggieNames } from '../shared/names';

export interface IamNeed {
  /** `ec2:StartInstances`, … */
  actions: string[];
  /** ARNs (wildcards allowed where the service has no resource-level permissions: `*`). */
  resources: string[];
  /** Condition keys the statement is scoped by (e.g. the project tag on instances). */
  condition?: PolicyStatement['Condition'];
  /** Why this is needed (shown in docs/agents.md and the generated policy's Sid). */
  why: string;
}

/** A Sid from a free-text reason: `Start the project GPU` → `StartTheProjectGpu`. */
export function sidOf(why: string): string {
  return why.replace(/[^A-Za-z0-9 ]+/g, ' ').split(' ').filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase()).join('').slice(0, 100);
}

/** Policy statements for a set of needs; identical action+condition sets are merged. */
export function statementsFor(needs: IamNeed[], extraCondition?: PolicyStatement['Condition']): PolicyStatement[] {
  const byKey = new Map<string, PolicyStatement & { Action: string[]; Resource: string[] }>();
  for (const n of needs) {
    const condition = mergeConditions(n.condition, extraCondition);
    const key = JSON.stringify([[...n.actions].sort(), condition ?? null]);
    const existing = byKey.get(key);
    if (existing) {
      existing.Resource = [...new Set([...existing.Resource, ...n.resources])].sort();
      continue;
    }
    byKey.set(key, { Sid: sidOf(n.why), Effect: 'Allow', Action: [...n.actions].sort(), Resource: [...n.resources].sort(), ...(condition ? { Condition: condition } : {}) });
  }
  const seen = new Set<string>();
  return [...byKey.values()].map((s) => {
    let sid = s.Sid!;
    for (let i = 2; seen.has(sid); i++) sid = `${s.Sid}${i}`;
    seen.add(sid);
    return { ...s, Sid: sid };
  });
}

function mergeConditions(a?: PolicyStatement['Condition'], b?: PolicyStatement['Condition']): PolicyStatement['Condition'] | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: NonNullable<PolicyStatement['Condition']> = { ...a };
  for (const [op, kv] of Object.entries(b)) out[op] = { ...(out[op] ?? {}), ...kv };
  return out;
}

/** What the pipeline itself needs for every call: its audit records (the stream is per host, created on first use). */
export function pipelineNeeds(config: ZiggieConfig): IamNeed[] {
  return [{ why: 'Write the audit record of every call', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${ziggieNames(config).auditLogGroupArn}:log-stream:*`] }];
}
