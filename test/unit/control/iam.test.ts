/**
 * The control plane's AWS identity (stacks/iam.ts, `ziggie-control-plane`) against what its capabilities declare
 * (`iam(config)` in control/capabilities, plus the pipeline's audit record: control/iam.ts), through the IAM policy
 * simulator the whole-stack suite uses (iam/expectations.ts over @cloud-copilot/iam-simulate): every declared call is
 * allowed from the VPS's address, a request just outside each is denied, and the policy grants no action that no
 * capability declares. test/unit/iam/simulation.test.ts runs the same rows over every stack of the example config;
 * here also with a CloudFront distribution configured, and with the policy broadened or narrowed by hand.
 */
import type { ZiggieConfig } from '../../../config/schema';
import { Registry } from '../../../control/registry';
import { needsRows, type Outcome, outsideRows, runExpectations } from '../../../iam/expectations';
import { resolveIam } from '../../../iam/resolve';
import type { SynthesizedStack } from '../../../shared/terraform-json';
import { IamStack } from '../../../stacks/iam';
import { asList, exampleConfig, statements, synth } from '../stacks/helpers';

jest.setTimeout(60_000);

interface Statement { Sid?: string; Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, unknown>> }

/** Simulate every capability's calls and their just-outside requests over the IAM stack, its control-plane policy edited. */
async function simulateCapabilities(config: ZiggieConfig, stack: SynthesizedStack, edit?: (statements: Statement[]) => Statement[]): Promise<Outcome[]> {
  const copy: SynthesizedStack = structuredClone(stack);
  if (edit) {
    const policy = Object.values(copy.json.resource!.aws_iam_policy).find((p) => p.name === 'ziggie-control-plane')!;
    const doc = JSON.parse(policy.policy as string) as { Statement: Statement[] };
    policy.policy = JSON.stringify({ ...doc, Statement: edit(doc.Statement) });
  }
  const iam = resolveIam([copy]);
  const needs = new Registry().iamNeeds(config);
  return runExpectations(iam, [...needsRows(config, iam, needs), ...outsideRows(config, iam, needs)]);
}

const wrong = (outcomes: Outcome[]) => outcomes.filter((o) => !o.ok).map((o) => `${o.row.label}${o.row.from ? ` from ${o.row.from}` : ''} → ${o.decision?.verdict ?? o.problem}`);

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
  const needs = new Registry().iamNeeds(config);

  test('is attached to an IAM user with no access key in Terraform', () => {
    expect(s.of('aws_iam_user').map((u) => u.config.name)).toContain('ziggie-control-plane');
    expect(s.of('aws_iam_access_key')).toEqual([]);
  });

  test('every capability declares its calls for the control plane\'s identity, exactly', () => {
    expect(needs.map((n) => n.command)).toEqual(new Registry().names().map((name) => `capability ${name}`));
    expect(needs.every((n) => n.identity === 'ziggie-control-plane' && n.exact && n.calls.length > 0)).toBe(true);
  });

  test('every declared call is allowed from the VPS; each request just outside (and from elsewhere) is denied', async () => {
    const outcomes = await simulateCapabilities(config, s.stack);
    expect(wrong(outcomes)).toEqual([]);
    for (const n of needs) {
      const mine = outcomes.filter((o) => o.row.label.startsWith(`\`${n.command}\``));
      expect([n.command, mine.some((o) => o.row.expect === 'Allowed'), mine.some((o) => o.row.expect === 'Denied' && o.row.from !== 'elsewhere')])
        .toEqual([n.command, true, true]);
    }
    const start = outcomes.filter((o) => o.row.label.startsWith('`capability cloud:start-instance` outside: ec2:StartInstances')).map((o) => [o.row.label, o.decision?.verdict]);
    expect(start).toEqual([
      ['`capability cloud:start-instance` outside: ec2:StartInstances on an untagged resource', 'ImplicitlyDenied'],
      ['`capability cloud:start-instance` outside: ec2:StartInstances from another address', 'ImplicitlyDenied'],
    ]);
  });

  test('nothing more than the union: every granted action is declared by some capability', () => {
    const granted = new Set(statements(policy).flatMap((st) => asList(st.Action) as string[]));
    const used = new Set(needs.flatMap((n) => n.calls.map((c) => c.action)));
    expect([...granted].filter((a) => !used.has(a))).toEqual([]);
    expect([...used].filter((a) => !granted.has(a))).toEqual([]);
  });
});

describe('a changed control-plane policy fails the simulation', () => {
  const config = exampleConfig();
  const s = synth((app) => new IamStack(app, 'iam', config));

  test('broadened: start/stop without the Project tag condition', async () => {
    const caught = wrong(await simulateCapabilities(config, s.stack, (sts) => sts.map((st) => (st.Sid === 'StartStopProjectInstancesOnly'
      ? { ...st, Condition: { IpAddress: st.Condition!.IpAddress } } : st))));
    expect(caught).toEqual([
      '`capability cloud:start-instance` outside: ec2:StartInstances on an untagged resource from VPS → Allowed',
      '`capability cloud:stop-instance` outside: ec2:StopInstances on an untagged resource from VPS → Allowed',
    ]);
  });

  test('broadened: the frontend publish on the whole bucket, the Hostinger token on every secret', async () => {
    const caught = wrong(await simulateCapabilities(config, s.stack, (sts) => sts.map((st) => {
      if (st.Sid === 'PublishFrontend') return { ...st, Resource: `arn:aws:s3:::${config.storage.assetsBucket}/*` };
      if (st.Sid === 'ReadHostingerToken') return { ...st, Resource: '*' };
      return st;
    })));
    expect(caught).toEqual(expect.arrayContaining([
      `\`capability cloud:deploy\` outside: s3:PutObject on arn:aws:s3:::${config.storage.assetsBucket}/not-declared/x from VPS → Allowed`,
      `\`capability cloud:status\` outside: secretsmanager:GetSecretValue on arn:aws:secretsmanager:eu-north-1:111122223333:secret:${config.secrets.hostingerApiToken.replace('ziggie', 'other')}-AbCdEf from VPS → Allowed`,
    ]));
    expect(caught.every((c) => / outside: (s3:PutObject|s3:GetObject|secretsmanager:GetSecretValue) on /.test(c))).toBe(true);
  });

  test('broadened: no source-address pin', async () => {
    const caught = wrong(await simulateCapabilities(config, s.stack, (sts) => sts.map((st) => {
      const { IpAddress: _pin, ...rest } = st.Condition ?? {};
      return { ...st, Condition: rest };
    })));
    expect(caught).toContain('`capability cloud:costs` outside: ce:GetCostForecast from another address from elsewhere → Allowed');
    expect(caught.every((c) => c.includes(' from another address from elsewhere → Allowed'))).toBe(true);
  });

  test('narrowed: without the budget statement, cloud:costs is denied its call', async () => {
    const caught = wrong(await simulateCapabilities(config, s.stack, (sts) => sts.filter((st) => st.Sid !== 'ViewProjectBudget')));
    expect(caught).toEqual(['`capability cloud:costs`: the project budget (DescribeBudget) from VPS → ImplicitlyDenied']);
  });
});
