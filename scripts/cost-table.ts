// `npm run cost:table [-- --check]`: regenerate docs/cost.md (the seed plan's scenarios, line by line) from the
// synthesized stacks, the config and cost/prices.<region>.json. `--check` exits 1 when the file is stale.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigOrExit } from '../config/cli';
import { configPath } from '../config/load';
import { buildCostTable } from '../cost/table';
import { synthesize } from '../stacks/synth';

const DOC = path.join(__dirname, '../docs/cost.md');
const file = configPath();
const config = loadConfigOrExit(file);
const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-cost-'));
try {
  const stacks = synthesize(config, outdir);
  const { markdown, rows } = buildCostTable(config, stacks, path.relative(process.cwd(), file) || file);
  for (const r of rows) {
    console.log(`${r.scenario.name.padEnd(10)} ${String(r.scenario.gpuHoursPerDay).padStart(2)} h/day ${r.scenario.gpuPurchase.padEnd(9)} $${r.estimate.totalUsd.toFixed(2).padStart(7)}  (on-demand GPU $${r.onDemand.totalUsd.toFixed(2)}; seed plan ${r.seed.figure})`);
  }
  if (process.argv.includes('--check')) {
    const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
    if (current !== markdown) {
      console.error('docs/cost.md is stale: run `npm run cost:table` and commit it');
      process.exitCode = 1;
    } else console.log('docs/cost.md is up to date');
  } else {
    writeFileSync(DOC, markdown);
    console.log(`wrote ${path.relative(process.cwd(), DOC)}`);
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
