/**
 * "Editing TypeScript never runs stale code", through the real launchers: bin/start.sh starts the startup snapshot,
 * which hands over to bin/run.mjs when a source changed; bin/run.mjs rebuilds (compiled files, bundle, snapshot)
 * and runs the new code. The checkout is a temporary copy of bin/ with a two-file program under the entry names
 * bin/build.mjs bundles and bin/snapshot.mjs snapshots (bench/empty.mts), so each build takes about a second.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../../..');
const VERSION = '1.2.3';
let root: string;
const file = (rel: string): string => path.join(root, rel);

/** Writes a file with an mtime later than any stamp (a save in the same clock tick as a build keeps its mtime). */
function save(rel: string, text: string): void {
  writeFileSync(file(rel), text);
  const later = new Date(statSync(file(rel)).mtimeMs + 60_000);
  utimesSync(file(rel), later, later);
}

/** The entry's module: prints `said` (the version for --version: a snapshot is tried with it before it is installed). */
const program = (said: string): string =>
  `export const run = async (argv: string[]): Promise<number> => { console.log(argv.includes('--version') ? '${VERSION}' : ${said}); return 0; };\n`;

/** `sh bin/start.sh bench/empty.mts`, as package.json scripts start it; stderr shows the trace and what was rebuilt. */
function start(): { stdout: string; stderr: string } {
  const r = spawnSync('sh', ['bin/start.sh', 'bench/empty.mts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: root, PROVISION_TRACE: '1', ZIGGIE_BUILD_VERBOSE: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`start.sh exited ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout.trim(), stderr: r.stderr };
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'stale-code-'));
  cpSync(path.join(REPO, 'bin'), file('bin'), { recursive: true });
  symlinkSync(realpathSync(path.join(REPO, 'node_modules')), file('node_modules')); // esbuild
  writeFileSync(file('package.json'), JSON.stringify({ name: 'stale-fixture', version: VERSION, private: true, type: 'commonjs' }));
  writeFileSync(file('package-lock.json'), '{"name":"stale-fixture","lockfileVersion":3,"packages":{}}\n');
  mkdirSync(file('bench'));
  save('bench/greeting.ts', "export const greeting = 'one';\n");
  save('bench/empty-playbook.ts', `import { greeting } from './greeting';\n${program('greeting')}`);
  save('bench/empty.mts', "import { run } from './empty-playbook.js';\nprocess.exitCode = await run(process.argv);\n");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('the first start builds, the next starts from the snapshot', () => {
  expect(start()).toEqual({ stdout: 'one', stderr: expect.stringMatching(/^built \d+ files into \.build\//m) });
  const again = start();
  expect(again.stdout).toBe('one');
  expect(again.stderr).toMatch(/snapshot fresh/);
  expect(again.stderr).not.toMatch(/built/);
});

test('an edited source: the snapshot hands over, the rebuilt bundle runs it, the remade snapshot starts next', () => {
  save('bench/greeting.ts', "export const greeting = 'two';\n");
  const edited = start();
  expect(edited.stdout).toBe('two');
  expect(edited.stderr).toMatch(/snapshot of bench\/empty\.mts not used: bench\/greeting\.ts changed/);
  expect(edited.stderr).not.toMatch(/snapshot fresh/);
  const next = start();
  expect(next).toEqual({ stdout: 'two', stderr: expect.stringMatching(/snapshot fresh/) });
  expect(next.stderr).not.toMatch(/built/);
});

test('a removed import is noticed too', () => {
  save('bench/empty-playbook.ts', program("'three'"));
  rmSync(file('bench/greeting.ts'));
  const r = start();
  expect(r.stdout).toBe('three');
  expect(r.stderr).toMatch(/not used: bench\/(empty-playbook\.ts changed|greeting\.ts is gone)/);
});

test('the lockfile: rewritten with the same content nothing is rebuilt; with another content it is', () => {
  const lock = '{"name":"stale-fixture","lockfileVersion":3,"packages":{}}\n';
  save('package-lock.json', lock);
  const same = start();
  expect(same).toEqual({ stdout: 'three', stderr: expect.stringMatching(/snapshot fresh/) });
  expect(same.stderr).not.toMatch(/built/);
  save('package-lock.json', lock.replace('"packages":{}', '"packages":{"":{}}'));
  const other = start();
  expect(other.stdout).toBe('three');
  expect(other.stderr).toMatch(/not used: package-lock\.json changed[^]*built \d+ files/);
  expect(start().stderr).toMatch(/snapshot fresh/);
});
