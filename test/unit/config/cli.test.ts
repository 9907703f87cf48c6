import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../../..');

jest.setTimeout(60_000);

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'ziggie-cli-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function start(env: Record<string, string>) {
  return run(process.execPath, ['bin/run.mjs', 'scripts/start.mts'], { cwd: REPO, env: { ...process.env, ...env } })
    .then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
}

test('a bad config exits 2 with one line per problem, no stack trace, and writes nothing', async () => {
  const bad = path.join(tmp, 'bad.yaml');
  writeFileSync(bad, 'project: ziggie\nregion: mars-1\nnetwork: { vpcCidr: 10.0.0.0/99 }\n');
  const outdir = path.join(tmp, 'out-bad');
  const r = await start({ ZIGGIE_CONFIG: bad, CDKTF_OUTDIR: outdir });
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'));
  expect(lines.length).toBeGreaterThan(3);
  expect(lines.every((l) => l.startsWith('config error: '))).toBe(true);
  expect(lines).toContainEqual(expect.stringMatching(/^config error: region: not an AWS region/));
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(outdir)).toBe(false);
});

test('a missing config file is one clear line, exit 2', async () => {
  const r = await start({ ZIGGIE_CONFIG: path.join(tmp, 'nope.yaml') });
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toMatch(/^config error: .*nope\.yaml: cannot read \(ENOENT\)$/);
});

test('npm start on the example config synthesizes every stack offline and ends with the RESULT line', async () => {
  const outdir = path.join(tmp, 'out');
  const r = await start({ CDKTF_OUTDIR: outdir, AWS_ACCESS_KEY_ID: '', AWS_PROFILE: 'does-not-exist' });
  const last = r.stdout.trim().split('\n').at(-1)!;
  const m = /^RESULT stacks=(\d+) resources=(\d+)( \w+=\S+)*$/.exec(last);
  expect(m).not.toBeNull();
  const stacks = readdirSync(path.join(outdir, 'stacks'));
  expect(Number(m![1])).toBe(stacks.length);
  expect(stacks).toContain('state');
  expect(Number(m![2])).toBeGreaterThan(0);
});
