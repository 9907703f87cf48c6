/**
 * The PR review's `--plan` input, from REAL terraform plans made offline:
 * - a create plan of the synthesized `state` stack (the offline tier's plan.json);
 * - an update / replace / delete plan: the state stack's create plan turned into a local state file (as if
 *   applied), the configuration then changed, and `terraform plan -refresh=false` run against it. No AWS call is
 *   needed because nothing is refreshed. The result is what `terraform show -json` prints, byte for byte.
 * With REVIEW_WRITE_FIXTURES=1 the second plan is also written to test/unit/review/fixtures/, where the unit
 * tests read it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../config/load';
import { findRisks } from '../../review/risks';
import { summarizePlan, type PlanJson } from '../../review/plan';
import { renderMarkdown } from '../../review/render';
import type { Review } from '../../review/types';
import { synthesize } from '../../stacks/synth';
import { resourcesOf, type SynthesizedStack, type TerraformJson } from '../../shared/terraform-json';
import { offlineCopy, offlineEnv, TERRAFORM, terraformUnavailableReason, WORK_ROOT } from '../harness/terraform';
import { describeTier } from '../support/tier';

jest.setTimeout(10 * 60_000);
const run = promisify(execFile);

function review(plans: Review['plans']): Review {
  return {
    head: { label: 'HEAD' }, stacks: [], plans, risks: findRisks(plans), warnings: [], timings: {},
    guardrails: { available: false, reason: 'not part of this test', new: [], fixed: [], remaining: [], suppressed: [] },
  };
}

/** A v4 state holding what a create plan would have made, with ids filled in (plan leaves them unknown). */
function stateFromPlan(plan: PlanJson): object {
  const planned = (plan.planned_values as { root_module: { resources: Array<{ type: string; name: string; schema_version: number; values: Record<string, unknown> }> } }).root_module.resources;
  const bucket = String(planned.find((r) => r.type === 'aws_s3_bucket')!.values.bucket);
  return {
    version: 4, terraform_version: '1.11.4', serial: 1, lineage: 'review-fixture', outputs: { state_bucket: { value: bucket, type: 'string' } },
    resources: planned.map((r) => ({
      mode: 'managed', type: r.type, name: r.name, provider: 'provider["registry.terraform.io/hashicorp/aws"]',
      instances: [{ schema_version: r.schema_version, sensitive_attributes: [],
        attributes: { ...r.values, id: bucket, ...(r.type === 'aws_s3_bucket' ? { arn: `arn:aws:s3:::${bucket}` } : { bucket }) } }],
    })),
  };
}

/** init → plan → show -json in `dir` (this file's own directories: the tier's plan.test.ts may run in parallel). */
async function planIn(dir: string, json: TerraformJson, args: string[] = []): Promise<PlanJson> {
  writeFileSync(path.join(dir, 'cdk.tf.json'), JSON.stringify(json, null, 2));
  const env = offlineEnv();
  const tf = (a: string[]) => run(TERRAFORM, [`-chdir=${dir}`, ...a], { env, maxBuffer: 64 * 1024 * 1024 });
  await tf(['init', '-input=false', '-no-color']);
  await tf(['plan', ...args, '-input=false', '-no-color', '-lock=false', '-out=plan.bin']);
  const { stdout } = await tf(['show', '-json', 'plan.bin']);
  writeFileSync(path.join(dir, 'plan.json'), stdout); // docs/review.md summarizes this file
  return JSON.parse(stdout) as PlanJson;
}

function freshDir(name: string): string {
  const dir = path.join(WORK_ROOT, name);
  for (const entry of ['cdk.tf.json', 'terraform.tfstate', 'plan.bin', 'plan.json']) rmSync(path.join(dir, entry), { force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

describeTier('terraform tier: review of real plans', terraformUnavailableReason(), () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-review-synth-'));
  let stacks: SynthesizedStack[];
  let created: PlanJson;
  let changed: PlanJson;

  beforeAll(async () => {
    stacks = synthesize(loadConfig(), outdir);
    const state = stacks.find((s) => s.name === 'state')!;
    const createDir = freshDir('review-create');
    const json = offlineCopy(state, stacks, createDir);
    let started = Date.now();
    created = await planIn(createDir, json);
    process.stderr.write(`review tier: create plan in ${Date.now() - started} ms\n`);

    // Apply "for real" as far as offline allows: the create plan becomes the state, then the config changes.
    const seeded = freshDir('review-seeded-state');
    writeFileSync(path.join(seeded, 'terraform.tfstate'), JSON.stringify(stateFromPlan(created)));
    const r = json.resource!;
    for (const pab of Object.values(r.aws_s3_bucket_public_access_block)) Object.assign(pab, { block_public_acls: false, restrict_public_buckets: false });
    for (const own of Object.values(r.aws_s3_bucket_ownership_controls)) own.bucket = 'ziggie-other-bucket'; // forces replacement
    delete r.aws_s3_bucket_versioning; // destroyed: no longer in the configuration
    for (const pol of Object.values(r.aws_s3_bucket_policy)) {
      const doc = JSON.parse(String(pol.policy)) as { Statement: unknown[] };
      doc.Statement.push({ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::ziggie-terraform-state-eu-north-1/*' });
      pol.policy = JSON.stringify(doc);
    }
    json.output!.state_bucket = { value: 'renamed-output-value' };
    started = Date.now();
    changed = await planIn(seeded, json, ['-refresh=false']);
    process.stderr.write(`review tier: seeded-state plan in ${Date.now() - started} ms\n`);
    if (process.env.REVIEW_WRITE_FIXTURES === '1') {
      const fixture = path.join(__dirname, '../unit/review/fixtures/plan-update-replace-delete.json');
      writeFileSync(fixture, `${JSON.stringify({ ...changed, timestamp: 'fixture' }, null, 1)}\n`);
    }
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('the real create plan summarizes as one create per synthesized resource, outputs included', () => {
    const s = summarizePlan('state', created);
    const state = stacks.find((x) => x.name === 'state')!;
    expect(s.changes.map((c) => c.address).sort()).toEqual(resourcesOf(state).map((r) => r.address).sort());
    expect(new Set(s.changes.map((c) => c.action))).toEqual(new Set(['create']));
    expect(s.outputs).toEqual([expect.objectContaining({ name: 'state_bucket', action: 'create', after: 'ziggie-terraform-state-eu-north-1' })]);
    const bucket = s.changes.find((c) => c.type === 'aws_s3_bucket')!;
    expect(bucket.attributes).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'arn', after: '(known after apply)' })]));
    const md = renderMarkdown(review([s]));
    expect(md).toContain('### Terraform plan');
    expect(md).toMatch(/\+6 ~0 ±0 −0/);
  });

  test('a real update / replace / delete plan: actions, reasons, replace paths, outputs and risks', () => {
    const s = summarizePlan('state', changed);
    const by = (type: string) => s.changes.find((c) => c.type === type)!;
    expect(by('aws_s3_bucket_public_access_block').action).toBe('update');
    expect(by('aws_s3_bucket_ownership_controls')).toMatchObject({ action: 'replace', reason: 'a changed attribute cannot be updated in place', replacePaths: ['bucket'] });
    expect(by('aws_s3_bucket_versioning')).toMatchObject({ action: 'delete', reason: 'no longer in the configuration' });
    expect(by('aws_s3_bucket_policy').attributes[0].documentDiff).toMatch(/\+\s+"Principal": "\*"/);
    expect(s.unchanged).toBe(2); // the bucket and its encryption: no-op
    expect(s.outputs).toEqual([{ name: 'state_bucket', action: 'update', before: 'ziggie-terraform-state-eu-north-1', after: 'renamed-output-value', sensitive: false }]);

    const risks = findRisks([s]);
    const kinds = risks.map((r) => `${r.severity} ${r.kind} ${r.address.split('.')[0]}`);
    expect(kinds).toEqual(expect.arrayContaining([
      'high public-access aws_s3_bucket_public_access_block',
      'high iam-widening aws_s3_bucket_policy',
      'medium bucket-policy aws_s3_bucket_policy',
      'medium replacement aws_s3_bucket_ownership_controls',
      'medium deletion aws_s3_bucket_versioning',
    ]));
    const md = renderMarkdown(review([s]));
    expect(md).toMatch(/because a changed attribute cannot be updated in place · replace paths: `bucket`/);
    expect(md).toContain('+0 ~2 ±1 −1, 1 output change · 2 unchanged');
  });
});
