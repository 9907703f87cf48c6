// The CDKTF app: `cdktf synth|diff|deploy` runs this (cdktf.json), and so does `npm start` (scripts/start.ts).
// The guardrails are the app's validation: a failing one prints its findings and refuses the synth.
import { loadConfigOrExit } from './config/cli';
import { formatFailure } from './guardrails';
import { buildApp } from './stacks/app';
import { GUARDRAIL_EXIT_CODE } from './stacks/guardrail-validation';

const { app, guardrails } = buildApp(loadConfigOrExit(), process.env.CDKTF_OUTDIR ?? 'cdktf.out');
try {
  app.synth();
} catch (err) {
  if (!guardrails.failed) throw err;
  const { failures } = guardrails.report!;
  process.stderr.write(`guardrails: ${failures.length} failure${failures.length === 1 ? '' : 's'}, synth refused `
    + `(docs/guardrails.md; a justified exception goes in guardrails/suppressions.ts)\n${failures.map(formatFailure).join('\n')}\n`);
  process.exit(GUARDRAIL_EXIT_CODE);
}
