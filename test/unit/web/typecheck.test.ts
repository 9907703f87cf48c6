/** The browser code (web/app, DOM types) is type-checked with its own tsconfig: the root one has no DOM lib. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

test('web/app type-checks against the DOM lib (tsc -p web/app)', () => {
  const root = path.join(__dirname, '../../..');
  const run = () => execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', 'web/app'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
  expect(run).not.toThrow();
}, 120_000);
