import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The layer rules of .dependency-cruiser.cjs, run by the real depcruise over a small tree that breaks each rule once
// beside edges that are allowed: every rule must fire on its edge, and nothing else may be flagged.
const REPO = path.resolve(__dirname, '../../..');
const DEPCRUISE = path.join(REPO, 'node_modules/.bin/depcruise');

const TREE: Record<string, string> = {
  // allowed: each layer importing the one below it, tests importing anything
  'main.ts': "import { app } from './stacks/app';\nexport const main = app;\n",
  'scripts/run.ts': "import { tool } from '../ops/tool';\nexport const run = tool;\n",
  'ops/tool.ts': "import { book } from '../playbooks/book';\nexport const tool = book;\n",
  'playbooks/book.ts': "import { lib } from '../provision/lib';\nexport const book = lib;\n",
  'stacks/app.ts': "import { part } from '../modules/part';\nexport const app = part;\n",
  'modules/part.ts': "import { bundle } from '../lambda/bundle';\nexport const part = bundle;\n",
  'lambda/bundle.ts': "import { core } from '../gpu-control/core';\nexport const bundle = core;\n",
  'gpu-control/core.ts': "import { names } from '../shared/names';\nexport const core = names;\n",
  'provision/lib.ts': "import { names } from '../shared/names';\nexport const lib = names;\n",
  'shared/names.ts': "import type { Config } from '../config/schema';\nexport const names = (c: Config) => c.project;\n",
  'config/schema.ts': 'export interface Config { project: string }\n',
  'package.json': '{ "name": "fixture", "version": "1.0.0" }\n',
  'ops/version.ts': "import pkg from '../package.json';\nexport const version = pkg.version;\n",
  'test/harness/h.ts': 'export const h = 1;\n',
  'test/unit/x.test.ts': "import { h } from '../harness/h';\nimport { tool } from '../../ops/tool';\nexport const x = [h, tool];\n",
  // one violation per rule
  'review/r.ts': "import { entry } from '../scripts/entry';\nexport const r = entry;\n",
  'scripts/entry.ts': 'export const entry = 1;\n',
  'stacks/bad.ts': "import { leaf } from '../ops/leaf';\nexport const bad = leaf;\n",
  'ops/leaf.ts': 'export const leaf = 1;\n',
  'modules/bad.ts': "import { leaf } from '../stacks/leaf';\nexport const bad = leaf;\n",
  'stacks/leaf.ts': 'export const leaf = 1;\n',
  'guardrails/bad.ts': "import { leaf } from '../modules/leaf';\nexport const bad = leaf;\n",
  'modules/leaf.ts': 'export const leaf = 1;\n',
  'config/bad.ts': "import { leaf } from '../provision/leaf';\nexport const bad = leaf;\n",
  'provision/leaf.ts': 'export const leaf = 1;\n',
  'shared/bad.ts': "import { load } from '../config/load';\nexport const bad = load;\n",
  'config/load.ts': 'export const load = 1;\n',
  'provision/a.ts': "import type { B } from './b';\nexport interface A { b?: B }\n",
  'provision/b.ts': "import type { A } from './a';\nexport interface B { a?: A }\n",
  'cost/c.ts': "import { h } from '../test/harness/h';\nexport const c = h;\n",
  'ops/new-dir-user.ts': "import { x } from '../newdir/x';\nexport const u = x;\n",
  'newdir/x.ts': 'export const x = 1;\n',
  'newdir/y.ts': "import { names } from '../shared/names';\nexport const y = names;\n",
  'ops/missing.ts': "import { gone } from './gone';\nexport const m = gone;\n",
};

const EXPECTED = [
  'no-upward-from-tools review/r.ts → scripts/entry.ts',
  'no-upward-from-composition stacks/bad.ts → ops/leaf.ts',
  'no-upward-from-constructs modules/bad.ts → stacks/leaf.ts',
  'no-upward-from-libraries guardrails/bad.ts → modules/leaf.ts',
  'no-upward-from-base config/bad.ts → provision/leaf.ts',
  'shared-is-a-leaf shared/bad.ts → config/load.ts',
  'no-circular provision/a.ts → provision/b.ts',
  'no-test-in-production cost/c.ts → test/harness/h.ts',
  'unlayered-import ops/new-dir-user.ts → newdir/x.ts',
  'unlayered-importer newdir/y.ts → shared/names.ts',
  'not-resolvable ops/missing.ts → ./gone',
].sort();

interface Violation { rule: { name: string }; from: string; to: string }

describe('.dependency-cruiser.cjs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'depcruise-'));
    for (const [file, text] of Object.entries(TREE)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('each rule fails on its deliberate violation, and only there', () => {
    const r = spawnSync(DEPCRUISE, ['--config', path.join(REPO, '.dependency-cruiser.cjs'), '--output-type', 'json', '.'], {
      cwd: dir, encoding: 'utf8', timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/ERROR/);
    const violations = (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
    expect(violations.map((v) => `${v.rule.name} ${v.from} → ${v.to}`).sort()).toEqual(EXPECTED);
  });

  test('the reporter `npm test` uses exits non-zero on a violation, so the run stops', () => {
    const cruise = (file: string) => spawnSync(DEPCRUISE, ['--config', path.join(REPO, '.dependency-cruiser.cjs'), '--output-type', 'err', file], {
      cwd: dir, encoding: 'utf8', timeout: 120_000,
    });
    const bad = cruise('review/r.ts');
    expect(bad.stdout).toContain('error no-upward-from-tools: review/r.ts → scripts/entry.ts');
    expect(bad.status).not.toBe(0);
    expect(cruise('scripts/run.ts').status).toBe(0);
  });
});
