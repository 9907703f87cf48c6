import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCli, runPlaybookCli } from '../../../provision/cli';
import { definePlaybook } from '../../../provision/playbook';
import { defineTask } from '../../../provision/task';
import { MemoryOutput } from '../../../provision/output';
import { tempDir, LocalRemote } from './helpers';

const argv = (...a: string[]) => ['node', 'playbook', ...a];

describe('cli', () => {
  test('parses every option', () => {
    const d = tempDir();
    writeFileSync(join(d, 'vars.yml'), 'a: 1\nb: two\n');
    const o = parseCli(argv('-i', 'inv.yml', '--check', '--diff', '--limit', 'web,!db', '-t', 'a,b', '--tags', 'c', '--skip-tags', 'x', '-f', '3', '--trust-new-host-key', '--report', 'r.json', '-e', 'k=v k2=v2', '-e', `@${join(d, 'vars.yml')}`, '-e', '{"j": [1]}'));
    expect(o).toMatchObject({
      inventory: 'inv.yml',
      check: true,
      diff: true,
      limit: 'web,!db',
      tags: ['a', 'b', 'c'],
      skipTags: ['x'],
      forks: 3,
      trustNewHostKey: true,
      report: 'r.json',
      extraVars: { k: 'v', k2: 'v2', a: 1, b: 'two', j: [1] },
    });
  });

  test('defaults and $PROVISION_INVENTORY', () => {
    process.env.PROVISION_INVENTORY = '/x/inv.yml';
    try {
      expect(parseCli(argv())).toMatchObject({ inventory: '/x/inv.yml', check: false, diff: false, forks: 10, trustNewHostKey: false, extraVars: {} });
    } finally {
      delete process.env.PROVISION_INVENTORY;
    }
  });

  test('bad input exits 2 with one line', async () => {
    const pb = definePlaybook({ name: 'p', tasks: () => [] });
    const err: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    try {
      expect(await runPlaybookCli(pb, argv('-i', '/nonexistent.yml'))).toBe(2);
      expect(await runPlaybookCli(pb, argv('-i', 'x', '-f', 'zero'))).toBe(2);
      expect(await runPlaybookCli(pb, argv('-i', 'x', '-e', 'novalue'))).toBe(2);
      delete process.env.PROVISION_INVENTORY;
      expect(await runPlaybookCli(pb, argv())).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(err[0]).toBe('error: /nonexistent.yml: cannot read inventory (no such file)\n');
    expect(err.join('')).toContain('no inventory: pass --inventory FILE');
    expect(err.join('')).toContain('--extra-vars: expected key=value, got an argument without "=" (7 characters, not shown)');
  });

  test('runs, writes the report, and returns the exit code', async () => {
    const d = tempDir();
    const inv = join(d, 'inv.yml');
    writeFileSync(inv, 'all:\n  vars: { ansible_ssh_private_key_file: /k }\n  hosts:\n    a:\n    b:\n');
    const pb = definePlaybook({
      name: 'p',
      tasks: (h) => [
        defineTask('fake', 'x', {}, {
          plan() {
            if (h.name === 'b') throw new Error('nope');
            return { changed: false };
          },
        }),
      ],
    });
    const code = await runPlaybookCli(pb, argv('-i', inv, '--report', join(d, 'out', 'r.json')), { output: new MemoryOutput(), runOptions: { connect: async (h) => new LocalRemote(h.name) } });
    expect(code).toBe(1);
    const rep = JSON.parse(require('node:fs').readFileSync(join(d, 'out', 'r.json'), 'utf8'));
    expect(rep.hosts.map((h: { name: string; status: string }) => `${h.name}:${h.status}`)).toEqual(['a:ok', 'b:failed']);
    const ok = await runPlaybookCli(pb, argv('-i', inv, '--limit', 'a'), { output: new MemoryOutput(), runOptions: { connect: async (h) => new LocalRemote(h.name) } });
    expect(ok).toBe(0);
  });
});
