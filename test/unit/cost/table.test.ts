import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../config/load';
import { buildCostTable, SEED_PLAN } from '../../../cost/table';
import { synthesize } from '../../../stacks/synth';

jest.setTimeout(60_000);

describe('docs/cost.md generator', () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-cost-table-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('reproduces the seed plan\'s scenarios beside its figures, and on-demand GPU hours land in or near its ranges', () => {
    const config = loadConfig();
    const { markdown, rows } = buildCostTable(config, synthesize(config, outdir), 'config/ziggie.example.yaml');
    expect(rows.map((r) => [r.scenario.gpuHoursPerDay, r.scenario.gpuPurchase])).toEqual([[2, 'spot'], [4, 'spot'], [8, 'spot'], [24, 'on-demand']]);
    for (const figure of SEED_PLAN.map((s) => s.figure)) expect(markdown).toContain(`**${figure}**`);
    for (const r of rows) {
      // The seed plan priced GPU hours on-demand: its ranges hold the on-demand figure within ~10%.
      expect(r.onDemand.totalUsd).toBeGreaterThanOrEqual(r.seed.low * 0.9);
      if (Number.isFinite(r.seed.high)) expect(r.onDemand.totalUsd).toBeLessThanOrEqual(r.seed.high * 1.1);
      expect(r.estimate.totalUsd).toBeLessThanOrEqual(r.onDemand.totalUsd);
    }
    expect(rows[3].estimate.totalUsd).toBeGreaterThan(400);
    for (const section of ['## The seed plan\'s scenarios, line by line', '## Why the figures differ', '## Prices used', 'Hostinger VPS (fixed)', 'Same usage, GPU on-demand']) {
      expect(markdown).toContain(section);
    }
    expect(markdown).toMatch(/`ec2\.on-demand\.g4dn\.xlarge` \| 0\.558 \| instance-hour \| search \| \[.*\]\(https:\/\/aws\.amazon\.com\/ec2\/pricing\/on-demand\/\) \d{4}-\d\d-\d\d/);
  });

  test('docs/cost.md is what the generator makes today (run `npm run cost:table` after changing stacks or prices)', () => {
    const config = loadConfig();
    const { markdown } = buildCostTable(config, synthesize(config, outdir), 'config/ziggie.example.yaml');
    expect(readFileSync(path.join(__dirname, '../../../docs/cost.md'), 'utf8')).toBe(markdown);
  });
});
