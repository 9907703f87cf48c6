// `npm start`: synthesize every stack from the config offline and print what it would create.
import { loadConfigOrExit } from '../config/cli';
import { configPath } from '../config/load';
import { synthesizeWithGuardrails } from '../stacks/synth';
import { resourcesOf } from '../shared/terraform-json';
import { formatResourceSummary } from './lib/summary';
import { estimateStacks } from '../cost/estimate';
import { formatGuardrailReport } from '../guardrails';

const file = configPath();
const config = loadConfigOrExit(file);
const outdir = process.env.CDKTF_OUTDIR ?? 'cdktf.out';
const started = Date.now();
// The guardrails run once, as the app's validation inside synth (stacks/guardrail-validation.ts).
const { stacks, guardrails } = synthesizeWithGuardrails(config, outdir);
const resources = stacks.flatMap(resourcesOf);

console.log(`ziggie-infra: ${path(file)} → ${outdir}/stacks (${Date.now() - started} ms)\n`);
console.log(formatResourceSummary(stacks));

const result: Record<string, string | number> = { stacks: stacks.length, resources: resources.length };
const cost = estimateStacks(stacks, config); // the config's default scenario (cost/, docs/cost.md)
console.log(`monthly cost, scenario ${cost.scenario.name}: $${cost.totalUsd.toFixed(2)} (${cost.lines.map((l) => `${l.label} $${l.monthlyUsd.toFixed(2)}`).join(', ')})\n`);
result.monthly_usd = cost.totalUsd.toFixed(2);
console.log(`${formatGuardrailReport(guardrails)}\n`);
result.guardrail_failures = guardrails.failures.length;
console.log(`RESULT ${Object.entries(result).map(([k, v]) => `${k}=${v}`).join(' ')}`);

// The RESULT line is printed first; a guardrail failure then fails the command.
if (guardrails.failures.length > 0) process.exitCode = 1;

function path(p: string): string {
  return p.startsWith(process.cwd() + '/') ? p.slice(process.cwd().length + 1) : p;
}
