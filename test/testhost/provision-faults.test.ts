/**
 * Faults on real test hosts: the SSH connection dropped at every task boundary and in the middle of a write,
 * an unreachable host, host-key trouble, sudo that wants a password, and a canary secret that must appear in no
 * output, diff or report.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeTier } from '../support/tier';
import { bootHost, freePort, stopOwnHosts, testhostTierReason, type TestHost } from '../harness/testhost';
import { copy, definePlaybook, directory, lineInFile, shell, user, SshConnection, type Remote } from '../../provision';
import { parseInventory } from '../../provision/inventory';
import { inventoryFor, inventoryYaml, play, statuses } from './provision/helpers';

const reason = testhostTierReason();
const ROOT = resolve(__dirname, '../..');
const BIG = Buffer.alloc(3 * 1024 * 1024, 'y');

const multi = definePlaybook({
  name: 'multi',
  tasks: () => [
    directory({ path: '/srv/pf/conf', mode: '0755' }),
    copy({ dest: '/srv/pf/conf/a.conf', content: 'a=1\n' }),
    copy({ dest: '/srv/pf/big.bin', content: BIG }),
    lineInFile({ path: '/srv/pf/conf/b.conf', line: 'b=2', create: true }),
    user({ user: 'pfuser' }),
  ],
  handlers: () => [],
});
const EXPECT = `755\na=1\nb=2\n${BIG.length}\npfuser\n0\n`;
const STATE = `stat -c %a /srv/pf/conf; cat /srv/pf/conf/a.conf /srv/pf/conf/b.conf; stat -c %s /srv/pf/big.bin; id -un pfuser; find /srv/pf -name '*.ptmp*' | wc -l`;

describeTier('testhost', reason, () => {
  jest.setTimeout(300_000);
  let host: TestHost;

  beforeAll(async () => {
    host = await bootHost({ waitForSystem: true });
  });
  afterAll(() => stopOwnHosts());

  const reset = () => host.exec('rm -rf /srv/pf; userdel pfuser 2>/dev/null; true');
  /** stop sshd (live sessions survive) and have systemd start it again after `secs` */
  const sshdDownFor = (r: Remote, secs: number) =>
    r.exec(`systemd-run -q --on-active=${secs} --timer-property=AccuracySec=100ms systemctl start ssh.service && systemctl stop ssh.service`);
  const waitSshd = async () => {
    for (let i = 0; i < 100; i++) {
      if ((await host.exec('true').catch(() => ({ code: 1 }))).code === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('sshd did not come back');
  };

  test('connection dropped at each task boundary: one reconnect, the run completes and converges', async () => {
    for (let i = 0; i < 5; i++) {
      await reset();
      const r = await play(multi, inventoryFor([host]), { beforeTask: (_h, idx, remote) => void (idx === i && (remote as SshConnection).dropForTest()) });
      expect({ i, failed: r.failed, out: r.out }).toEqual({ i, failed: 0, out: expect.stringContaining('SSH connection was lost; reconnected') });
      expect((await host.exec(STATE)).stdout).toBe(EXPECT);
      expect((await play(multi, inventoryFor([host]))).changed).toBe(0);
    }
  });

  test('connection dropped at each task boundary with sshd down: clear error, nothing half-written, a re-run converges', async () => {
    for (let i = 0; i < 5; i++) {
      await reset();
      let r;
      try {
        r = await play(multi, inventoryFor([host]), {
          beforeTask: async (_h, idx, remote) => {
            if (idx !== i) return;
            await sshdDownFor(remote, 3);
            (remote as SshConnection).dropForTest();
          },
        });
      } finally {
        await waitSshd();
      }
      const hr = r.report.hosts[0]!;
      expect({ i, status: hr.status }).toEqual({ i, status: 'unreachable' });
      expect(hr.error).toMatch(/SSH connection to root@127\.0\.0\.1:\d+ lost and reconnecting failed/);
      expect(r.out).toContain('UNREACHABLE');
      expect(hr.tasks.filter((t) => t.status === 'changed')).toHaveLength(i);
      // nothing half-written: every file is either absent or complete, no temp files
      const files = await host.exec(`for f in /srv/pf/conf/a.conf /srv/pf/conf/b.conf /srv/pf/big.bin; do [ -e $f ] && stat -c '%n %s' $f; done; find /srv/pf -name '*.ptmp*' | wc -l`);
      for (const line of files.stdout.trim().split('\n').slice(0, -1)) {
        const [name, size] = line.split(' ');
        if (name === '/srv/pf/big.bin') expect(Number(size)).toBe(BIG.length);
      }
      expect(files.stdout.trim().split('\n').pop()).toBe('0');
      const again = await play(multi, inventoryFor([host]));
      expect(again.failed).toBe(0);
      expect((await host.exec(STATE)).stdout).toBe(EXPECT);
      expect((await play(multi, inventoryFor([host]))).changed).toBe(0);
    }
  });

  test('connection dropped in the middle of a file upload: the old file stays whole, a re-run converges', async () => {
    await reset();
    await host.exec('mkdir -p /srv/pf/conf && printf "old\\n" > /srv/pf/big.bin');
    let conn: SshConnection | undefined;
    const r = await play(multi, inventoryFor([host]), {
      connect: async (h, notice) => {
        conn = await SshConnection.open({ ...h.ssh, name: h.name, onNotice: notice });
        const exec = conn.exec.bind(conn);
        let armed = true;
        conn.exec = async (script, o) => {
          if (armed && o?.stdin && o.stdin.length > 1e6) {
            armed = false;
            await sshdDownFor(conn!, 3);
            setTimeout(() => conn!.dropForTest(), 15);
          }
          return exec(script, o);
        };
        return conn;
      },
    }).finally(waitSshd);
    expect(r.report.hosts[0]!.status).toBe('unreachable');
    expect(r.out).toMatch(/UNREACHABLE\s+copy \/srv\/pf\/big\.bin: /);
    expect((await host.exec(`cat /srv/pf/big.bin; find /srv/pf -name '*.ptmp*' | wc -l`)).stdout).toBe('old\n0\n');
    expect((await play(multi, inventoryFor([host]))).failed).toBe(0);
    expect((await host.exec(STATE)).stdout).toBe(EXPECT);
  });

  test('unreachable: refused port and a silent server fail clearly within the timeout', async () => {
    const port = await freePort();
    const silent = net.createServer((s) => s.on('error', () => undefined)).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const sPort = (silent.address() as net.AddressInfo).port;
    // endpoints that are not test hosts, in the same helper's inventory (the good one is the booted host)
    const at = (name: string, p: number) => ({ name, port: p, privateKeyPath: host.privateKeyPath, knownHostsPath: host.knownHostsPath });
    const yml = inventoryYaml([at('refused', port), at('silent', sPort), at('good', host.port)], { hostVars: { ssh_connect_timeout: 2 } });
    const r = await play(definePlaybook({ name: 'u', tasks: () => [directory({ path: '/srv/pf-u' })] }), parseInventory(yml, 'u.yml'));
    silent.close();
    expect(r.report.hosts.map((h) => [h.name, h.status])).toEqual([['refused', 'unreachable'], ['silent', 'unreachable'], ['good', 'ok']]);
    expect(r.report.hosts[0]!.error).toBe(`refused: cannot connect to 127.0.0.1:${port}: connection refused`);
    // the inventory's timeout is what ended the silent host (no wall-clock assertion: the machine may be loaded)
    expect(r.report.hosts[1]!.error).toBe(`silent: SSH handshake with root@127.0.0.1:${sPort} timed out after 2000 ms`);
  });

  test('several hosts in parallel: a failure stops only that host, handlers run on the others', async () => {
    const more = await Promise.all([bootHost({ withDocker: false }), bootHost({ withDocker: false })]);
    const hosts = [host, ...more];
    const pb = definePlaybook({
      name: 'par',
      tasks: (h) => [
        copy({ dest: '/srv/pf-par.txt', content: `${h.name}\n`, notify: 'mark' }),
        h.name === more[0]!.name ? shell({ cmd: 'echo broken >&2; exit 7' }) : null,
        copy({ dest: '/srv/pf-par-2.txt', content: 'two\n' }),
      ],
      handlers: () => [shell({ name: 'mark', cmd: 'touch /srv/pf-par-handled' })],
    });
    const r = await play(pb, inventoryFor(hosts), { forks: 3 });
    expect(r.report.hosts.map((h) => `${h.status} ${h.tasks.map((t) => t.status).join(',')}`)).toEqual([
      'ok changed,changed,changed',
      'failed changed,failed',
      'ok changed,changed,changed',
    ]);
    expect(r.report.hosts[1]!.error).toBe('shell echo broken >&2; exit 7: exit 7: broken');
    const marks = await Promise.all(hosts.map(async (h) => (await h.exec('cat /srv/pf-par.txt; ls /srv | grep -c pf-par-handled')).stdout));
    expect(marks).toEqual([`${host.name}\n1\n`, `${more[0]!.name}\n0\n`, `${more[1]!.name}\n1\n`]);
    await Promise.all(more.map((m) => m.stop()));
  });

  test('command timeout: the task fails clearly and the remote command is killed', async () => {
    // no wall-clock assertion: had the timeout not fired, the command would have ended "never" after 30 s
    const r = await play(definePlaybook({ name: 'to', tasks: () => [shell({ cmd: 'sleep 30; echo never', timeout: 1 }), directory({ path: '/srv/pf-after-timeout' })] }), inventoryFor([host]));
    expect(r.tasks.map((t) => `${t.status}: ${t.msg}`)).toEqual([`failed: command timed out after 1 s`]);
    // the remote side gives up one second after the local timeout (GNU timeout kills the whole process group)
    let left = '';
    for (let i = 0; i < 40; i++) {
      left = (await host.exec('pgrep -f "slee[p] 30" | wc -l')).stdout.trim();
      if (left === '0') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(left).toBe('0');
  });

  test('host keys: unknown refused with its fingerprint; --trust-new-host-key records it; a mismatch is always refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-kh-'));
    const kh = join(dir, 'known_hosts');
    const pb = definePlaybook({ name: 'k', tasks: () => [directory({ path: '/srv/pf-k' })] });
    const inv = () => inventoryFor([host], { knownHostsFile: kh });
    const unknown = await play(pb, inv());
    expect(unknown.report.hosts[0]!.status).toBe('unreachable');
    expect(unknown.report.hosts[0]!.error).toContain(`is not known: ssh-ed25519 ${host.hostKeyFingerprint}`);
    expect(unknown.report.hosts[0]!.error).toContain('--trust-new-host-key');
    const trusted = await play(pb, inv(), { trustNewHostKey: true });
    expect(trusted.failed).toBe(0);
    expect(trusted.out).toContain(`recorded new host key in ${kh}`);
    expect(readFileSync(kh, 'utf8')).toBe(host.knownHostsLine + '\n');
    expect((await play(pb, inv())).failed).toBe(0);
    // a different key for the same host:port: refused even with the flag
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3kqG0wQF0pLhC5M8yqk8lR0xN5y0V8vN8G4k1cTqZp';
    writeFileSync(kh, `[127.0.0.1]:${host.port} ${other}\n`);
    const mm = await play(pb, inv(), { trustNewHostKey: true });
    expect(mm.report.hosts[0]!.error).toContain('HOST KEY MISMATCH');
    expect(mm.report.hosts[0]!.error).toContain(host.hostKeyFingerprint);
    expect(readFileSync(kh, 'utf8')).toBe(`[127.0.0.1]:${host.port} ${other}\n`);
    // pinned fingerprint
    const pinnedOk = await play(pb, inventoryFor([host], { hostVars: { ssh_host_key_fingerprint: host.hostKeyFingerprint } }));
    expect(pinnedOk.failed).toBe(0);
    const pinnedBad = await play(pb, inventoryFor([host], { hostVars: { ssh_host_key_fingerprint: 'SHA256:' + 'A'.repeat(43) } }));
    expect(pinnedBad.report.hosts[0]!.error).toContain('HOST KEY MISMATCH');
  });

  test('authentication through an SSH agent; a key the host does not accept is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pf-agent-'));
    const sock = join(dir, 'agent.sock');
    const agent = spawnSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
    expect(agent.status).toBe(0);
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
    try {
      expect(spawnSync('ssh-add', [host.privateKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' }).status).toBe(0);
      const yml = inventoryYaml([host], { hostVars: { ansible_ssh_private_key_file: undefined, ssh_agent: sock } });
      const r = await play(definePlaybook({ name: 'agent', tasks: () => [directory({ path: '/srv/pf-agent' })] }), parseInventory(yml, 'agent.yml'));
      expect(r.failed).toBe(0);
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
      const bad = await play(definePlaybook({ name: 'k', tasks: () => [] }), inventoryFor([host], { hostVars: { ansible_ssh_private_key_file: join(dir, 'other') } }));
      expect(bad.report.hosts[0]!.error).toBe(`${host.name}: authentication failed for root@127.0.0.1:${host.port} (key ${join(dir, 'other')} not accepted)`);
    } finally {
      if (pid) process.kill(pid);
    }
  });

  test('become: sudo -n works with NOPASSWD, and is a clear error when sudo wants a password', async () => {
    const setup = await host.exec(`set -e
      for u in ptnopw ptpw; do id $u >/dev/null 2>&1 || useradd -m -s /bin/bash $u; install -d -m 700 -o $u -g $u /home/$u/.ssh; install -m 600 -o $u -g $u /root/.ssh/authorized_keys /home/$u/.ssh/authorized_keys; done
      echo 'ptpw:correct-horse' | chpasswd
      echo 'ptnopw ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/ptnopw; echo 'ptpw ALL=(ALL) ALL' > /etc/sudoers.d/ptpw; chmod 440 /etc/sudoers.d/pt*`);
    expect(setup.code).toBe(0);
    const pb = definePlaybook({ name: 'b', become: true, tasks: () => [copy({ dest: '/root/pf-become.txt', content: 'as root\n', mode: '0600' })] });
    const ok = await play(pb, inventoryFor([host], { hostVars: { ansible_user: 'ptnopw' } }));
    expect(statuses(ok)).toEqual(['copy /root/pf-become.txt: changed']);
    expect((await host.exec('stat -c "%U %a" /root/pf-become.txt')).stdout).toBe('root 600\n');
    const bad = await play(pb, inventoryFor([host], { hostVars: { ansible_user: 'ptpw' } }));
    expect(bad.report.hosts[0]!.status).toBe('failed');
    expect(bad.report.hosts[0]!.error).toMatch(/become failed: sudo on ptpw@127\.0\.0\.1:\d+ wants a password or a tty \(sudo -n refused: sudo: a password is required\)/);
  });

  test('CLI: a canary secret appears in no output, diff or JSON report; exit codes 0 / 1 / 2', async () => {
    const canary = 'CANARY-cli-3f9e1d7a';
    const dir = mkdtempSync(join(tmpdir(), 'pf-cli-'));
    await host.exec('mkdir -p /srv/pc');
    const inv = join(dir, 'inv.yml');
    writeFileSync(inv, inventoryYaml([host], { rawHostVars: { canary: `!secret ${canary}` } }));
    const report = join(dir, 'report.json');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin/run.mjs'), join(ROOT, 'test/testhost/provision/canary-playbook.mts'), '-i', inv, ...args], { encoding: 'utf8', cwd: ROOT });
    const runs = [cli('--check', '--diff', '--report', report), cli('--diff', '--report', report), cli('--diff', '-e', 'fail_at_end=yes', '--report', report)];
    expect(runs.map((r) => r.status)).toEqual([0, 0, 1]);
    expect(runs[0]!.stdout).toContain('+TOKEN=***');
    expect(runs[2]!.stdout).toContain('could not use ***');
    for (const r of runs) expect(r.stdout + r.stderr).not.toContain(canary);
    const rep = readFileSync(report, 'utf8');
    expect(rep).not.toContain(canary);
    expect(JSON.parse(rep).hosts[0].error).toBe('fails with the secret in its message: could not use ***');
    // but the host got the real value
    expect((await host.exec('cat /srv/pc/secret.env /srv/pc/stdin.txt; echo; cat /srv/pc/env.txt; echo; grep TOKEN /opt/compose/pcanary/.env')).stdout).toBe(
      `TOKEN=${canary}\n${canary}\n${canary}-derived\nTOKEN='${canary}'\n`,
    );
    // bad inventory: one line, exit 2
    writeFileSync(inv, 'all:\n  hosts:\n    x: { ansible_port: nope, ansible_ssh_private_key_file: k }\n');
    const bad = cli();
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`error: ${inv}: all.hosts.x.ansible_port: expected a port number 1-65535, got "nope"\n`);
  });
});
