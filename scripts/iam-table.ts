// `npm run iam:table [-- --check]`: simulate every identity of the synthesized stacks against the expectation table
// (iam/expectations.ts) and the commands' declared calls, and regenerate docs/iam.md. Exits 1 when a request is not
// decided as expected, when an attachment names an identity no stack creates, or (--check) when the file is stale.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigOrExit } from '../config/cli';
import { configPath } from '../config/load';
import { iamReport } from '../iam/report';
import { synthesize } from '../stacks/synth';

const DOC = path.join(__dirname, '../docs/iam.md');
const file = configPath();
const config = loadConfigOrExit(file);
const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-iam-'));

async function main(): Promise<void> {
  const { iam, outcomes, markdown } = await iamReport(config, synthesize(config, outdir), path.relative(process.cwd(), file) || file);
  const wrong = outcomes.filter((o) => !o.ok);
  for (const o of wrong) {
    console.error(`NOT AS EXPECTED  ${o.row.section}: ${o.row.label}${o.row.from ? ` from ${o.row.from}` : ''} — expected ${o.row.expect}, `
      + `${o.decision ? `simulated ${o.decision.verdict} (${o.decision.deciding})` : o.problem}`);
  }
  for (const p of iam.problems) console.error(`PROBLEM  ${p}`);
  console.log(`${iam.identities.length} identities, ${iam.resourcePolicies.length} resource policies, ${outcomes.length} requests simulated, `
    + `${wrong.length} not as expected, ${iam.problems.length} problems`);
  if (wrong.length > 0 || iam.problems.length > 0) process.exitCode = 1;
  if (process.argv.includes('--check')) {
    const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
    if (current !== markdown) {
      console.error('docs/iam.md is stale: run `npm run iam:table` and commit it');
      process.exitCode = 1;
    } else console.log('docs/iam.md is up to date');
  } else {
    writeFileSync(DOC, markdown);
    console.log(`wrote ${path.relative(process.cwd(), DOC)}`);
  }
}

main()
  .catch((e: unknown) => {
    console.error(`iam:table: ${(e as Error).message ?? e}`);
    process.exitCode = 2;
  })
  .finally(() => rmSync(outdir, { recursive: true, force: true }));
