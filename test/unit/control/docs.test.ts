/**
 * Every shell command in docs/agents.md and docs/runbooks/compromised-agent-token.md runs, as written, in order,
 * in a sandbox (its own HOME, no AWS account: AWS requests go to a closed local port). A command must exist and
 * parse its arguments (never exit 2 or 127), and the documented outcomes hold.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
jest.setTimeout(600_000);

/** The ```sh blocks, as commands (a trailing backslash continues a line). */
export function shellCommands(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    out.push(...block[1]!.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  }
  return out;
}

function runDoc(file: string, home: string): { cmd: string; rc: number; out: string }[] {
  const commands = shellCommands(readFileSync(path.join(ROOT, file), 'utf8'));
  expect(commands.length).toBeGreaterThan(2);
  const script = commands.map((c, i) => `${c}\necho "@@rc $? ${i}"`).join('\n') + '\njobs -p | xargs -r kill 2>/dev/null; wait; true\n';
  const r = spawnSync('bash', ['-c', script], {
    cwd: ROOT, encoding: 'utf8', timeout: 540_000,
    env: {
      PATH: process.env.PATH, HOME: home, NO_COLOR: '1', PORT: String(20000 + Math.floor(Math.random() * 20000)),
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00', AWS_SECRET_ACCESS_KEY: 'not-a-real-key', AWS_REGION: 'eu-north-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9', HOSTINGER_API_URL: 'http://127.0.0.1:9', HOSTINGER_API_TOKEN: 'x',
    },
  });
  const text = `${r.stdout}`;
  const results: { cmd: string; rc: number; out: string }[] = [];
  let last = 0;
  for (const m of text.matchAll(/@@rc (\d+) (\d+)\n/g)) {
    results.push({ cmd: commands[Number(m[2])]!, rc: Number(m[1]), out: text.slice(last, m.index) });
    last = m.index! + m[0].length;
  }
  expect(results.map((x) => x.cmd)).toEqual(commands);
  for (const x of results) {
    if ([2, 126, 127].includes(x.rc) && !(x.rc === 2 && x.cmd.endsWith('# exits 2'))) throw new Error(`\`${x.cmd}\` exited ${x.rc}:\n${x.out}\n${r.stderr.slice(-2000)}`);
  }
  return results;
}

test('docs/agents.md: every command runs; the outcomes the page describes hold', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'docs-agents-'));
  const r = runDoc('docs/agents.md', home);
  const by = (prefix: string) => r.filter((x) => x.cmd.startsWith(prefix));
  expect(JSON.parse(by('npm run -s ziggie -- agent list')[0]!.out).map((a: { agent: string }) => a.agent)).toEqual(['agent-marcus', 'agent-chen', 'agent-ops', 'agent-viewer']);
  const execs = by('npm run -s ziggie -- agent exec');
  expect(execs.map((x) => x.rc)).toEqual([0, 1, 2]);
  expect(JSON.parse(execs[0]!.out).result.instances.map((i: { state: string }) => i.state)).toEqual(['unknown', 'unknown']);
  expect(JSON.parse(execs[1]!.out).error.message).toMatch(/^agent-viewer does not hold cloud:stop-instance/);
  expect(JSON.parse(execs[2]!.out).error.message).toBe('cloud:deploy: version: a version / image tag such as v1.2.0');
  const curls = by('curl');
  expect(JSON.parse(curls[0]!.out).instances).toHaveLength(2);
  expect(curls[1]!.out.trim()).toBe('403');
  expect(curls[2]!.out).toMatch(/^\{"openapi":"3\.1\.0"/);
  expect(by('npm run -s ziggie -- agent token revoke')[0]!.out).toMatch(/revoked agent-viewer's token/);
});

test('docs/runbooks/compromised-agent-token.md: every command runs', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'docs-runbook-'));
  // the agent whose token leaked has one
  const issue = spawnSync('npm', ['run', '-s', 'ziggie', '--', 'agent', 'token', 'issue', '--agent', 'agent-viewer'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, HOME: home, AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00', AWS_SECRET_ACCESS_KEY: 'x' } });
  expect(issue.status).toBe(0);
  const r = runDoc('docs/runbooks/compromised-agent-token.md', home);
  expect(r[0]!.out).toMatch(/revoked agent-viewer's token/);
  expect(r.find((x) => x.cmd.startsWith('grep'))!.out).toMatch(/agent\.token\.(issue|revoke)|"agent":"agent-viewer"/);
});
