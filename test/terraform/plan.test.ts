import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import { synthesize } from '../../stacks/synth';
import { resourcesOf, type SynthesizedStack } from '../../shared/terraform-json';
import { type OfflinePlan, planAllOffline, terraformUnavailableReason } from '../harness/terraform';
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
      process.stderr.write(`terraform tier: ${p.stack}: init ${t.init} ms, validate ${t.validate} ms, plan ${t.plan} ms\n`);
    }
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('every stack validates with no errors and no warnings about unknown arguments', () => {
    for (const p of plans) {
      expect({ stack: p.stack, errors: p.validate.diagnostics.filter((d) => d.severity === 'error') })
        .toEqual({ stack: p.stack, errors: [] });
      expect(p.validate.valid).toBe(true);
    }
  });

  test('every stack plans offline and the plan creates exactly the synthesized resources', () => {
    for (const p of plans) {
      const stack = stacks.find((s) => s.name === p.stack)!;
      const planned = (p.plan.resource_changes ?? []).filter((c) => !c.address.startsWith('data.'));
      expect(planned.map((c) => c.address).sort()).toEqual(resourcesOf(stack).map((r) => r.address).sort());
      expect(planned.every((c) => c.change.actions.join() === 'create')).toBe(true);
    }
  });

  test('the secret canary is in no synthesized file, no offline copy and no plan JSON', () => {
    const files = [...filesUnder(outdir), ...plans.flatMap((p) => filesUnder(p.dir))];
    expect(files.filter((f) => f.endsWith('plan.json'))).toHaveLength(plans.length);
    expect(files.filter((f) => readFileSync(f).includes(CANARY))).toEqual([]);
    expect(plans.filter((p) => JSON.stringify(p.plan).includes(CANARY)).map((p) => p.stack)).toEqual([]);
  });

  test('every stack is planned: none skipped', () => {
    expect(plans.map((p) => p.stack).sort()).toEqual(stacks.map((s) => s.name).sort());
    for (const name of ['state', 'network', 'storage', 'secrets', 'iam', 'audit', 'budgets']) expect(plans.map((p) => p.stack)).toContain(name);
  });
});
