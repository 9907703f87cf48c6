/**
 * Bad input at every entry point (npm start, cost:table, the ops CLI, review, bake-ami, provision:vps), run as
 * child processes exactly as an operator runs them (`npm run -s …`): each case must exit with its code (2 for bad
 * input), print ONE line naming what is wrong, no stack trace, echo no secret, and write nothing (HOME, the ops
 * state dir and the synth outdir stay empty; AWS and Hostinger point at a closed port, so a network call that
 * should not happen would end differently).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, runEntry } from '../../support/entry-point';

jest.setTimeout(300_000);

let dir: string;
const f = (name: string): string => path.join(dir, name);
const EXAMPLE = readFileSync(path.join(REPO, 'config/ziggie.example.yaml'), 'utf8');
const SECRET = 'wJalrXUtnFEMI-bad-input-canary-K7MDENG';

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bad-input-'));
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n');
  writeFileSync(f('bomb.yaml'), bomb + '\n');
  writeFileSync(f('syntax.yaml'), 'project: ziggie\nregion: [eu-north-1\n');
  writeFileSync(f('typo.yaml'), EXAMPLE.replace(/^region:/m, 'regoin:'));
  writeFileSync(f('world-ssh.yaml'), EXAMPLE.replace(/sshAllowlist: \[[^\]]*\]/, 'sshAllowlist: ["0.0.0.0/0"]'));
  writeFileSync(f('world-port.yaml'), EXAMPLE.replace('ports: ["127.0.0.1:5678:5678"]', 'ports: ["0.0.0.0:5678:5678"]'));
  writeFileSync(f('inv.yaml'), 'all:\n  hosts:\n    vps:\n      ansible_host: 127.0.0.1\n      ansible_port: 9\n      ansible_ssh_private_key_file: /nonexistent/key\n');
  writeFileSync(f('inv-bomb.yaml'), `all:\n  vars:\n${bomb.split('\n').slice(0, 8).map((l) => `    ${l}`).join('\n')}\n  hosts:\n    vps: {ansible_host: 127.0.0.1}\n`);
  writeFileSync(f('inv-password.yaml'), 'all:\n  hosts:\n    vps: {ansible_host: 127.0.0.1, ansible_password: hunter2}\n');
  writeFileSync(f('inv-port.yaml'), 'all:\n  hosts:\n    vps: {ansible_host: 127.0.0.1, ansible_port: 70000, ansible_ssh_private_key_file: /k}\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  script: string;
  args: () => string[];
  env?: () => Record<string, string>;
  code: number;
  line: RegExp;
}

const cfg = (file: string) => () => ({ ZIGGIE_CONFIG: f(file) });
const BOMB = /^config error: .*bomb\.yaml: more than 100 alias expansions \(a YAML alias bomb\?\): refused$/;
const listHosts = () => ['-i', f('inv.yaml'), '--list-hosts'];

const cases: Case[] = [
  // the config, at every entry point that reads it
  { name: 'npm start: alias bomb', script: 'start', args: () => [], env: cfg('bomb.yaml'), code: 2, line: BOMB },
  { name: 'cost:table: alias bomb', script: 'cost:table', args: () => [], env: cfg('bomb.yaml'), code: 2, line: BOMB },
  { name: 'ziggie: alias bomb', script: 'ziggie', args: () => ['gpu', 'status'], env: cfg('bomb.yaml'), code: 2, line: BOMB },
  { name: 'bake-ami: alias bomb', script: 'bake-ami', args: () => [], env: cfg('bomb.yaml'), code: 2, line: BOMB },
  { name: 'provision:vps: alias bomb', script: 'provision:vps', args: listHosts, env: cfg('bomb.yaml'), code: 2, line: BOMB },
  { name: 'npm start: YAML syntax error', script: 'start', args: () => [], env: cfg('syntax.yaml'), code: 2, line: /^config error: line \d+ col \d+: Flow sequence in block collection must be sufficiently indented and end with a \]$/ },
  { name: 'ziggie: YAML syntax error', script: 'ziggie', args: () => ['cost'], env: cfg('syntax.yaml'), code: 2, line: /^config error: line \d+ col \d+: Flow sequence in block collection must be sufficiently indented and end with a \]$/ },
  { name: 'ziggie: a misspelt key', script: 'ziggie', args: () => ['gpu', 'status'], env: cfg('typo.yaml'), code: 2, line: /^config error: regoin: unknown key \(line \d+\) \(did you mean region\?\)$/ },
  { name: 'ziggie: no such config file', script: 'ziggie', args: () => ['gpu', 'status'], env: cfg('nope.yaml'), code: 2, line: /^config error: .*nope\.yaml: cannot read \(ENOENT\)$/ },
  { name: 'bake-ami: a container port on every interface', script: 'bake-ami', args: () => [], env: cfg('world-port.yaml'), code: 2, line: /^config error: containers\[2\]\.ports\[0\]: binds 0\.0\.0\.0, which bypasses ufw/ },
  // the inventory
  { name: 'provision:vps: inventory alias bomb', script: 'provision:vps', args: () => ['-i', f('inv-bomb.yaml'), '--list-hosts'], code: 2, line: /^error: .*inv-bomb\.yaml: more than 100 alias expansions/ },
  { name: 'provision:vps: no such inventory', script: 'provision:vps', args: () => ['-i', f('nope.yaml'), '--list-hosts'], code: 2, line: /^error: .*nope\.yaml: cannot read inventory \(no such file\)$/ },
  { name: 'provision:vps: password authentication', script: 'provision:vps', args: () => ['-i', f('inv-password.yaml'), '--list-hosts'], code: 2, line: /^error: .*ansible_password: password authentication is not supported/ },
  { name: 'provision:vps: a port out of range', script: 'provision:vps', args: () => ['-i', f('inv-port.yaml'), '--list-hosts'], code: 2, line: /^error: .*ansible_port: expected a port number 1-65535, got 70000$/ },
  // provision:vps flags and guardrails
  { name: 'provision:vps: a secret in -e', script: 'provision:vps', args: () => [...listHosts(), '-e', `vps_aws_secret_access_key=${SECRET}`], code: 2, line: /^error: --extra-vars: vps_aws_secret_access_key looks like a secret: .*!secret_env/ },
  { name: 'provision:vps: --forks 0', script: 'provision:vps', args: () => [...listHosts(), '--forks', '0'], code: 2, line: /^error: option '-f, --forks <n>' argument '0' is invalid/ },
  { name: 'provision:vps: an unknown option', script: 'provision:vps', args: () => [...listHosts(), '--frobnicate'], code: 2, line: /^error: unknown option '--frobnicate'/ },
  { name: 'provision:vps: a world SSH allowlist', script: 'provision:vps', args: listHosts, env: cfg('world-ssh.yaml'), code: 2, line: /^error: vps\.sshAllowlist: 0\.0\.0\.0\/0 is wider than a \/24/ },
  // --yes connects while the config loads (provision/preconnect.ts): the config's error is still the only line
  { name: 'provision:vps --yes: a bad config, an unreachable host', script: 'provision:vps', args: () => ['-i', f('inv.yaml'), '--yes'], env: cfg('typo.yaml'), code: 2, line: /^config error: regoin: unknown key \(line 6\) \(did you mean region\?\)$/ },
  // the ops CLI: usage errors before any network call
  { name: 'ziggie audit tail -n -5', script: 'ziggie', args: () => ['audit', 'tail', '-n', '-5'], code: 2, line: /^error: option '-n, --limit <n>' argument '-5' is invalid/ },
  { name: 'ziggie gpu start --timeout abc', script: 'ziggie', args: () => ['gpu', 'start', '--wait', '--timeout', 'abc'], code: 2, line: /^error: option '--timeout <minutes>' argument 'abc' is invalid/ },
  { name: 'ziggie dns set --ttl -1', script: 'ziggie', args: () => ['dns', 'set', 'example.com', 'www', 'A', '203.0.113.1', '--ttl', '-1'], code: 2, line: /^error: option '--ttl <seconds>' argument '-1' is invalid/ },
  { name: 'ziggie cost --month 2025-13', script: 'ziggie', args: () => ['cost', '--month', '2025-13'], code: 2, line: /^error: option '--month <YYYY-MM>' argument '2025-13' is invalid/ },
  { name: 'ziggie: an unknown command', script: 'ziggie', args: () => ['frobnicate'], code: 2, line: /^error: unknown command 'frobnicate'/ },
  // bake-ami
  { name: 'bake-ami --my-ip 999.1.1.1', script: 'bake-ami', args: () => ['--my-ip', '999.1.1.1'], code: 2, line: /^bake-ami: --my-ip: "999\.1\.1\.1" is not an IPv4 address$/ },
  { name: 'bake-ami --my-ip 0.0.0.0/0', script: 'bake-ami', args: () => ['--my-ip', '0.0.0.0/0'], code: 2, line: /^bake-ami: --my-ip: 0\.0\.0\.0\/0 is wider than a \/24/ },
  { name: 'bake-ami --dry-run without --sweep', script: 'bake-ami', args: () => ['--dry-run'], code: 2, line: /^(error|bake-ami): --dry-run goes with --sweep$/ },
  // review
  { name: 'review --fail-on bogus', script: 'review', args: () => ['--fail-on', 'bogus'], code: 2, line: /^error: option '--fail-on <when>' argument 'bogus' is invalid/ },
  { name: 'review: an unknown option', script: 'review', args: () => ['--frobnicate'], code: 2, line: /^error: unknown option '--frobnicate'/ },
];

describe('bad input at every entry point: exit code, one line, no stack trace, nothing written', () => {
  test.concurrent.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const r = await runEntry(c.script, c.args(), c.env?.() ?? {});
    const lines = r.stderr.split('\n').filter((l) => l.trim());
    const report = `${c.name}: exit ${r.code} in ${r.ms} ms\nstderr: ${r.stderr}\nstdout: ${r.stdout}`;
    expect([report, r.code]).toEqual([report, c.code]);
    expect([report, lines]).toEqual([report, [expect.stringMatching(c.line)]]);
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
    expect(r.stderr + r.stdout).not.toContain(SECRET);
    expect(r.written).toEqual([]);
  });
});
