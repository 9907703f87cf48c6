// `npm run review -- --base origin/main [--plan plan.json] [--json] [--fail-on new-guardrail|never|any-risk]`
// Markdown for a PR comment: what Terraform will change, which guardrails break, what it costs. Offline.
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/load';
import { exitCodeFor, type FailOn, runReview } from '../review';
import { repoRoot } from '../review/checkout';
import { planArgument } from '../review/plan';
import { renderJson, renderMarkdown } from '../review/render';

const program = new Command('review')
  .description('Review infrastructure changes: synth diff (base → head), real terraform plans, guardrails, monthly cost.')
  .option('--base <ref>', 'git ref to compare against (synthesized in a worktree with its own code and config)')
  .option('--plan <file>', 'a `terraform show -json` plan; repeatable; `stack=file`, or the stack is the file\'s directory or `<stack>.plan.json`',
    (value: string, prev: string[]) => [...prev, value], [] as string[])
  .option('--scenario <name>', 'usage scenario for the cost headline (default: the config\'s default)')
  .option('--no-free-tier', 'do not apply AWS always-free allowances in the cost estimate')
  .option('--no-synth', 'plans only: do not synthesize head (no guardrails, no cost)')
  .option('--json', 'print the review as JSON instead of markdown')
  .option('-o, --output <file>', 'also write the markdown (or JSON) to this file')
  .addOption(new Option('--fail-on <when>', 'exit 1 on: new guardrail failures (default), any medium/high risk or new failure, or never')
    .choices(['new-guardrail', 'any-risk', 'never']).default('new-guardrail'))
  .option('-C, --repo <dir>', 'repository to review (default: the current one)', '.')
  .showHelpAfterError()
  // Usage errors exit 2 like every other failure of the review itself; exit 1 is reserved for findings.
  .exitOverride();

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<{ base?: string; plan: string[]; scenario?: string; freeTier: boolean; synth: boolean; json?: boolean; output?: string; failOn: FailOn; repo: string }>();
  if (!o.base && o.plan.length === 0 && o.synth) {
    process.stderr.write('review: nothing to compare: give --base <ref> and/or --plan <file> (head alone is reviewed with --base HEAD)\n');
  }
  const repo = await repoRoot(o.repo);
  const review = await runReview({
    repo,
    base: o.base,
    plans: o.plan.map(planArgument),
    scenario: o.scenario,
    freeTier: o.freeTier,
    skipSynth: !o.synth,
  });
  const text = o.json ? renderJson(review) : renderMarkdown(review);
  process.stdout.write(`${text}\n`);
  if (o.output) writeFileSync(o.output, `${text}\n`);
  const code = exitCodeFor(review, o.failOn);
  process.stderr.write(`review: ${review.guardrails.new.length} new guardrail failure(s), ${review.risks.filter((r) => r.severity === 'high').length} high risk(s); --fail-on ${o.failOn} → exit ${code} (${review.timings.total_ms} ms)\n`);
  return code;
}

main().then((code) => process.exit(code), (err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2); // commander printed the message
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`review: ${(err as Error).message}\n`);
  process.exit(2);
});
