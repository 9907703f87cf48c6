/**
 * Every provisioning module against a real Debian test host: first run changes, second run changes nothing,
 * check mode leaves the host byte-for-byte as it was (listing + content hashes of the touched trees, packages,
 * accounts, unit files and states, containers), and --diff shows the right before/after.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeTier } from '../support/tier';
import { bootHost, stopOwnHosts, testhostTierReason, type TestHost } from '../harness/testhost';
import {
  apt, authorizedKey, blockInFile, command, compose, composePrune, copy, cron, definePlaybook, directory, download, file, git, group, lineInFile,
  link, absent, secret, shell, sysctl, systemd, template, timer, touch, user, venv, type TaskList,
} from '../../provision';
import type { Inventory } from '../../provision/inventory';
import { inventoryFor, play, snapshot, statuses, type Played } from './provision/helpers';
import { mkdtempSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';

const reason = testhostTierReason();

describeTier('testhost', reason, () => {
  jest.setTimeout(240_000);
  let host: TestHost;
  let inv: Inventory;

  beforeAll(async () => {
    host = await bootHost({ waitForSystem: true });
    inv = inventoryFor([host]);
    await host.exec('mkdir -p /srv/pt');
  });
  afterAll(() => stopOwnHosts());

  /** check (host untouched) -> run (changes) -> run (no change) -> check (no change) */
  async function converge(name: string, tasks: () => TaskList, o: { diff?: string[]; allChanged?: boolean } = {}): Promise<{ check: Played; first: Played; second: Played }> {
    const pb = definePlaybook({ name, tasks });
    const before = await snapshot(host);
    const check = await play(pb, inv, { check: true, diff: true });
    expect({ failed: check.failed, out: check.out }).toEqual({ failed: 0, out: expect.any(String) });
    expect(check.changed).toBeGreaterThan(0);
    for (const s of o.diff ?? []) expect(check.out).toContain(s);
    expect(await snapshot(host)).toEqual(before);
    const first = await play(pb, inv, { diff: true });
    if (first.failed) throw new Error(`first run failed:\n${first.out}`);
    if (o.allChanged !== false) expect(statuses(first)).toEqual(first.tasks.map((t) => `${t.name}: changed`));
    const second = await play(pb, inv);
    if (second.changed || second.failed) throw new Error(`second run not a no-op:\n${second.out}`);
    const check2 = await play(pb, inv, { check: true });
    expect([check2.changed, check2.failed]).toEqual([0, 0]);
    return { check, first, second };
  }

  test('facts: one round trip; when() sees them; the report carries them', async () => {
    const seen: string[] = [];
    const pb = definePlaybook({
      name: 'facts',
      gatherFacts: true,
      tasks: () => [
        command({ name: 'on debian', cmd: ['true'], when: (h) => (seen.push(`${h.facts.os.id} ${h.facts.os.versionId}`), h.facts.os.id === 'debian') }),
        command({ name: 'on rhel', cmd: ['true'], when: (h) => h.facts.os.id === 'rhel' }),
        command({ name: 'with a gpu', cmd: ['true'], when: (h) => h.facts.gpus.length > 0 }),
      ],
    });
    const r = await play(pb, inv);
    expect(statuses(r)).toEqual(['on debian: changed', 'on rhel: skipped', 'with a gpu: skipped']);
    expect(seen).toEqual(['debian 12']);
    const f = r.report.hosts[0]!.facts!;
    expect(f).toMatchObject({ os: { id: 'debian', versionId: '12', codename: 'bookworm' }, arch: 'x86_64', init: 'systemd', pkgMgr: 'apt', gpus: [] });
    expect(f.docker).toMatch(/^\d+\.\d+\.\d+/);
    expect(f.compose).toMatch(/^2\./);
    expect(f.disk.rootAvailBytes).toBeGreaterThan(0);
    expect(f.memTotalBytes).toBeGreaterThan(0);
    expect(f.cpus).toBeGreaterThan(0);
  });

  test('file: directory, touch, link, attributes, absent', async () => {
    await host.exec('mkdir -p /srv/pt/file && echo old > /srv/pt/file/gone.txt && echo x > /srv/pt/file/attrs.txt && chmod 0644 /srv/pt/file/attrs.txt');
    const { check } = await converge('file', () => [
      directory({ path: '/srv/pt/file/d1/d2', mode: '0750', owner: 'nobody', group: 'nogroup' }),
      touch({ path: '/srv/pt/file/empty', mode: '0600' }),
      link({ path: '/srv/pt/file/ln', src: '/srv/pt/file/d1' }),
      file({ path: '/srv/pt/file/attrs.txt', mode: '0640', group: 'nogroup' }),
      absent({ path: '/srv/pt/file/gone.txt' }),
    ]);
    expect(check.out).toContain('+/srv/pt/file/d1/d2: directory mode=0750 owner=nobody group=nogroup');
    expect(check.out).toContain('-/srv/pt/file/attrs.txt: file mode=0644 owner=root group=root');
    expect(check.out).toContain('+/srv/pt/file/attrs.txt: file mode=0640 owner=root group=nogroup');
    const r = await host.exec('stat -c "%a %U %G" /srv/pt/file/d1/d2; readlink /srv/pt/file/ln; stat -c %a /srv/pt/file/empty /srv/pt/file/attrs.txt; test -e /srv/pt/file/gone.txt || echo gone');
    expect(r.stdout).toBe('750 nobody nogroup\n/srv/pt/file/d1\n600\n640\ngone\n');
    // retarget a link
    const re = await play(definePlaybook({ name: 'relink', tasks: () => [link({ path: '/srv/pt/file/ln', src: '/srv/pt/file/d1/d2' })] }), inv);
    expect(re.tasks[0]!.status).toBe('changed');
    expect((await host.exec('readlink /srv/pt/file/ln')).stdout).toBe('/srv/pt/file/d1/d2\n');
  });

  test('copy: inline content, local src, backup, secrets never shown; large file via SFTP', async () => {
    await host.exec('mkdir -p /srv/pt/copy && printf "line1\\nold\\n" > /srv/pt/copy/a.conf');
    const local = mkdtempSync(join(tmpdir(), 'prov-copy-'));
    const big = Buffer.alloc(6 * 1024 * 1024, 'x');
    writeFileSync(join(local, 'big.bin'), big);
    writeFileSync(join(local, 'small.txt'), 'from a local file\n');
    const token = secret('CANARY-copy-5b1e0c');
    const { check } = await converge('copy', () => [
      copy({ dest: '/srv/pt/copy/a.conf', content: 'line1\nnew\n', backup: true }),
      copy({ dest: '/srv/pt/copy/small.txt', src: join(local, 'small.txt'), mode: '0600', owner: 'nobody' }),
      copy({ dest: '/srv/pt/copy/secret.env', content: `TOKEN=${token.reveal()}\n`, mode: '0600' }),
      copy({ dest: '/srv/pt/copy/big.bin', src: join(local, 'big.bin') }),
    ]);
    expect(check.out).toContain('--- /srv/pt/copy/a.conf (before)');
    expect(check.out).toMatch(/-old\n\s+\+new/);
    expect(check.out).toContain('+TOKEN=***');
    expect(check.out).not.toContain('CANARY-copy-5b1e0c');
    expect(check.out).toContain('too large to diff');
    const r = await host.exec('cat /srv/pt/copy/a.conf; ls /srv/pt/copy | grep -c "a.conf.*.bak"; stat -c "%a %U" /srv/pt/copy/small.txt; sha256sum < /srv/pt/copy/big.bin; ls -a /srv/pt/copy | grep -c ptmp; ls -a /tmp | grep -c provision-upload');
    expect(r.stdout).toBe(`line1\nnew\n1\n600 nobody\n${createHash('sha256').update(big).digest('hex')}  -\n0\n0\n`);
  });

  test('template: typed render function and {{ }} string, diffable', async () => {
    const data = { port: 8080, names: ['a', 'b'], db: { host: 'db1', password: secret('CANARY-tpl-991') } };
    const { check } = await converge('template', () => [
      directory({ path: '/srv/pt/tpl' }),
      template({ dest: '/srv/pt/tpl/app.conf', data, render: (d) => `listen ${d.port}\n${d.names.map((n) => `upstream ${n}\n`).join('')}` }),
      template({ dest: '/srv/pt/tpl/db.conf', data, render: 'host={{ db.host }}\npassword={{ db.password }}\n', mode: '0600' }),
    ]);
    expect(check.out).toContain('+listen 8080');
    expect(check.out).toContain('+password=***');
    expect((await host.exec('cat /srv/pt/tpl/db.conf')).stdout).toBe('host=db1\npassword=CANARY-tpl-991\n');
    const changed = await play(definePlaybook({ name: 't2', tasks: () => [template({ dest: '/srv/pt/tpl/app.conf', data: { ...data, port: 9090 }, render: (d) => `listen ${d.port}\n${d.names.map((n) => `upstream ${n}\n`).join('')}` })] }), inv, { diff: true, check: true });
    expect(changed.out).toMatch(/-listen 8080\n\s+\+listen 9090/);
  });

  test('lineInFile and blockInFile', async () => {
    await host.exec('mkdir -p /srv/pt/edit && printf "# settings\\nPort 22\\nPermitRootLogin yes\\n" > /srv/pt/edit/sshd.conf && chmod 0640 /srv/pt/edit/sshd.conf');
    const { check } = await converge('edits', () => [
      lineInFile({ path: '/srv/pt/edit/sshd.conf', regexp: '^PermitRootLogin', line: 'PermitRootLogin prohibit-password' }),
      lineInFile({ path: '/srv/pt/edit/sshd.conf', line: 'MaxSessions 10', insertAfter: '^Port' }),
      lineInFile({ path: '/srv/pt/edit/new.ini', line: 'enabled = true', create: true }),
      blockInFile({ path: '/srv/pt/edit/sshd.conf', block: 'Match User deploy\n  X11Forwarding no', marker: '# {mark} deploy' }),
    ]);
    expect(check.out).toContain('-PermitRootLogin yes');
    expect(check.out).toContain('+PermitRootLogin prohibit-password');
    const r = await host.exec('cat /srv/pt/edit/sshd.conf; stat -c %a /srv/pt/edit/sshd.conf');
    expect(r.stdout).toBe('# settings\nPort 22\nMaxSessions 10\nPermitRootLogin prohibit-password\n# BEGIN deploy\nMatch User deploy\n  X11Forwarding no\n# END deploy\n640\n');
  });

  test('apt: install (cache refreshed only when stale), absent; package list untouched in check mode', async () => {
    const { check } = await converge('apt', () => [apt({ packages: ['hello', 'sl'], cacheValidTime: 0 })]);
    expect(check.out).toContain('update cache, install hello sl');
    expect((await host.exec("dpkg-query -W -f='${Status}\\n' hello sl")).stdout).toBe('install ok installed\ninstall ok installed\n');
    // installed packages: no cache refresh even with a zero cache validity
    const again = await play(definePlaybook({ name: 'apt2', tasks: () => [apt({ packages: 'hello', cacheValidTime: 0 })] }), inv);
    expect(again.tasks[0]!.status).toBe('ok');
    await converge('apt absent', () => [apt({ packages: ['sl'], state: 'absent' })]);
    expect((await host.exec("dpkg-query -W -f='${db:Status-Abbrev}\\n' sl 2>/dev/null | grep -c '^ii'")).stdout.trim()).toBe('0');
  });

  test('apt latest; copy validate; user password hash compared, never shown', async () => {
    // latest: installs or upgrades as needed, then a re-run (cache fresh enough) changes nothing
    const latestPb = definePlaybook({ name: 'apt latest', tasks: () => [apt({ packages: 'hello', state: 'latest', cacheValidTime: 10 * 365 * 86400 })] });
    expect((await play(latestPb, inv)).failed).toBe(0);
    expect(statuses(await play(latestPb, inv))).toEqual(['apt latest hello: ok']);
    expect(statuses(await play(latestPb, inv, { check: true }))).toEqual(['apt latest hello: ok']);
    await host.exec('mkdir -p /srv/pt/val');
    const bad = await play(definePlaybook({ name: 'v', tasks: () => [copy({ dest: '/srv/pt/val/sudoers', content: 'this is not sudoers syntax\n', validate: 'visudo -cf %s' })] }), inv);
    expect(bad.tasks[0]!.status).toBe('failed');
    expect(bad.tasks[0]!.msg).toContain('validation failed');
    expect((await host.exec('ls -A /srv/pt/val | wc -l')).stdout.trim()).toBe('0');
    await converge('validate ok', () => [copy({ dest: '/srv/pt/val/sudoers', content: 'root ALL=(ALL) ALL\n', mode: '0440', validate: 'visudo -cf %s' })]);
    const hash = '$6$rounds=5000$saltsalt$ZQmzr0QW7x2y1pTfVQvXqkTTmWWaP1YIlOFdh1DnHfJYqpuwK9uSZ0vCZ8n9fGKVe7GCX9a2qfJbTgEfpnc1p.';
    const pw = await converge('password', () => [user({ user: 'ptpw2', passwordHash: secret(hash) })]);
    expect(pw.check.out).not.toContain('saltsalt');
    expect((await host.exec('getent shadow ptpw2 | cut -d: -f2')).stdout.trim()).toBe(hash);
    await host.exec('userdel -r ptpw2 2>/dev/null; true');
  });

  test('user, group, authorized key', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq9vTEST0provisionKEYfortestsonlyAAAAAAAAAA deploy@test';
    await converge('accounts', () => [
      group({ group: 'ptapps', gid: 2345 }),
      user({ user: 'ptdeploy', shell: '/bin/bash', groups: ['ptapps'], comment: 'Deploy user' }),
      authorizedKey({ user: 'ptdeploy', key }),
    ]);
    const r = await host.exec('getent group ptapps | cut -d: -f3; id -Gn ptdeploy; getent passwd ptdeploy | cut -d: -f5,7; stat -c "%a %U" /home/ptdeploy/.ssh /home/ptdeploy/.ssh/authorized_keys; cat /home/ptdeploy/.ssh/authorized_keys');
    expect(r.stdout).toBe(`2345\nptdeploy ptapps\nDeploy user:/bin/bash\n700 ptdeploy\n600 ptdeploy\n${key}\n`);
    const mod = await converge('accounts 2', () => [user({ user: 'ptdeploy', shell: '/bin/sh' }), authorizedKey({ user: 'ptdeploy', key, state: 'absent' })]);
    expect(mod.check.out).toContain('shell /bin/bash -> /bin/sh');
    await converge('accounts 3', () => [user({ user: 'ptdeploy', state: 'absent', remove: true }), group({ group: 'ptapps', state: 'absent' })]);
  });

  test('systemd: unit content, enabled, started; daemon-reload only when a unit changed; restart handler once', async () => {
    const unit = (msg: string) => `[Unit]\nDescription=pt test service\n[Service]\nExecStart=/bin/sh -c 'echo ${msg}; exec sleep infinity'\n[Install]\nWantedBy=multi-user.target\n`;
    const { check } = await converge('systemd', () => [systemd({ unit: 'pt-sleep.service', content: unit('one'), enabled: true, state: 'started' })]);
    expect(check.out).toContain('create unit, enable, start');
    expect(check.out).toContain('+ExecStart=');
    expect((await host.exec('systemctl is-enabled pt-sleep; systemctl is-active pt-sleep')).stdout).toBe('enabled\nactive\n');
    const pid1 = (await host.exec('systemctl show -p MainPID --value pt-sleep')).stdout.trim();
    // no change -> no daemon-reload: the unit's load timestamp does not move
    const loaded = async () => (await host.exec('systemctl show -p NeedDaemonReload --value pt-sleep; stat -c %Y /etc/systemd/system/pt-sleep.service')).stdout;
    const l0 = await loaded();
    const noop = await play(definePlaybook({ name: 'sd', tasks: () => [systemd({ unit: 'pt-sleep.service', content: unit('one'), enabled: true, state: 'started' })] }), inv);
    expect(noop.changed).toBe(0);
    expect(await loaded()).toBe(l0);
    // content change: rewritten, reloaded, restarted; handler notified twice runs once
    const pb2 = definePlaybook({
      name: 'sd2',
      tasks: () => [
        systemd({ unit: 'pt-sleep.service', content: unit('two'), enabled: true, state: 'started', notify: 'restart sleeper' }),
        copy({ dest: '/srv/pt/sd-marker', content: 'x\n', notify: 'restart sleeper' }),
      ],
      handlers: () => [systemd({ name: 'restart sleeper', unit: 'pt-sleep.service', state: 'restarted' })],
    });
    const r2 = await play(pb2, inv);
    expect(statuses(r2)).toEqual(['systemd pt-sleep.service started: changed', 'copy /srv/pt/sd-marker: changed', 'restart sleeper: changed']);
    expect((await host.exec('systemctl show -p NeedDaemonReload --value pt-sleep')).stdout.trim()).toBe('no');
    expect((await host.exec('systemctl show -p MainPID --value pt-sleep')).stdout.trim()).not.toBe(pid1);
    const r3 = await play(pb2, inv);
    expect(r3.changed).toBe(0);
    await converge('systemd stop', () => [systemd({ unit: 'pt-sleep.service', enabled: false, state: 'stopped' })]);
    expect((await host.exec('systemctl is-enabled pt-sleep; systemctl is-active pt-sleep')).stdout).toBe('disabled\ninactive\n');
  });

  test('timer and cron', async () => {
    await converge('schedules', () => [
      timer({ unit: 'pt-backup', onCalendar: '*-*-* 03:00:00', command: ['/bin/echo', 'backup done'] }),
      cron({ cronName: 'pt-cleanup', schedule: '*/15 * * * *', command: 'find /tmp -name "*.pt" -delete', user: 'nobody' }),
    ], { allChanged: true });
    const r = await host.exec('systemctl is-enabled pt-backup.timer; systemctl is-active pt-backup.timer; cat /etc/cron.d/pt-cleanup | tail -1');
    expect(r.stdout).toBe('enabled\nactive\n*/15 * * * * nobody find /tmp -name "*.pt" -delete\n');
    expect((await host.exec('systemctl start pt-backup.service && journalctl -u pt-backup.service --no-pager -o cat | grep -c "backup done"')).stdout.trim()).toBe('1');
  });

  test('sysctl: persisted and applied at runtime', async () => {
    const { check } = await converge('sysctl', () => [sysctl({ key: 'net.core.somaxconn', value: 1024, file: '/etc/sysctl.d/60-pt.conf' })]);
    expect(check.out).toContain('+net.core.somaxconn = 1024');
    expect((await host.exec('sysctl -n net.core.somaxconn; cat /etc/sysctl.d/60-pt.conf')).stdout).toBe('1024\nnet.core.somaxconn = 1024\n');
  });

  test('git: clone at a branch, move to a tag, refuse a dirty tree', async () => {
    const setup = await host.exec(`set -e
      rm -rf /srv/pt/repo.git /tmp/ptsrc; git init -q --bare -b main /srv/pt/repo.git; git init -q -b main /tmp/ptsrc; cd /tmp/ptsrc
      git config user.email t@t; git config user.name t
      echo v1 > f; git add f; git commit -qm v1; git tag v1; echo v2 > f; git commit -qam v2
      git push -q /srv/pt/repo.git main --tags; git rev-parse v1 HEAD`);
    expect(setup.code).toBe(0);
    const [v1, head] = setup.stdout.trim().split('\n');
    const { check } = await converge('git', () => [git({ repo: '/srv/pt/repo.git', dest: '/srv/pt/checkout', version: 'main' })]);
    expect(check.out).toContain(`+/srv/pt/repo.git @ ${head}`);
    expect((await host.exec('cat /srv/pt/checkout/f')).stdout).toBe('v2\n');
    await converge('git tag', () => [git({ repo: '/srv/pt/repo.git', dest: '/srv/pt/checkout', version: 'v1' })]);
    expect((await host.exec('git -C /srv/pt/checkout rev-parse HEAD; cat /srv/pt/checkout/f')).stdout).toBe(`${v1}\nv1\n`);
    await host.exec('echo dirty > /srv/pt/checkout/f');
    const dirty = await play(definePlaybook({ name: 'g', tasks: () => [git({ repo: '/srv/pt/repo.git', dest: '/srv/pt/checkout', version: 'main' })] }), inv);
    expect(dirty.tasks[0]!.msg).toContain('has local modifications');
    const forced = await play(definePlaybook({ name: 'g', tasks: () => [git({ repo: '/srv/pt/repo.git', dest: '/srv/pt/checkout', version: 'main', force: true })] }), inv);
    expect(forced.tasks[0]!.status).toBe('changed');
    expect((await host.exec('cat /srv/pt/checkout/f')).stdout).toBe('v2\n');
  });

  test('venv: created once, pip runs only when the requirements hash changes', async () => {
    // a tiny wheel built in the guest (no index is reachable): pip installs it from a local path
    const mk = await host.exec(`set -e; mkdir -p /srv/pt/wheels; cd /srv/pt/wheels; python3 - <<'PY'
import zipfile
for v in ('0.1', '0.2'):
    with zipfile.ZipFile(f'ptpkg-{v}-py3-none-any.whl', 'w') as z:
        z.writestr('ptpkg/__init__.py', f'VERSION = "{v}"\\n')
        z.writestr(f'ptpkg-{v}.dist-info/METADATA', f'Metadata-Version: 2.1\\nName: ptpkg\\nVersion: {v}\\n')
        z.writestr(f'ptpkg-{v}.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')
        z.writestr(f'ptpkg-{v}.dist-info/RECORD', '')
PY`);
    expect(mk.code).toBe(0);
    const v = (ver: string) => venv({ path: '/srv/pt/venv', requirements: `ptpkg==${ver}\n`, pipArgs: ['--no-index', '--find-links', '/srv/pt/wheels'] });
    await converge('venv', () => [v('0.1')]);
    const ver = async () => (await host.exec(`/srv/pt/venv/bin/python -c 'import ptpkg; print(ptpkg.VERSION)'`)).stdout.trim();
    expect(await ver()).toBe('0.1');
    const up = await converge('venv upgrade', () => [v('0.2')]);
    expect(up.check.out).toContain('requirements changed');
    expect(await ver()).toBe('0.2');
  });

  test('command and shell: creates / unless guards, changedWhen, stdin secrets', async () => {
    const { check } = await converge('commands', () => [
      command({ cmd: ['touch', '/srv/pt/cmd-created'], creates: '/srv/pt/cmd-created' }),
      shell({ cmd: 'echo ok >> /srv/pt/cmd-log', unless: 'grep -q ok /srv/pt/cmd-log' }),
      shell({ cmd: 'cat > /srv/pt/cmd-secret', stdin: secret('CANARY-stdin-42'), creates: '/srv/pt/cmd-secret' }),
    ]);
    expect(check.out).toContain('would run');
    expect((await host.exec('cat /srv/pt/cmd-log /srv/pt/cmd-secret')).stdout).toBe('ok\nCANARY-stdin-42');
    const cw = await play(definePlaybook({ name: 'cw', tasks: () => [shell({ cmd: 'echo unchanged', changedWhen: (r) => !r.stdout.includes('unchanged') })] }), inv);
    expect(cw.tasks[0]!.status).toBe('ok');
    const bad = await play(definePlaybook({ name: 'bad', tasks: () => [shell({ cmd: 'echo oops >&2; exit 3' })] }), inv);
    expect(bad.tasks[0]).toMatchObject({ status: 'failed', msg: 'exit 3: oops' });
  });

  test('download: fetched over http, sha256 verified, a wrong checksum leaves nothing behind', async () => {
    const serve = await host.exec(`set -e; mkdir -p /srv/pt/www; printf 'payload v1\\n' > /srv/pt/www/file.txt
      systemd-run -q --unit=pt-http --property=Type=simple python3 -m http.server 18181 --bind 127.0.0.1 --directory /srv/pt/www
      for i in $(seq 50); do python3 -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:18181/file.txt")' 2>/dev/null && break; sleep 0.1; done`);
    expect(serve.code).toBe(0);
    const sha = createHash('sha256').update('payload v1\n').digest('hex');
    await converge('download', () => [download({ url: 'http://127.0.0.1:18181/file.txt', dest: '/srv/pt/dl.txt', sha256: sha, mode: '0640' })]);
    expect((await host.exec('cat /srv/pt/dl.txt; stat -c %a /srv/pt/dl.txt')).stdout).toBe('payload v1\n640\n');
    const wrong = await play(definePlaybook({ name: 'dl', tasks: () => [download({ url: 'http://127.0.0.1:18181/file.txt', dest: '/srv/pt/dl2.txt', sha256: 'a'.repeat(64) })] }), inv);
    expect(wrong.tasks[0]!.status).toBe('failed');
    expect(wrong.tasks[0]!.msg).toContain('sha256 mismatch');
    expect((await host.exec('ls -a /srv/pt | grep -c dl2')).stdout.trim()).toBe('0');
    await host.exec('systemctl stop pt-http');
  });

  test('compose: validated, up only on change, containers kept on a no-op, env change recreates, absent and prune remove', async () => {
    const spec = (mode: string) => ({
      services: {
        web: { image: 'local/busybox:latest', command: ['httpd', '-f', '-p', '80'], init: true, environment: { MODE: '${MODE}' } },
      },
    });
    const proj = (mode: string, token = secret('CANARY-compose-77')) => compose({ project: 'ptapp', compose: spec(mode), env: { MODE: mode, TOKEN: token }, pull: 'never' });
    const ids = async () => (await host.exec(`docker ps -a --filter label=com.docker.compose.project=ptapp --format '{{.ID}} {{.State}}'`)).stdout;
    const { check } = await converge('compose', () => [proj('one')]);
    expect(check.out).toContain("+MODE='one'");
    expect(check.out).toContain("+TOKEN='***'");
    expect(check.out).not.toContain('CANARY-compose-77');
    const id1 = await ids();
    expect(id1).toMatch(/^\w+ running\n$/);
    expect((await host.exec('stat -c %a /opt/compose/ptapp/.env')).stdout).toBe('600\n');
    // a no-op keeps the container (converge's second run); an env change recreates it
    expect(await ids()).toBe(id1);
    await converge('compose 2', () => [proj('two')]);
    const id2 = await ids();
    expect(id2).not.toBe(id1);
    expect((await host.exec(`docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' $(docker ps -q --filter label=com.docker.compose.project=ptapp) | grep ^MODE`)).stdout).toBe('MODE=two\n');
    // an invalid file is refused before it replaces the good one
    const before = (await host.exec('sha256sum /opt/compose/ptapp/compose.yaml')).stdout;
    const bad = await play(definePlaybook({ name: 'bad', tasks: () => [compose({ project: 'ptapp', compose: 'services:\n  web:\n    image: 1\n    ports: "x"\n    nosuchkey: true\n', pull: 'never' })] }), inv);
    expect(bad.tasks[0]!.status).toBe('failed');
    expect(bad.tasks[0]!.msg).toContain('docker compose config rejected the new files');
    expect((await host.exec('sha256sum /opt/compose/ptapp/compose.yaml; ls -a /opt/compose/ptapp | grep -c ptmp')).stdout).toBe(before + '0\n');
    expect(await ids()).toBe(id2);
    // a second project, then prune everything but it; then absent
    await converge('compose other', () => [compose({ project: 'ptother', compose: spec('x'), env: { MODE: 'x' }, pull: 'never' })]);
    await converge('compose prune', () => [composePrune({ keep: ['ptother'] })]);
    expect(await ids()).toBe('');
    expect((await host.exec('ls /opt/compose')).stdout).toBe('ptother\n');
    await converge('compose absent', () => [compose({ project: 'ptother', state: 'absent' })]);
    expect((await host.exec('ls /opt/compose; docker ps -aq | wc -l')).stdout).toBe('0\n');
  });
});
