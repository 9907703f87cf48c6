import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../config/load';
import type { ZiggieConfig } from '../../../config/schema';
import { commandNeeds } from '../../../iam/commands';
import { expectations, type Outcome, runExpectations } from '../../../iam/expectations';
import { iamReport } from '../../../iam/report';
import { resolveIam } from '../../../iam/resolve';
import type { SynthesizedStack } from '../../../shared/terraform-json';
import { synthesize } from '../../../stacks/synth';

jest.setTimeout(120_000);

const config = loadConfig();
const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-iam-sim-'));
let stacks: SynthesizedStack[];
let report: Awaited<ReturnType<typeof iamReport>>;
beforeAll(async () => {
  stacks = synthesize(config, outdir);
  report = await iamReport(config, stacks, 'config/ziggie.example.yaml');
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const wrong = (outcomes: Outcome[]) => outcomes.filter((o) => !o.ok)
  .map((o) => `${o.row.section}: ${o.row.label}${o.row.from ? ` from ${o.row.from}` : ''} → ${o.decision?.verdict ?? o.problem}`);

/** Simulate the table again over a copy of the stacks changed by `edit` (a policy document, by resource name). */
async function withEdited(edit: (policy: { Statement: any[] }, type: string, name: string) => void, cfg: ZiggieConfig = config): Promise<Outcome[]> {
  const copy: SynthesizedStack[] = structuredClone(stacks);
  for (const stack of copy) {
    for (const [type, byName] of Object.entries(stack.json.resource ?? {})) {
      for (const [name, resource] of Object.entries(byName)) {
        for (const key of ['policy', 'assume_role_policy']) {
          if (typeof resource[key] !== 'string' || !String(resource[key]).startsWith('{')) continue;
          const doc = JSON.parse(resource[key] as string);
          edit(doc, type, name);
          resource[key] = JSON.stringify(doc);
        }
      }
    }
  }
  const iam = resolveIam(copy);
  return runExpectations(iam, expectations(cfg, iam, commandNeeds(cfg)));
}

describe('IAM simulation over the synthesized stacks', () => {
  test('every request is decided as expected, and every attachment lands on an identity a stack creates', () => {
    expect(report.iam.problems).toEqual([]);
    expect(wrong(report.outcomes)).toEqual([]);
    expect(report.outcomes.length).toBeGreaterThan(300);
  });

  test('covers every identity: users, roles, the instance profile, the agent policy, and the resource policies', () => {
    const names = report.iam.identities.map((i) => i.name).sort();
    // Identities added later are covered by the generated rows; the loop below requires each to be simulated both ways.
    expect(names).toEqual(expect.arrayContaining(['ziggie-agent', 'ziggie-bake-ami', 'ziggie-bedrock', 'ziggie-budget-stop-gpu', 'ziggie-comfyui-instance',
      'ziggie-control-plane', 'ziggie-gpu-control', 'ziggie-gpu-runtime-cap', 'ziggie-grafana', 'ziggie-pr-plan', 'ziggie-prod-vpc-flow-logs', 'ziggie-vps']));
    for (const identity of report.iam.identities) {
      const rows = report.outcomes.filter((o) => o.row.section === identity.name);
      expect([identity.name, rows.some((o) => o.decision?.verdict === 'Allowed')]).toEqual([identity.name, true]);
      expect([identity.name, rows.some((o) => o.decision?.verdict !== 'Allowed')]).toEqual([identity.name, true]);
    }
    expect(report.iam.identities.find((i) => i.name === 'ziggie-comfyui-instance')!.instanceProfiles).toEqual(['ziggie-comfyui-instance']);
    expect(report.iam.resourcePolicies.map((p) => p.name).sort()).toEqual(expect.arrayContaining([
      'bucket ziggie-audit-111122223333', 'bucket ziggie-cloud-assets', 'bucket ziggie-cloud-backups', 'bucket ziggie-terraform-state-eu-north-1',
      'function ziggie-gpu-control', 'queue ziggie-comfyui-jobs', 'queue ziggie-comfyui-jobs-dlq', 'topic ziggie-gpu-alerts']));
  });

  test('every VPS-held identity: each allowed request is allowed from the VPS and denied from any other address', () => {
    const users = report.iam.identities.filter((i) => i.kind === 'user').map((i) => i.name).sort();
    expect(users).toEqual(expect.arrayContaining(['ziggie-bedrock', 'ziggie-control-plane', 'ziggie-grafana', 'ziggie-vps']));
    for (const user of users) {
      const pinned = report.outcomes.filter((o) => o.row.section === user && o.row.label.startsWith('pinned: '));
      expect(pinned.filter((o) => o.row.from === 'VPS').every((o) => o.decision?.verdict === 'Allowed')).toBe(true);
      expect(pinned.filter((o) => o.row.from === 'elsewhere').every((o) => o.decision?.verdict !== 'Allowed')).toBe(true);
      // Every Allow statement of every policy the user holds has its pair of rows.
      const statements = report.iam.identities.find((i) => i.name === user)!.policies.flatMap((p) => p.document.Statement.filter((st) => st.Effect === 'Allow'));
      expect(pinned.length).toBeGreaterThanOrEqual(2 * statements.length);
    }
  });

  test('the seed\'s own test: StartInstances allowed on a Project=Ziggie instance, denied untagged or Project=Other', () => {
    const start = report.outcomes.filter((o) => o.row.section === 'ziggie-agent' && o.row.request.action === 'ec2:StartInstances' && !o.row.label.startsWith('`'));
    expect(start.map((o) => [o.row.label, o.decision?.verdict])).toEqual([
      ['StartInstances on a Project=Ziggie instance', 'Allowed'],
      ['StartInstances on an untagged instance', 'ImplicitlyDenied'],
      ['StartInstances on a Project=Other instance', 'ImplicitlyDenied'],
      ['forbidden: StartInstances on an untagged instance', 'ImplicitlyDenied'],
    ]);
  });

  describe('a broadened policy is caught', () => {
    test('ziggie-vps without its source-address condition', async () => {
      const outcomes = await withEdited((doc, type, name) => {
        if (name !== 'vps-policy') return;
        for (const st of doc.Statement) delete st.Condition?.IpAddress;
      });
      const caught = wrong(outcomes);
      expect(caught).toContain('ziggie-vps: PutObject of a database backup from elsewhere → Allowed');
      expect(caught.filter((c) => c.startsWith('ziggie-vps: pinned: ')).length).toBeGreaterThan(3);
    });

    test('ziggie-agent reading every secret in the account', async () => {
      const outcomes = await withEdited((doc, _type, name) => {
        if (name !== 'agent-policy') return;
        for (const st of doc.Statement) if (st.Sid === 'ReadWriteProjectSecrets') st.Resource = '*';
      });
      expect(wrong(outcomes)).toEqual(expect.arrayContaining([
        'ziggie-agent: forbidden: GetSecretValue outside ziggie/ → Allowed',
        'ziggie-agent: GetSecretValue outside ziggie/ → Allowed',
      ]));
    });

    test('ziggie-control-plane starting and stopping untagged instances: every capability that powers one is caught', async () => {
      const outcomes = await withEdited((doc, _type, name) => {
        if (name !== 'control-plane-policy') return;
        for (const st of doc.Statement) if (st.Sid === 'StartStopProjectInstancesOnly') delete st.Condition.StringEquals;
      });
      expect(wrong(outcomes)).toEqual([
        'ziggie-control-plane: `capability cloud:start-instance` outside: ec2:StartInstances on an untagged resource from VPS → Allowed',
        'ziggie-control-plane: `capability cloud:stop-instance` outside: ec2:StopInstances on an untagged resource from VPS → Allowed',
        'ziggie-control-plane: forbidden: StartInstances on an untagged instance from VPS → Allowed',
      ]);
    });

    test('the ComfyUI instance role given iam:PassRole', async () => {
      const outcomes = await withEdited((doc, type, name) => {
        if (type === 'aws_iam_role_policy' && name === 'instance-policy') doc.Statement.push({ Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' });
      });
      expect(wrong(outcomes)).toEqual(['ziggie-comfyui-instance: forbidden: iam:PassRole on any role → Allowed']);
    });

    test('the PR plan role trusting every workflow of the repository', async () => {
      const outcomes = await withEdited((doc, type, name) => {
        if (name !== 'pr-plan-role') return;
        for (const st of doc.Statement) st.Condition.StringLike = { 'token.actions.githubusercontent.com:sub': 'repo:ziggie/ziggie-infra:*' };
        for (const st of doc.Statement) delete st.Condition.StringEquals['token.actions.githubusercontent.com:sub'];
      });
      expect(wrong(outcomes)).toEqual([
        'ziggie-pr-plan: ... from a push to main of ziggie/ziggie-infra → Allowed',
        'ziggie-pr-plan: ... from an environment of ziggie/ziggie-infra → Allowed',
      ]);
    });

    test('the plan role allowed to write state', async () => {
      const outcomes = await withEdited((doc, _type, name) => {
        if (name === 'pr-plan-policy') doc.Statement.push({ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::ziggie-terraform-state-eu-north-1/*' });
      });
      expect(wrong(outcomes)).toEqual([
        'ziggie-pr-plan: PutObject of a state file → Allowed',
        'ziggie-pr-plan: PutObject of the lock file → Allowed',
      ]);
    });
  });

  test('with bedrock.modelArns: [] every attachment still lands (the n8n user exists without a Bedrock policy)', async () => {
    const noModels = structuredClone(config);
    noModels.bedrock.modelArns = [];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-iam-nomodels-'));
    try {
      const r = await iamReport(noModels, synthesize(noModels, dir), 'x');
      expect(r.iam.problems).toEqual([]);
      expect(wrong(r.outcomes)).toEqual([]);
      expect(r.iam.identities.find((i) => i.name === 'ziggie-bedrock')!.policies.map((p) => p.name)).toEqual(['ziggie-gpu-control-invoke']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an attachment to a user no stack creates is reported', () => {
    const copy: SynthesizedStack[] = structuredClone(stacks);
    const gpu = copy.find((s) => s.name === 'gpu')!;
    gpu.json.resource!.aws_iam_user_policy_attachment['n8n-may-invoke'].user = 'ziggie-nobody';
    expect(resolveIam(copy).problems).toEqual(['gpu/aws_iam_user_policy_attachment.n8n-may-invoke: attaches to user "ziggie-nobody", which no stack creates']);
  });

  test('docs/iam.md is what the simulation gives today (run `npm run iam:table` after changing stacks or expectations)', () => {
    expect(readFileSync(path.join(__dirname, '../../../docs/iam.md'), 'utf8')).toBe(report.markdown);
  });
});
