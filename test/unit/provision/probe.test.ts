import { mkdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, writeFileAtomic } from '../../../provision/files';
import { composeBatch } from '../../../provision/probe';
import { run } from '../../../provision/connection';
import type { TaskContext } from '../../../provision/task';
import { LocalRemote, tempDir } from './helpers';

function ctxOf(remote: LocalRemote): TaskContext {
  return {
    host: { name: 'local', groups: [], vars: {} },
    check: false,
    diff: false,
    become: false,
    remote,
    facts: () => Promise.reject(new Error('no facts')),
    exec: (s, o) => remote.exec(s, o),
    run: (s, what, o) => run(remote, s, { ...o, what }),
  };
}

describe('probe batch (run by the local /bin/sh)', () => {
  test('stat, sha256, links, reads and scripts in one script; nonce markers cannot be forged', async () => {
    const d = tempDir();
    const f = join(d, "we'ird name.txt");
    writeFileSync(f, 'hello\n@@0000000000000000:types:0\n');
    chmodSync(f, 0o640);
    mkdirSync(join(d, 'dir'));
    symlinkSync('/etc/hostname', join(d, 'ln'));
    writeFileSync(join(d, 'bin'), Buffer.from([0, 1, 2, 255, 10]));
    const b = composeBatch([
      { stat: [f, join(d, 'dir'), join(d, 'missing'), join(d, 'ln')] },
      { read: [f, join(d, 'missing'), join(d, 'bin')] },
      { script: 'echo out; exit 3' },
      undefined,
      { script: 'printf "no newline"' },
    ]);
    const r = await new LocalRemote().exec(b.script);
    expect(r.code).toBe(0);
    const [p0, p1, p2, p3, p4] = b.parse(r.stdout);
    expect(p0!.stat(f)).toMatchObject({ type: 'file', mode: '0640', owner: 'root', size: 33, sha256: sha256('hello\n@@0000000000000000:types:0\n') });
    expect(p0!.stat(join(d, 'dir'))).toMatchObject({ type: 'directory' });
    expect(p0!.stat(join(d, 'missing'))).toEqual({ path: join(d, 'missing'), type: 'absent' });
    expect(p0!.stat(join(d, 'ln'))).toMatchObject({ type: 'link', target: '/etc/hostname' });
    expect(p1!.content(f)!.toString()).toBe('hello\n@@0000000000000000:types:0\n');
    expect(p1!.content(join(d, 'missing'))).toBeNull();
    expect(p1!.content(join(d, 'bin'))).toEqual(Buffer.from([0, 1, 2, 255, 10]));
    expect(p2).toMatchObject({ out: 'out\n', code: 3 });
    expect(p3!.code).toBe(0);
    expect(p4!.out).toBe('no newline');
  });

  test('truncated output is detected', () => {
    const b = composeBatch([{ stat: ['/etc'] }]);
    expect(() => b.parse(Buffer.from('F'))).toThrow(/cut short/);
  });
});

describe('writeFileAtomic (local /bin/sh)', () => {
  test('writes via a verified temp file, keeps mode when not given, cleans stale temps', async () => {
    const d = tempDir();
    const p = join(d, 'f.conf');
    const remote = new LocalRemote();
    writeFileSync(join(d, '.f.conf.ptmp.ABCDEF'), 'stale');
    await writeFileAtomic(ctxOf(remote), p, 'one\n', { mode: '0600' });
    const st1 = (await remote.exec(`stat -c %a ${p}; cat ${p}; ls -a ${d}`)).stdout.toString();
    expect(st1).toBe(`600\none\n.\n..\nf.conf\n`);
    await writeFileAtomic(ctxOf(remote), p, Buffer.from('two\n'), { backup: true });
    const st2 = (await remote.exec(`stat -c %a ${p}; cat ${p}; ls ${d} | wc -l`)).stdout.toString();
    expect(st2).toBe('600\ntwo\n2\n');
  });

  test('a short stdin (as when the connection drops mid-upload) never replaces the target', async () => {
    const d = tempDir();
    const p = join(d, 'f');
    writeFileSync(p, 'old\n');
    const remote = new LocalRemote();
    const truncating: LocalRemote = Object.assign(Object.create(LocalRemote.prototype), remote, {
      exec: (s: string, o: { stdin?: Buffer }) => remote.exec(s, { ...o, stdin: o.stdin?.subarray(0, 3) }),
    });
    await expect(writeFileAtomic(ctxOf(truncating), p, 'new content\n')).rejects.toThrow(/incomplete write: 3 of 12 bytes/);
    expect((await remote.exec(`cat ${p}; ls -a ${d}`)).stdout.toString()).toBe('old\n.\n..\nf\n');
  });

  test('validate rejects a bad file before it is installed', async () => {
    const d = tempDir();
    const p = join(d, 'f');
    writeFileSync(p, 'good\n');
    await expect(writeFileAtomic(ctxOf(new LocalRemote()), p, 'bad\n', { validate: "grep -q good %s" })).rejects.toThrow(/validation failed/);
    expect((await new LocalRemote().exec(`cat ${p}`)).stdout.toString()).toBe('good\n');
  });
});

describe('apt probe script (local /bin/sh)', () => {
  const { apt } = require('../../../provision/tasks/apt') as typeof import('../../../provision/tasks/apt');
  const { readdirSync } = require('node:fs') as typeof import('node:fs');
  const haveLists = (() => {
    try {
      return readdirSync('/var/lib/apt/lists').some((f) => f.includes('_Packages'));
    } catch {
      return false;
    }
  })();
  (haveLists ? test : test.skip)('sees the package lists and the cache age when something is missing; nothing extra when all are installed', async () => {
    const b = composeBatch([apt({ packages: ['coreutils', 'no-such-package-x'] }).probe, apt({ packages: ['coreutils'] }).probe]);
    const r = await new LocalRemote().exec(b.script);
    const [missing, present] = b.parse(r.stdout);
    expect(missing!.out).toMatch(/^@lists 1$/m);
    expect(missing!.out).toMatch(/^@mtime \d+ \/proc\/\d+$/m);
    expect(present!.out).toMatch(/^@lists 1$/m);
    expect(present!.out).not.toMatch(/@mtime/);
  });
});
