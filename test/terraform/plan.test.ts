import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import { synthesize } from '../../stacks/synth';
import { resourcesOf, type SynthesizedStack } from '../../stacks/terraform-json';
import { type OfflinePlan, planAllOffline, terraformUnavailableReason } from '../harness/terraform';
import { describeTier } from '../support/tier';

jest.setTimeout(15 * 60_000);

describeTier('terraform tier', terraformUnavailableReason(), () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-synth-'));
  let stacks: SynthesizedStack[];
  let plans: OfflinePlan[];

  beforeAll(async () => {
    stacks = synthesize(loadConfig(), outdir);
    plans = await planAllOffline(stacks);
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
});
