// `npm run review -- --base origin/main [--plan plan.json] [--json] [--fail-on new-guardrail|never|any-risk]`
// Markdown for a PR comment: what Terraform will change, which guardrails break, what it costs. Offline.
// Exit 0 no blocking finding, 1 findings per --fail-on, 2 the review itself could not run (usage, config, git).
import { Option } from 'commander';
import { cliProgram, exitWith, runProgram } from '../shared/cli.js';

interface ReviewOptions {
  base?: string; plan: string[]; scenario?: string; freeTier: boolean; synth: boolean; json?: boolean; output?: string;
  failOn: 'new-guardrail' | 'any-risk' | 'never'; repo: string;
}

const program = cliProgram('review', 'Review infrastructure changes: synth diff (base → head), real terraform plans, guardrails, monthly cost.')
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
  .action(async (o: ReviewOptions) => {
    if (!o.base && o.plan.length === 0 && o.synth) {
      process.stderr.write('review: nothing to compare: give --base <ref> and/or --plan <file> (head alone is reviewed with --base HEAD)\n');
    }
    const [{ writeFileSync }, { exitCodeFor, runReview }, { repoRoot }, { planArgument }, { renderJson, renderMarkdown }] = await Promise.all([
      import('node:fs'), import('../review/index.js'), import('../review/checkout.js'), import('../review/plan.js'), import('../review/render.js'),
    ]);
    const repo = await repoRoot(o.repo);
    const review = await runReview({
      repo, base: o.base, plans: o.plan.map(planArgument), scenario: o.scenario, freeTier: o.freeTier, skipSynth: !o.synth,
    });
    const text = o.json ? renderJson(review) : renderMarkdown(review);
    process.stdout.write(`${text}\n`);
    if (o.output) writeFileSync(o.output, `${text}\n`);
    const code = exitCodeFor(review, o.failOn);
    process.stderr.write(`review: ${review.guardrails.new.length} new guardrail failure(s), ${review.risks.filter((r) => r.severity === 'high').length} high risk(s); --fail-on ${o.failOn} → exit ${code} (${review.timings.total_ms} ms)\n`);
    process.exitCode = code;
  });

let code: number;
try {
  code = await runProgram(program, process.argv);
} catch (e) {
  // the review itself could not run: a config, git or plan problem, one line
  process.stderr.write((e as Error)?.name === 'ConfigError' ? `${(e as Error).message}\n` : `review: ${(e as Error).message}\n`);
  code = 2;
}
await exitWith(code);
