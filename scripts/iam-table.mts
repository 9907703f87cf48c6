// `npm run iam:table [-- --check]`: simulate every identity of the synthesized stacks against the expectation table
// (iam/expectations.ts) and the commands' declared calls, and regenerate docs/iam.md. Exits 1 when a request is not
// decided as expected, when an attachment names an identity no stack creates, or (--check) when the file is stale.
import { cliProgram, exitWith, runProgram } from '../shared/cli.js';

const program = cliProgram('iam:table', 'Simulate every IAM identity of the synthesized stacks (config: $ZIGGIE_CONFIG) and regenerate docs/iam.md')
  .option('--check', 'write nothing; exit 1 when docs/iam.md is stale')
  .action(async (o: { check?: boolean }) => {
    const [{ mkdtempSync, rmSync }, os, path] = await Promise.all([import('node:fs'), import('node:os'), import('node:path')]);
    const [{ loadConfigOrExit }, { configPath }, { writeOrCheck }] = await Promise.all([import('../config/cli.js'), import('./lib/paths.js'), import('./lib/generated-file.js')]);
    const file = configPath();
    const config = loadConfigOrExit(file);
    const [{ iamReport }, { synthesize }] = await Promise.all([import('../iam/report.js'), import('../stacks/synth.js')]);
    const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-iam-'));
    try {
      const { iam, outcomes, markdown } = await iamReport(config, synthesize(config, outdir), path.relative(process.cwd(), file) || file);
      const wrong = outcomes.filter((x) => !x.ok);
      for (const x of wrong) {
        console.error(`NOT AS EXPECTED  ${x.row.section}: ${x.row.label}${x.row.from ? ` from ${x.row.from}` : ''} — expected ${x.row.expect}, `
          + `${x.decision ? `simulated ${x.decision.verdict} (${x.decision.deciding})` : x.problem}`);
      }
      for (const p of iam.problems) console.error(`PROBLEM  ${p}`);
      console.log(`${iam.identities.length} identities, ${iam.resourcePolicies.length} resource policies, ${outcomes.length} requests simulated, `
        + `${wrong.length} not as expected, ${iam.problems.length} problems`);
      if (wrong.length > 0 || iam.problems.length > 0) process.exitCode = 1;
      if (!writeOrCheck('docs/iam.md', markdown, { check: o.check, command: 'npm run iam:table' })) process.exitCode = 1;
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

await exitWith(await runProgram(program, process.argv));
