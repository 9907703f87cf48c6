import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Need } from '../../../provision/fact';
import { group, homeFile, passwd } from '../../../provision/facts/account';
import { commandOutput, exitStatus } from '../../../provision/facts/command';
import { COMPOSE_VERSION_SH, composePlugin } from '../../../provision/facts/docker';
import { fileContent, fileStat } from '../../../provision/facts/file';
import { glob } from '../../../provision/facts/glob';
import { aptCache, pkg } from '../../../provision/facts/package';
import { sysctlValue } from '../../../provision/facts/sysctl';
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
  test('file stats, contents and commands in one script; equal needs gathered once; nonce markers cannot be forged', async () => {
    const d = tempDir();
    const f = join(d, "we'ird name.txt");
    writeFileSync(f, 'hello\n@@0000000000000000:0.0:0\n');
    chmodSync(f, 0o640);
    mkdirSync(join(d, 'dir'));
    symlinkSync('/etc/hostname', join(d, 'ln'));
    writeFileSync(join(d, 'bin'), Buffer.from([0, 1, 2, 255, 10]));
    const needs = [
      fileStat(f), fileStat(join(d, 'dir')), fileStat(join(d, 'missing')), fileStat(join(d, 'ln')), fileStat(f),
      fileContent(f), fileContent(join(d, 'missing')), fileContent(join(d, 'bin')),
      commandOutput('echo out; exit 3'), commandOutput('printf "no newline"'), exitStatus('false'),
    ];
    const b = composeBatch(needs);
    expect(b.script.match(/stat -c/g)).toHaveLength(1);
    const r = await new LocalRemote().exec(b.script);
    expect(r.code).toBe(0);
    const v = b.parse(r.stdout);
    const get = <T>(n: Need<T>): T => v.get(n.id) as T;
    expect(get(fileStat(f))).toMatchObject({ type: 'file', mode: '0640', owner: 'root', size: 31, sha256: sha256('hello\n@@0000000000000000:0.0:0\n') });
    expect(get(fileStat(join(d, 'dir')))).toMatchObject({ type: 'directory' });
    expect(get(fileStat(join(d, 'missing')))).toEqual({ path: join(d, 'missing'), type: 'absent' });
    expect(get(fileStat(join(d, 'ln')))).toMatchObject({ type: 'link', target: '/etc/hostname' });
    expect(get(fileContent(f))!.toString()).toBe('hello\n@@0000000000000000:0.0:0\n');
    expect(get(fileContent(join(d, 'missing')))).toBeNull();
    expect(get(fileContent(join(d, 'bin')))).toEqual(Buffer.from([0, 1, 2, 255, 10]));
    expect(get(commandOutput('echo out; exit 3'))).toEqual({ out: 'out\n', code: 3 });
    expect(get(commandOutput('printf "no newline"'))).toEqual({ out: 'no newline', code: 0 });
    expect(get(exitStatus('false'))).toBe(1);
  });

  test('accounts: passwd entries with the primary group name, groups, home files; one read of /etc/passwd for all', async () => {
    const needs = [passwd('root'), passwd('nobody'), passwd('no-such-user-x'), group('root'), group('no-such-group-x'), homeFile('root', '.no-such-file')];
    const b = composeBatch(needs);
    const v = b.parse((await new LocalRemote().exec(b.script)).stdout);
    expect(v.get(passwd('root').id)).toMatchObject({ name: 'root', uid: 0, gid: 0, group: 'root', home: '/root' });
    expect(v.get(passwd('nobody').id)).toMatchObject({ name: 'nobody', uid: 65534 });
    expect(v.get(passwd('no-such-user-x').id)).toBeUndefined();
    expect(v.get(group('root').id)).toMatchObject({ name: 'root', gid: 0 });
    expect(v.get(group('no-such-group-x').id)).toBeUndefined();
    expect(v.get(homeFile('root', '.no-such-file').id)).toBeNull();
  });

  test('globs, and a fact whose command fails', async () => {
    const d = tempDir();
    mkdirSync(join(d, 'a'));
    mkdirSync(join(d, 'b'));
    writeFileSync(join(d, 'a', 'compose.yaml'), '');
    const b = composeBatch([glob(d, '*/compose.yaml'), glob(d, 'nothing-*'), sysctlValue('no.such.key')]);
    const v = b.parse((await new LocalRemote().exec(b.script)).stdout);
    expect(v.get(glob(d, '*/compose.yaml').id)).toEqual([join(d, 'a', 'compose.yaml')]);
    expect(v.get(glob(d, 'nothing-*').id)).toEqual([]);
    expect(v.get(sysctlValue('no.such.key').id)).toBeUndefined();
  });

  test('the compose plugin is found where the docker CLI looks (its config dir first), and its version read from it', async () => {
    const d = tempDir();
    mkdirSync(join(d, 'cli-plugins'));
    writeFileSync(join(d, 'cli-plugins', 'docker-compose'), '#!/bin/sh\n[ "$*" = "version --short" ] && echo 2.24.6\n');
    chmodSync(join(d, 'cli-plugins', 'docker-compose'), 0o755);
    const b = composeBatch([composePlugin(), commandOutput(COMPOSE_VERSION_SH)]);
    const v = b.parse((await new LocalRemote().exec(`DOCKER_CONFIG=${d}\n${b.script}`)).stdout);
    expect(v.get(composePlugin().id)).toBe(join(d, 'cli-plugins', 'docker-compose'));
    expect(v.get(commandOutput(COMPOSE_VERSION_SH).id)).toEqual({ out: '2.24.6\n', code: 0 });
    const none = composeBatch([composePlugin()]);
    expect(none.parse((await new LocalRemote().exec(`DOCKER_CONFIG=${d}/none PATH=/nonexistent\n${none.script}`)).stdout).get(composePlugin().id)).toBeUndefined();
    // in none of the dirs (a plugin dir from the CLI's config file): the docker CLI itself is asked
    mkdirSync(join(d, 'bin'));
    writeFileSync(join(d, 'bin', 'docker'), '#!/bin/sh\n[ "$*" = "compose version" ] && echo "Docker Compose version v2.24.6"\n');
    chmodSync(join(d, 'bin', 'docker'), 0o755);
    expect(none.parse((await new LocalRemote().exec(`DOCKER_CONFIG=${d}/none PATH=${d}/bin:/bin:/usr/bin\n${none.script}`)).stdout).get(composePlugin().id)).toBe('docker compose');
  });

  test('concurrent snippets start first, run beside the rest, keep their own output and status, and leave no files', async () => {
    const d = tempDir();
    // the concurrent snippet waits (up to 5 s) for a file a later sequential snippet creates: run one after the
    // other, it would give up before that file exists
    const waiter = commandOutput(`i=0; while [ ! -e ${d}/flag ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; ls ${d}/flag >/dev/null && echo saw-flag; exit 4`, { concurrent: true });
    const plain = commandOutput('echo one; echo err >&2', { concurrent: true });
    const needs = [waiter, exitStatus('false'), commandOutput(`touch ${d}/flag; echo sequential`), plain, waiter];
    const b = composeBatch(needs);
    expect(b.script.match(/saw-flag/g)).toHaveLength(1);
    const scratch = join(d, 'scratch');
    mkdirSync(scratch);
    const r = await new LocalRemote().exec(b.script.replace('/dev/shm/probe.XXXXXX', `${scratch}/probe.XXXXXX`));
    const v = b.parse(r.stdout);
    expect(v.get(waiter.id)).toEqual({ out: 'saw-flag\n', code: 4 });
    expect(v.get(plain.id)).toEqual({ out: 'one\n', code: 0 });
    expect(v.get(commandOutput(`touch ${d}/flag; echo sequential`).id)).toEqual({ out: 'sequential\n', code: 0 });
    expect(v.get(exitStatus('false').id)).toBe(1);
    expect(readdirSync(scratch)).toEqual([]);
  });

  test('truncated output is detected', () => {
    const b = composeBatch([fileStat('/etc')]);
    expect(() => b.parse(Buffer.from('F'))).toThrow(/cut short at fact "file"/);
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

describe('package facts (local /bin/sh)', () => {
  const haveDpkg = existsSync('/var/lib/dpkg/status');
  (haveDpkg ? test : test.skip)('installed state by the fast path and by dpkg-query agree; the cache age is measured on the host', async () => {
    const needs = [pkg('coreutils'), pkg('no-such-package-x'), pkg('coreutils', true), aptCache()];
    const b = composeBatch(needs);
    const v = b.parse((await new LocalRemote().exec(b.script)).stdout);
    expect(v.get(pkg('coreutils').id)).toEqual({ installed: true });
    expect(v.get(pkg('no-such-package-x').id)).toEqual({ installed: false });
    expect(v.get(pkg('coreutils', true).id)).toMatchObject({ installed: true, version: expect.stringMatching(/^\d/) });
    const cache = v.get(aptCache().id) as { lists: boolean; ageSeconds: number };
    expect(typeof cache.lists).toBe('boolean');
    expect(cache.ageSeconds).toBeGreaterThanOrEqual(0);
  });
});
