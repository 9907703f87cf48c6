// `npm start`: synthesize every stack from the config offline and print what it would create, its monthly cost
// and the guardrail report; ends with a RESULT line. A guardrail failure exits 1 (after the RESULT line).
import { cliProgram, exitWith, runProgram } from '../shared/cli.js';

const program = cliProgram('start', 'Synthesize every stack offline from the config ($ZIGGIE_CONFIG or config/ziggie.example.yaml): resources, monthly cost, guardrails')
  .addHelpText('after', '\nEnvironment: ZIGGIE_CONFIG (config file), CDKTF_OUTDIR (default cdktf.out)')
  .action(async () => {
    const [{ loadConfigOrExit }, { configPath }] = await Promise.all([import('../config/cli.js'), import('../config/load.js')]);
    const file = configPath();
    const config = loadConfigOrExit(file);
    const [{ synthesizeWithGuardrails }, { resourcesOf }, { formatResourceSummary }, { estimateStacks, formatTotal }, { formatGuardrailReport }] = await Promise.all([
      import('../stacks/synth.js'), import('../shared/terraform-json.js'), import('./lib/summary.js'),
      import('../cost/estimate.js'), import('../guardrails/index.js'),
    ]);
    const outdir = process.env.CDKTF_OUTDIR ?? 'cdktf.out';
    const started = Date.now();
    // The guardrails run once, as the app's validation inside synth (stacks/guardrail-validation.ts).
    const { stacks, guardrails } = synthesizeWithGuardrails(config, outdir);
    const resources = stacks.flatMap(resourcesOf);
    const where = file.startsWith(process.cwd() + '/') ? file.slice(process.cwd().length + 1) : file;
    console.log(`ziggie-infra: ${where} → ${outdir}/stacks (synth ${Date.now() - started} ms)\n`);
    console.log(formatResourceSummary(stacks));

    const result: Record<string, string | number> = { stacks: stacks.length, resources: resources.length };
    const cost = estimateStacks(stacks, config); // the config's default scenario (cost/, docs/cost.md)
    console.log(`monthly cost, scenario ${cost.scenario.name}: ${formatTotal(cost.totalUsd, cost.unpriced)} (${[...cost.lines.map((l) => `${l.label} $${l.monthlyUsd.toFixed(2)}`), ...cost.unpriced.map((u) => `${u} unpriced`)].join(', ')})\n`);
    // A lower bound is marked as one (`12.34+unpriced`), never a bare figure that reads as the whole cost.
    result.monthly_usd = `${cost.totalUsd.toFixed(2)}${cost.unpriced.length ? '+unpriced' : ''}`;
    console.log(`${formatGuardrailReport(guardrails)}\n`);
    result.guardrail_failures = guardrails.failures.length;
    console.log(`RESULT ${Object.entries(result).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    // The RESULT line is printed first; a guardrail failure then fails the command.
    if (guardrails.failures.length > 0) process.exitCode = 1;
  });

await exitWith(await runProgram(program, process.argv));
