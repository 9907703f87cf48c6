/**
 * The control plane's AWS identity (stacks/iam.ts, `ziggie-control-plane`) against what its capabilities declare
 * (`iam(config)` in control/capabilities, plus the pipeline's audit log), through the IAM policy simulator
 * (@cloud-copilot/iam-simulate): every declared call is allowed from the VPS's address and denied from anywhere
 * else, and the policy grants no action that no capability declares.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { ZiggieConfig } from '../../../config/schema';
import { Registry } from '../../../control/registry';
import { IamStack } from '../../../stacks/iam';
import { asList, exampleConfig, statements, synth } from '../stacks/helpers';

const SAMPLES: [RegExp, string][] = [
  [/instance\/\*$/, 'instance/i-0123456789abcdef0'],
  [/-\?\?\?\?\?\?$/, '-AbCdEf'],
  [/log-stream:\*$/, 'log-stream:ziggie-cli/vps'],
  [/\*$/, 'web/index.html'],
];

/** A concrete ARN a declared pattern stands for (`*` alone stays: the action has no resource type). */
const concrete = (pattern: string): string => (pattern === '*' ? '*' : SAMPLES.reduce((p, [re, v]) => p.replace(re, v), pattern));

/** Request context that satisfies a declared condition (tag values as they are; `s3:prefix` a sample under the pattern). */
function contextFor(condition: Record<string, Record<string, unknown>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of Object.values(condition ?? {})) {
    for (const [k, v] of Object.entries(kv)) out[k] = String(asList(v)[0]).replace(/\*$/, 'web/');
  }
  return out;
}

async function verdict(policy: string, config: ZiggieConfig, action: string, resource: string, context: Record<string, string>): Promise<string> {
  const r = await runSimulation({
    identityPolicies: [{ name: 'ziggie-control-plane', policy: JSON.parse(policy) }],
    serviceControlPolicies: [], resourceControlPolicies: [],
    request: {
      principal: `arn:aws:iam::${config.accountId}:user/${config.project}/${config.project}-control-plane`,
      action, resource: { resource, accountId: config.accountId }, contextVariables: { 'aws:SecureTransport': 'true', ...context },
    },
  }, {});
  if (r.resultType === 'error') throw new Error(`${action} ${resource}: ${JSON.stringify(r.errors)}`);
  return r.overallResult;
}

describe.each([
  ['the example config', exampleConfig()],
  ['with a CloudFront distribution configured', (() => {
    const c = exampleConfig();
    c.controlCenter!.deploy.frontend.cloudfrontDistributionId = 'E2ABCDEFGHIJKL';
    return c;
  })()],
])('ziggie-control-plane, %s', (_, config) => {
  const s = synth((app) => new IamStack(app, 'iam', config));
  const policy = s.of('aws_iam_policy').find((p) => p.config.name === 'ziggie-control-plane')!.config.policy as string;
  const declared = new Registry().iamNeeds(config);
  const calls = declared.flatMap(({ capability, needs }) => needs.flatMap((n) => n.actions.flatMap((action) =>
    n.resources.map((resource) => ({ capability, action, resource: concrete(resource), context: contextFor(n.condition as never) })))));

  test('is attached to an IAM user with no access key in Terraform', () => {
    expect(s.of('aws_iam_user').map((u) => u.config.name)).toContain('ziggie-control-plane');
    expect(s.of('aws_iam_access_key')).toEqual([]);
  });

  test('every call a capability declares is allowed from the VPS\'s address, and denied from any other', async () => {
    expect(calls.length).toBeGreaterThan(10);
    for (const c of calls) {
      const from = (ip: string) => verdict(policy, config, c.action, c.resource, { ...c.context, 'aws:SourceIp': ip });
      expect(`${c.capability} ${c.action} ${c.resource}: ${await from(config.vps.publicIp)}`).toBe(`${c.capability} ${c.action} ${c.resource}: Allowed`);
      expect(`${c.action}: ${await from('198.51.100.99')}`).toBe(`${c.action}: ImplicitlyDenied`);
    }
  });

  test('nothing more than the union: every granted action is declared by some capability', () => {
    const granted = new Set(statements(policy).flatMap((st) => asList(st.Action) as string[]));
    const used = new Set(calls.map((c) => c.action));
    expect([...granted].filter((a) => !used.has(a))).toEqual([]);
    expect([...used].filter((a) => !granted.has(a))).toEqual([]);
  });

  test('a start outside the project (another Project tag) is denied', async () => {
    const start = calls.find((c) => c.action === 'ec2:StartInstances')!;
    expect(await verdict(policy, config, start.action, start.resource, { 'aws:SourceIp': config.vps.publicIp, 'aws:ResourceTag/Project': 'Other' })).toBe('ImplicitlyDenied');
  });
});
