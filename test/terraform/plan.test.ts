import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import { synthesize } from '../../stacks/synth';
import { resourcesOf, type SynthesizedStack } from '../../shared/terraform-json';
import { type OfflinePlan, planAllOffline, planOffline, savedPlanEntries, terraformUnavailableReason } from '../harness/terraform';
import { describeTier } from '../support/tier';
import { filesUnder } from '../unit/stacks/helpers';

jest.setTimeout(15 * 60_000);

/**
 * A unique secret-looking value put where a user might try to pass a secret to Terraform: environment variables
 * (the harness also strips TF_VAR_* and AWS_* before running terraform) and a container's env in the config.
 * It must appear in no synthesized file and no plan.
 */
const CANARY = `sk-ziggie-canary-${randomUUID().replace(/-/g, '')}`;
const CANARY_ENV = ['ZIGGIE_SECRET_OPENAI_API_KEY', 'TF_VAR_openai_api_key', 'OPENAI_API_KEY'];


describeTier('terraform tier', terraformUnavailableReason(), () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-synth-'));
  let stacks: SynthesizedStack[];
  let plans: OfflinePlan[];

  beforeAll(async () => {
    const saved = CANARY_ENV.map((n) => process.env[n]);
    for (const n of CANARY_ENV) process.env[n] = CANARY;
    try {
      const config = loadConfig();
      config.containers[0].env.LEAKED_API_KEY = CANARY;
      stacks = synthesize(config, outdir);
      plans = await planAllOffline(stacks);
    } finally {
      CANARY_ENV.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
    }
    for (const p of plans) {
      const t = p.timings;
      process.stderr.write(`terraform tier: ${p.stack}: init ${t.init} ms, plan (validate included) ${t.plan} ms\n`);
    }
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('every stack validates and plans with no error', () => {
    for (const p of plans) {
      expect({ stack: p.stack, exitCode: p.exitCode, errors: p.diagnostics.filter((d) => d.severity === 'error') })
        .toEqual({ stack: p.stack, exitCode: 0, errors: [] });
      for (const w of p.diagnostics.filter((d) => d.severity !== 'error')) {
        process.stderr.write(`terraform tier: ${p.stack}: ${w.severity}: ${w.summary} (${w.address ?? ''}) ${w.detail ?? ''}\n`);
      }
    }
  });

  test('every stack plans offline and the plan creates exactly the synthesized resources', () => {
    for (const p of plans) {
      const stack = stacks.find((s) => s.name === p.stack)!;
      const planned = p.changes.filter((c) => !c.address.startsWith('data.'));
      expect(planned.map((c) => c.address).sort()).toEqual(resourcesOf(stack).map((r) => r.address).sort());
      expect(planned.every((c) => c.action === 'create')).toBe(true);
    }
  });

  test('the secret canary is in no synthesized file, no offline copy and no saved plan', () => {
    const files = [...filesUnder(outdir), ...plans.flatMap((p) => filesUnder(p.dir))];
    expect(files.filter((f) => readFileSync(f).includes(CANARY))).toEqual([]);
    // The saved plan is a zip: search its uncompressed entries (planned values, config, state) byte for byte.
    const entries = plans.map((p) => ({ stack: p.stack, entries: savedPlanEntries(p.planFile) }));
    for (const { entries: e } of entries) expect(e.map((x) => x.name)).toEqual(expect.arrayContaining(['tfplan', 'tfstate']));
    expect(entries.flatMap(({ stack, entries: e }) => e.filter((x) => x.data.includes(CANARY)).map((x) => `${stack}:${x.name}`))).toEqual([]);
  });

  test('the canary search reads the saved plan: a value in the configuration is found in tfplan', () => {
    // Proves the byte search above can fail: the state stack's bucket name is a planned value.
    const state = plans.find((p) => p.stack === 'state')!;
    const tfplan = savedPlanEntries(state.planFile).find((x) => x.name === 'tfplan')!;
    expect(tfplan.data.includes('ziggie-terraform-state-eu-north-1')).toBe(true);
  });

  test('the plan validates: an unknown argument fails it with a diagnostic naming the resource', async () => {
    const state = stacks.find((s) => s.name === 'state')!;
    const json = structuredClone(state.json);
    const [bucket] = Object.values(json.resource!.aws_s3_bucket);
    bucket.bucket_prefx = 'typo';
    const bad = await planOffline({ ...state, name: 'invalid-state', json }, stacks);
    expect(bad.exitCode).not.toBe(0);
    // JSON configuration: terraform calls it an "Extraneous JSON object property".
    expect(bad.diagnostics).toEqual([expect.objectContaining({ severity: 'error', summary: 'Extraneous JSON object property' })]);
    expect(bad.diagnostics[0].detail).toContain('bucket_prefx');
  });

  test('every stack is planned: none skipped', () => {
    expect(plans.map((p) => p.stack).sort()).toEqual(stacks.map((s) => s.name).sort());
    for (const name of ['state', 'network', 'storage', 'secrets', 'iam', 'audit', 'budgets']) expect(plans.map((p) => p.stack)).toContain(name);
  });
});
