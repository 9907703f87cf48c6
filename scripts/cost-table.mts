// `npm run cost:table [-- --check]`: regenerate docs/cost.md (the seed plan's scenarios, line by line) from the
// synthesized stacks, the config and cost/prices.<region>.json. `--check` changes nothing and exits 1 when the
// file is stale.
import { cliProgram, exitWith, runProgram } from '../shared/cli.js';

const program = cliProgram('cost:table', 'Regenerate docs/cost.md from the synthesized stacks, the config ($ZIGGIE_CONFIG) and the price book')
  .option('--check', 'write nothing; exit 1 when docs/cost.md is stale')
  .action(async (o: { check?: boolean }) => {
    const [{ mkdtempSync, rmSync }, os, path] = await Promise.all([import('node:fs'), import('node:os'), import('node:path')]);
    const [{ loadConfigOrExit }, { configPath }, { writeOrCheck }] = await Promise.all([import('../config/cli.js'), import('./lib/paths.js'), import('./lib/generated-file.js')]);
    const file = configPath();
    const config = loadConfigOrExit(file);
    const [{ buildCostTable }, { synthesize }] = await Promise.all([import('../cost/table.js'), import('../stacks/synth.js')]);
    const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-cost-'));
    try {
      const stacks = synthesize(config, outdir);
      const { markdown, rows } = buildCostTable(config, stacks, path.relative(process.cwd(), file) || file);
      for (const r of rows) {
        console.log(`${r.scenario.name.padEnd(10)} ${String(r.scenario.gpuHoursPerDay).padStart(2)} h/day ${r.scenario.gpuPurchase.padEnd(9)} $${r.estimate.totalUsd.toFixed(2).padStart(7)}  (on-demand GPU $${r.onDemand.totalUsd.toFixed(2)}; seed plan ${r.seed.figure})`);
      }
      if (!writeOrCheck('docs/cost.md', markdown, { check: o.check, command: 'npm run cost:table' })) process.exitCode = 1;
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

await exitWith(await runProgram(program, process.argv));
