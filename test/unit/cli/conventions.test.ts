/**
 * The CLI conventions of every entry point, through the launcher the package.json scripts use: `--help` prints
 * usage and does nothing else (no file of the repository changes: cost:table does not rewrite docs/cost.md,
 * npm start does not synthesize), `--version` prints the package version, an unknown flag is one line on stderr
 * with exit 2.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };

/**
 * Every package.json script that starts an entry point through a launcher (bin/run.mjs, or bin/start.sh, which
 * starts a startup snapshot when there is one), with that entry point; run as the script runs it.
 */
const LAUNCHED = /^(node bin\/run\.mjs|sh bin\/start\.sh) (\S+)$/;
const ENTRY_POINTS = Object.entries(pkg.scripts)
  .map(([name, cmd]) => [name, LAUNCHED.exec(cmd)?.[2]] as const)
  .filter((e): e is readonly [string, string] => Boolean(e[1]));
const launcherOf = (entry: string): string[] => {
  const cmd = Object.values(pkg.scripts).find((c) => LAUNCHED.exec(c)?.[2] === entry)!;
  return cmd.startsWith('sh ') ? ['sh', 'bin/start.sh'] : [process.execPath, 'bin/run.mjs'];
};

async function cli(entry: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, launcher] = launcherOf(entry);
  return run(cmd!, [launcher!, entry, ...args], { cwd: REPO, env: { ...process.env, CDKTF_OUTDIR: '/nonexistent/must-not-be-written' } })
    .then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
}

const gitState = async (): Promise<string> => (await run('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: REPO })).stdout;

jest.setTimeout(120_000);

test('every documented entry point goes through the launcher', () => {
  expect(ENTRY_POINTS.map(([name]) => name)).toEqual(expect.arrayContaining(
    ['start', 'synth', 'ziggie', 'review', 'cost:table', 'provision:vps', 'bake-ami', 'testhost', 'bench:provision', 'bench:cli']));
});

test.each(ENTRY_POINTS.filter(([name]) => name !== 'synth'))('%s: --help does nothing else, --version, an unknown flag exits 2 in one line', async (name, entry) => {
  // mcp's stdout is the protocol: its help and version go to stderr
  const [out, other] = name === 'mcp' ? ['stderr', 'stdout'] as const : ['stdout', 'stderr'] as const;
  const before = await gitState();
  const help = await cli(entry, '--help');
  expect(help).toMatchObject({ code: 0, [other]: '' });
  expect(help[out]).toMatch(/^Usage: /);
  expect(await gitState()).toBe(before);

  expect(await cli(entry, '--version')).toMatchObject({ code: 0, [out]: `${pkg.version}\n` });

  const bad = await cli(entry, '--no-such-flag');
  expect(bad.code).toBe(2);
  // one line; commander names a missing required option (mcp's --agent) before an unknown one
  expect(bad.stderr).toMatch(name === 'mcp' ? /^error: required option '--agent <name>' not specified\n$/ : /^error: unknown option '--no-such-flag'\n$/);
});
