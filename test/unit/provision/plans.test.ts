/**
 * Every module's decisions against fake facts: plan() is pure, so no host, no root and no shell is needed.
 * The steps are data, so the exact commands and writes a plan would run are asserted too.
 */
import type { FileState } from '../../../provision/facts/file';
import type { UnitState } from '../../../provision/facts/unit';
import { sha256 } from '../../../provision/files';
import type { Plan, Step, Task } from '../../../provision/task';
import { apt } from '../../../provision/tasks/apt';
import { authorizedKey } from '../../../provision/tasks/authorizedkey';
import { blockInFile } from '../../../provision/tasks/blockinfile';
import { command, shell } from '../../../provision/tasks/command';
import { compose, composePrune } from '../../../provision/tasks/compose';
import { copy } from '../../../provision/tasks/copy';
import { dockerNetwork } from '../../../provision/tasks/docker-network';
import { download } from '../../../provision/tasks/download';
import { absent, directory, file, link, touch } from '../../../provision/tasks/file';
import { git } from '../../../provision/tasks/git';
import { lineInFile } from '../../../provision/tasks/lineinfile';
import { sysctl } from '../../../provision/tasks/sysctl';
import { systemd } from '../../../provision/tasks/systemd';
import { template } from '../../../provision/tasks/template';
import { timer } from '../../../provision/tasks/timer';
import { group, user } from '../../../provision/tasks/user';
import { venv } from '../../../provision/tasks/venv';
import { pipRequirements, requireGpu, waitForHttp } from '../../../playbooks/comfyui/tasks';

const host = { name: 'h', groups: [], vars: {} };
const plan = (t: Task, facts: Record<string, unknown>, check = false): Plan => {
  // every fact plan() reads is declared by the task, and nothing else is passed
  expect(Object.keys(facts).sort()).toEqual(Object.keys(t.facts).sort());
  return t.plan(facts, { check, host });
};
const runs = (p: Plan): string[] => (p.steps ?? []).map((s: Step) => ('run' in s ? s.run : `write ${s.write}`));
const writes = (p: Plan): { path: string; content: string; opts: unknown }[] =>
  (p.steps ?? []).flatMap((s) => ('write' in s ? [{ path: s.write, content: s.content.toString(), opts: s.opts }] : []));

const none = (path: string): FileState => ({ path, type: 'absent' });
const reg = (path: string, content: string, attrs: Partial<FileState> = {}): FileState => ({
  path, type: 'file', mode: '0644', owner: 'root', group: 'root', size: content.length, sha256: sha256(content), ...attrs,
});
const dir = (path: string, attrs: Partial<FileState> = {}): FileState => ({ path, type: 'directory', mode: '0755', owner: 'root', group: 'root', ...attrs });

describe('file, directory, link, touch, absent', () => {
  test('directory: created with its attributes; attributes fixed; another type refused', () => {
    const t = directory({ path: '/srv/a', mode: '0750', owner: 'app' });
    const p = plan(t, { cur: none('/srv/a') });
    expect(p).toMatchObject({ changed: true, msg: 'create' });
    expect(runs(p)).toEqual(['mkdir -p -- /srv/a && chmod 0750 -- /srv/a && chown app -- /srv/a']);
    expect(plan(t, { cur: dir('/srv/a', { mode: '0750', owner: 'app' }) }).changed).toBe(false);
    const fix = plan(t, { cur: dir('/srv/a') });
    expect(fix.msg).toBe('mode 0755 -> 0750, owner root -> app');
    expect(() => plan(t, { cur: reg('/srv/a', '') })).toThrow('/srv/a exists and is a file, not a directory');
  });

  test('file only fixes attributes; touch creates; absent removes; nothing to do is unchanged', () => {
    expect(() => plan(file({ path: '/f', mode: '0600' }), { cur: none('/f') })).toThrow(/does not exist/);
    expect(runs(plan(touch({ path: '/f' }), { cur: none('/f') }))).toEqual([': >> /f && chmod 0644 -- /f']);
    expect(runs(plan(absent({ path: '/f' }), { cur: reg('/f', 'x') }))).toEqual(['rm -rf -- /f']);
    expect(plan(absent({ path: '/f' }), { cur: none('/f') }).changed).toBe(false);
  });

  test('link: created atomically beside the path; the same target is unchanged; another type needs force', () => {
    const t = link({ path: '/srv/cur', src: '/srv/v2' });
    const p = plan(t, { cur: { path: '/srv/cur', type: 'link', target: '/srv/v1' } });
    expect(p.msg).toBe('retarget /srv/v1 -> /srv/v2');
    expect(runs(p)[0]).toContain('ln -sfn -- /srv/v2 "$t"');
    expect(runs(p)[0]).toContain('mv -fT -- "$t" "$p"');
    expect(plan(t, { cur: { path: '/srv/cur', type: 'link', target: '/srv/v2', mode: '0777' } }).changed).toBe(false);
    expect(() => plan(t, { cur: reg('/srv/cur', '') })).toThrow(/set force: true/);
  });
});

describe('copy and template', () => {
  test('absent: one atomic write with the attributes; same content: unchanged; attributes only: chmod/chown', () => {
    const t = copy({ dest: '/etc/app.conf', content: 'a=1\n', mode: '0640', owner: 'app' });
    const p = plan(t, { cur: none('/etc/app.conf') });
    expect(p.msg).toBe('create');
    expect(writes(p)).toEqual([{ path: '/etc/app.conf', content: 'a=1\n', opts: { mode: '0640', owner: 'app', group: undefined, backup: undefined, validate: undefined } }]);
    expect(plan(t, { cur: reg('/etc/app.conf', 'a=1\n', { mode: '0640', owner: 'app' }) }).changed).toBe(false);
    const attrs = plan(t, { cur: reg('/etc/app.conf', 'a=1\n') });
    expect(attrs.msg).toBe('mode 0644 -> 0640, owner root -> app');
    expect(runs(attrs)).toEqual(['chmod 0640 -- /etc/app.conf && chown app -- /etc/app.conf']);
    expect(() => plan(t, { cur: dir('/etc/app.conf') })).toThrow('is a directory, not a regular file');
  });

  test('template renders from typed data; a missing key is an error', () => {
    const t = template({ dest: '/etc/x', data: { port: 80 }, render: 'listen {{ port }};\n' });
    expect(writes(plan(t, { cur: none('/etc/x') }))[0]!.content).toBe('listen 80;\n');
    expect(plan(t, { cur: reg('/etc/x', 'listen 80;\n') }).changed).toBe(false);
    expect(() => plan(template({ dest: '/etc/x', data: {}, render: '{{ nope }}' }), { cur: none('/etc/x') })).toThrow('no value for {{ nope }}');
  });
});

describe('lineInFile and blockInFile', () => {
  const f = '/etc/hosts';
  test('edit, no-op, missing file without create, create', () => {
    const t = lineInFile({ path: f, line: '10.0.0.5 db', regexp: '\\sdb$' });
    const p = plan(t, { st: reg(f, '127.0.0.1 localhost\n10.0.0.4 db\n'), content: Buffer.from('127.0.0.1 localhost\n10.0.0.4 db\n') });
    expect(p.msg).toBe('edit');
    expect(writes(p)[0]!.content).toBe('127.0.0.1 localhost\n10.0.0.5 db\n');
    expect(plan(t, { st: reg(f, '10.0.0.5 db\n'), content: Buffer.from('10.0.0.5 db\n') }).changed).toBe(false);
    expect(() => plan(t, { st: none(f), content: null })).toThrow('does not exist (set create: true to create it)');
    const c = plan(lineInFile({ path: f, line: 'x', create: true }), { st: none(f), content: null });
    expect(writes(c)).toEqual([{ path: f, content: 'x\n', opts: { mode: '0644', owner: undefined, group: undefined, backup: undefined } }]);
    expect(plan(lineInFile({ path: f, line: 'x', state: 'absent' }), { st: none(f), content: null })).toMatchObject({ changed: false, msg: 'file absent' });
  });

  test('blockInFile inserts the marked block once', () => {
    const t = blockInFile({ path: f, block: 'a\nb' });
    const p = plan(t, { st: reg(f, 'x\n'), content: Buffer.from('x\n') });
    const after = writes(p)[0]!.content;
    expect(after).toBe('x\n# BEGIN MANAGED BLOCK\na\nb\n# END MANAGED BLOCK\n');
    expect(plan(t, { st: reg(f, after), content: Buffer.from(after) }).changed).toBe(false);
  });
});

describe('apt', () => {
  const fresh = { lists: true, ageSeconds: 10 };
  const stale = { lists: true, ageSeconds: 90_000 };
  test('installed: unchanged, whatever the cache age', () => {
    const t = apt({ packages: ['curl', 'git'] });
    expect(plan(t, { cache: stale, 'pkg:curl': { installed: true }, 'pkg:git': { installed: true } }).changed).toBe(false);
  });

  test('missing: install in one apt-get call; the cache refreshed first only when stale', () => {
    const t = apt({ packages: 'curl git', installRecommends: false });
    const f = { 'pkg:curl': { installed: true }, 'pkg:git': { installed: false } };
    const p = plan(t, { ...f, cache: fresh });
    expect(p.msg).toBe('install git');
    expect(runs(p)).toHaveLength(1);
    expect(runs(p)[0]).toMatch(/apt-get .* --no-install-recommends install git$/);
    const q = plan(t, { ...f, cache: stale });
    expect(q.msg).toBe('update cache, install git');
    expect(runs(q)[0]).toMatch(/apt-get .* update && mkdir -p \/var\/lib\/apt\/periodic && touch \/var\/lib\/apt\/periodic\/update-success-stamp$/);
    expect(plan(apt({ packages: 'git', updateCache: false }), { 'pkg:git': { installed: false }, cache: stale }).msg).toBe('install git');
    expect(plan(t, { ...f, cache: { lists: false, ageSeconds: 0 } }).msg).toBe('update cache, install git');
  });

  test('a pin that differs reinstalls at that version; latest follows the candidate; absent removes', () => {
    const pin = apt({ packages: ['hello=2.10-3'] });
    expect(plan(pin, { 'pkg:hello': { installed: true, version: '2.10-2' }, cache: fresh }).msg).toBe('install hello=2.10-3');
    expect(plan(pin, { 'pkg:hello': { installed: true, version: '2.10-3' }, cache: fresh }).changed).toBe(false);
    const latest = apt({ packages: ['hello'], state: 'latest' });
    expect(plan(latest, { 'pkg:hello': { installed: true, version: '1' }, 'candidate:hello': '2', cache: fresh }).msg).toBe('install hello');
    expect(plan(latest, { 'pkg:hello': { installed: true, version: '2' }, 'candidate:hello': '2', cache: fresh }).changed).toBe(false);
    const rm = apt({ packages: ['hello', 'sl'], state: 'absent', purge: true });
    const p = plan(rm, { 'pkg:hello': { installed: true, version: '1' }, 'pkg:sl': { installed: false }, cache: fresh });
    expect(runs(p)[0]).toMatch(/ purge hello$/);
  });
});

describe('user, group, authorizedKey', () => {
  const app = { name: 'app', uid: 1001, gid: 1001, group: 'app', comment: 'App', home: '/home/app', shell: '/bin/sh' };
  test('user: created, modified field by field, unchanged, removed', () => {
    const t = user({ user: 'app', shell: '/bin/bash', groups: ['docker'], comment: 'App' });
    const c = plan(t, { pw: undefined, groups: [] });
    expect(c.msg).toBe('create');
    expect(runs(c)[0]).toMatch(/^useradd \$\(if getent group app .*\) -G docker -s \/bin\/bash -c App -m app$/);
    const m = plan(t, { pw: app, groups: ['app'] });
    expect(m.msg).toBe('groups app -> app,docker, shell /bin/sh -> /bin/bash');
    expect(runs(m)).toEqual(['usermod -a -G docker -s /bin/bash app']);
    expect(plan(t, { pw: { ...app, shell: '/bin/bash' }, groups: ['app', 'docker'] }).changed).toBe(false);
    expect(runs(plan(user({ user: 'app', state: 'absent', remove: true }), { pw: app }))).toEqual(['userdel -r app']);
    expect(plan(user({ user: 'app', state: 'absent' }), { pw: undefined }).changed).toBe(false);
  });

  test('user: the password hash is compared by digest and never part of the message or diff', () => {
    const hash = '$6$salt$abc';
    const t = user({ user: 'app', passwordHash: hash });
    const same = require('node:crypto').createHash('sha256').update(hash + '\n').digest('hex');
    expect(plan(t, { pw: app, shadow: same }).changed).toBe(false);
    const p = plan(t, { pw: app, shadow: 'other' });
    expect(p.msg).toBe('password');
    expect(JSON.stringify(p.diff)).not.toContain(hash);
  });

  test('group: created, gid changed, removed', () => {
    expect(runs(plan(group({ group: 'web', gid: 2000 }), { entry: undefined }))).toEqual(['groupadd -g 2000 web']);
    expect(runs(plan(group({ group: 'web', gid: 2000 }), { entry: { name: 'web', gid: 1999, members: [] } }))).toEqual(['groupmod -g 2000 web']);
    expect(plan(group({ group: 'web' }), { entry: { name: 'web', gid: 1999, members: [] } }).changed).toBe(false);
    expect(runs(plan(group({ group: 'web', state: 'absent' }), { entry: { name: 'web', gid: 1999, members: [] } }))).toEqual(['groupdel web']);
  });

  test('authorizedKey: home and primary group come from the passwd fact; a missing user fails (assumed in check mode)', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 alice';
    const t = authorizedKey({ user: 'app', key });
    const p = plan(t, { pw: app, keys: null });
    expect(p.msg).toBe('create authorized_keys');
    expect(runs(p)[0]).toBe('install -d -m 0700 -o app -g app -- /home/app/.ssh');
    expect(writes(p)).toEqual([{ path: '/home/app/.ssh/authorized_keys', content: key + '\n', opts: { mode: '0600', owner: 'app', group: 'app' } }]);
    expect(plan(t, { pw: app, keys: Buffer.from(key + '\n') }).changed).toBe(false);
    expect(() => plan(t, { pw: undefined, keys: null })).toThrow('user app does not exist');
    expect(plan(t, { pw: undefined, keys: null }, true).changed).toBe(true);
  });
});

describe('systemd and timer', () => {
  const loaded = (over: Partial<UnitState> = {}): UnitState => ({ queried: true, load: 'loaded', active: 'active', fileState: 'enabled', needDaemonReload: false, ...over });
  const unitFile = '[Service]\nExecStart=/bin/true\n';
  test('running, enabled and the same file: unchanged', () => {
    const t = systemd({ unit: 'app.service', content: unitFile, enabled: true, state: 'started' });
    expect(plan(t, { unit: loaded(), file: reg('/etc/systemd/system/app.service', unitFile) }).changed).toBe(false);
  });

  test('a changed file: written, daemon-reload, and a running unit restarted (one systemctl line)', () => {
    const t = systemd({ unit: 'app.service', content: unitFile, enabled: true, state: 'started' });
    const p = plan(t, { unit: loaded(), file: reg('/etc/systemd/system/app.service', 'old') });
    expect(p.msg).toBe('update unit, restart (unit changed)');
    expect(writes(p)[0]).toMatchObject({ path: '/etc/systemd/system/app.service', content: unitFile, opts: { mode: '0644', owner: 'root', group: 'root' } });
    expect(runs(p)[1]).toBe('systemctl daemon-reload && systemctl restart -- app.service');
    const noRestart = systemd({ unit: 'app.service', content: unitFile, state: 'started', restartOnChange: false });
    expect(runs(plan(noRestart, { unit: loaded(), file: reg('/etc/systemd/system/app.service', 'old') }))[1]).toBe('systemctl daemon-reload');
  });

  test('enable + start a stopped unit; stop; a unit that does not exist; no systemd', () => {
    const t = systemd({ unit: 'x.service', enabled: true, state: 'started' });
    expect(runs(plan(t, { unit: loaded({ active: 'inactive', fileState: 'disabled' }) }))).toEqual(['systemctl enable -- x.service && systemctl start -- x.service']);
    expect(runs(plan(systemd({ unit: 'x.service', state: 'stopped' }), { unit: loaded() }))).toEqual(['systemctl stop -- x.service']);
    expect(() => plan(t, { unit: loaded({ load: 'not-found' }) })).toThrow('unit x.service not found');
    expect(plan(t, { unit: loaded({ load: 'not-found' }) }, true).msg).toMatch(/check mode: assuming an earlier task creates it/);
    expect(() => plan(t, { unit: { queried: false, needDaemonReload: false } })).toThrow('cannot query systemd');
  });

  test('timer: a oneshot service and its timer, the timer enabled and started', () => {
    const [svc, tm] = timer({ unit: 'backup', onCalendar: 'daily', command: ['/usr/local/bin/backup', 'a b'] });
    const p = plan(svc!, { unit: loaded({ load: 'not-found' }), file: none('/etc/systemd/system/backup.service') });
    expect(writes(p)[0]!.content).toContain('ExecStart="/usr/local/bin/backup" "a b"');
    const q = plan(tm!, { unit: loaded({ load: 'not-found', active: 'inactive' }), file: none('/etc/systemd/system/backup.timer') });
    expect(runs(q)[1]).toBe('systemctl daemon-reload && systemctl enable -- backup.timer && systemctl start -- backup.timer');
  });
});

describe('git', () => {
  const sha1 = 'a'.repeat(40);
  const sha2 = 'b'.repeat(40);
  const t = git({ repo: 'https://example.org/r.git', dest: '/opt/r', version: 'main', owner: 'app' });
  test('absent: cloned into a temp dir beside dest and renamed into place', () => {
    const p = plan(t, { cur: { kind: 'absent' }, ref: { sha: sha1 } });
    expect(p.msg).toBe(`clone at ${sha1.slice(0, 12)}`);
    const s = runs(p)[0]!;
    expect(s).toContain('git clone -q --no-checkout -- https://example.org/r.git "$t"');
    expect(s).toContain(`git -C "$t" checkout -q --detach ${sha1}`);
    expect(s).toContain('chown -R app "$t"');
    expect(s.indexOf('chown -R')).toBeLessThan(s.indexOf('mv -fT -- "$t" "$p"'));
  });

  test('at the resolved commit: unchanged; another commit: checkout; dirty: refused unless force; not a checkout: refused', () => {
    const at = (head: string, dirty = false) => ({ kind: 'git', head, url: 'https://example.org/r.git', dirty });
    expect(plan(t, { cur: at(sha1), ref: { sha: sha1 } }).changed).toBe(false);
    expect(plan(t, { cur: at(sha1), ref: { sha: sha2 } }).msg).toBe(`${sha1.slice(0, 12)} -> ${sha2.slice(0, 12)}`);
    expect(() => plan(t, { cur: at(sha1, true), ref: { sha: sha2 } })).toThrow('has local modifications; set force: true');
    expect(() => plan(t, { cur: { kind: 'other' }, ref: { sha: sha2 } })).toThrow('/opt/r exists and is not a git checkout');
    expect(() => plan(t, { cur: at(sha1), ref: { error: 'fatal: repository not found' } })).toThrow('cannot resolve main in https://example.org/r.git: fatal: repository not found');
  });

  test('a commit sha needs no ls-remote', () => {
    const pinned = git({ repo: 'r', dest: '/opt/r', version: sha2 });
    expect(Object.keys(pinned.facts)).toEqual(['cur']);
    expect(plan(pinned, { cur: { kind: 'git', head: sha2, url: 'r', dirty: false } }).changed).toBe(false);
  });
});

describe('compose', () => {
  const t = compose({ project: 'web', compose: 'services: {}\n', env: { A: '1' } });
  const env = "A='1'\n";
  const files = (c = 'services: {}\n', e = env) => ({
    'file:compose.yaml': reg('/opt/compose/web/compose.yaml', c),
    'file:.env': reg('/opt/compose/web/.env', e, { mode: '0600' }),
    dir: dir('/opt/compose/web'),
  });
  test('same files and every container running: unchanged', () => {
    expect(plan(t, { ...files(), containers: { usable: true, states: ['running', 'running'] } }).changed).toBe(false);
  });
  test('not running: up -d only; a stopped container: up -d; changed files: staged, validated and installed by apply', () => {
    const down = plan(t, { ...files(), containers: { usable: true, states: [] } });
    expect(down.msg).toBe('up -d (not running)');
    expect(runs(down)[0]).toMatch(/^docker compose -p web --project-directory \/opt\/compose\/web -f \/opt\/compose\/web\/compose.yaml --env-file \/opt\/compose\/web\/.env up -d --remove-orphans --pull missing$/);
    expect(plan(t, { ...files(), containers: { usable: true, states: ['running', 'exited'] } }).msg).toBe('up -d (some containers stopped)');
    const changed = plan(t, { ...files('services: {a: {}}\n'), containers: { usable: true, states: ['running'] } });
    expect(changed.msg).toBe('update compose.yaml; up -d');
    expect(changed.steps).toEqual([]);
    expect(typeof changed.apply).toBe('function');
  });
  test('docker unusable: an error (assumed in check mode); absent: down and remove', () => {
    expect(() => plan(t, { ...files(), containers: { usable: false, error: 'sh: docker: not found' } })).toThrow('docker is not usable: sh: docker: not found');
    expect(plan(t, { ...files(), containers: { usable: false, error: 'x' } }, true).changed).toBe(true);
    const gone = compose({ project: 'web', state: 'absent' });
    const p = plan(gone, { dir: dir('/opt/compose/web'), containers: { usable: true, states: ['running'] } });
    expect(runs(p)[1]).toBe('rm -rf -- /opt/compose/web');
    expect(plan(gone, { dir: none('/opt/compose/web'), containers: { usable: true, states: [] } }).changed).toBe(false);
  });
  test('prune: projects not kept are brought down', () => {
    const p = plan(composePrune({ keep: ['web'] }), { found: ['/opt/compose/web/compose.yaml', '/opt/compose/old/compose.yaml'] });
    expect(p.msg).toBe('remove old');
  });
});

describe('docker_network', () => {
  test('created when missing, removed when absent is asked, else unchanged; docker unusable fails unless check mode', () => {
    const t = dockerNetwork({ network: 'ziggie' });
    expect(plan(t, { net: { usable: true, exists: true } }).changed).toBe(false);
    expect(runs(plan(t, { net: { usable: true, exists: false } }))).toEqual(['docker network create ziggie >/dev/null']);
    expect(runs(plan(dockerNetwork({ network: 'ziggie', state: 'absent' }), { net: { usable: true, exists: true } }))).toEqual(['docker network rm ziggie >/dev/null']);
    expect(plan(dockerNetwork({ network: 'ziggie', state: 'absent' }), { net: { usable: true, exists: false } }).changed).toBe(false);
    expect(() => plan(t, { net: { usable: false, error: 'sh: docker: not found' } })).toThrow('docker is not usable: sh: docker: not found');
    expect(plan(t, { net: { usable: false, error: 'x' } }, true).changed).toBe(true);
    expect(() => dockerNetwork({ network: '-x' })).toThrow(/network: expected a docker network name/);
  });
});

describe('command, shell', () => {
  test('guards decide; otherwise it runs (apply) and says so in check mode', () => {
    const t = command({ cmd: ['make', 'install'], creates: '/usr/local/bin/x', unless: 'test -f /etc/x' });
    expect(plan(t, { creates: reg('/usr/local/bin/x', ''), unless: 1 })).toEqual({ changed: false, msg: 'not run: /usr/local/bin/x exists' });
    expect(plan(t, { creates: none('/usr/local/bin/x'), unless: 0 })).toEqual({ changed: false, msg: 'not run: unless-command succeeded' });
    const p = plan(t, { creates: none('/usr/local/bin/x'), unless: 1 }, true);
    expect(p).toMatchObject({ changed: true, msg: 'would run' });
    const s = shell({ cmd: 'echo hi', onlyIf: 'false', removes: '/tmp/x' });
    expect(plan(s, { onlyIf: 1, removes: reg('/tmp/x', '') }).msg).toBe('not run: onlyIf-command failed');
    expect(plan(s, { onlyIf: 0, removes: none('/tmp/x') }).msg).toBe('not run: /tmp/x does not exist');
  });
});

describe('sysctl, download, venv', () => {
  test('sysctl: persisted and set at runtime only where they differ', () => {
    const t = sysctl({ key: 'vm.swappiness', value: 10 });
    const p = plan(t, { persisted: null, runtime: '60' });
    expect(p.msg).toBe('persist in /etc/sysctl.d/99-provision.conf, runtime 60 -> 10');
    expect(runs(p)).toEqual(['write /etc/sysctl.d/99-provision.conf', 'sysctl -q -w vm.swappiness=10']);
    expect(plan(t, { persisted: Buffer.from('vm.swappiness = 10\n'), runtime: '10' }).changed).toBe(false);
  });

  test('download: a dest with the sha256 is not fetched again; otherwise fetched, verified, renamed', () => {
    const sum = sha256('x');
    const t = download({ url: 'https://example.org/m.bin', dest: '/m/m.bin', sha256: sum, mode: '0644' });
    expect(plan(t, { st: { path: '/m/m.bin', type: 'file', sha256: sum, mode: '0644' } }).changed).toBe(false);
    const s = runs(plan(t, { st: none('/m/m.bin') }))[0]!;
    expect(s).toContain('curl -fsSL --retry 2 --connect-timeout 30 -o "$t" -- "$u"');
    expect(s).toContain(`[ "$h" = ${sum} ]`);
    expect(s.indexOf('sha256sum')).toBeLessThan(s.indexOf('mv -fT'));
  });

  test('venv: pip runs only when the requirements hash changed; the stamp is written last', () => {
    const t = venv({ path: '/opt/v', packages: ['requests'] });
    const p = plan(t, { python: none('/opt/v/bin/python'), stamp: null });
    expect(runs(p)).toEqual([
      'python3 -m venv  -- /opt/v',
      'write /opt/v/requirements.txt',
      '/opt/v/bin/pip install -q --disable-pip-version-check --no-input  -r /opt/v/requirements.txt',
      'write /opt/v/.provision-requirements.sha256',
    ]);
    const stamp = writes(p)[1]!.content;
    expect(plan(t, { python: reg('/opt/v/bin/python', ''), stamp: Buffer.from(stamp) }).changed).toBe(false);
  });
});

describe("the ComfyUI playbook's own tasks", () => {
  test('requireGpu: GPUs listed, or a clear error unless CPU is allowed', () => {
    expect(plan(requireGpu({ allowCpu: false }), { smi: { code: 0, out: 'GPU 0: Tesla T4 (UUID: x)\n' } }).msg).toBe('GPU 0: Tesla T4 (UUID: x)');
    expect(() => plan(requireGpu({ allowCpu: false }), { smi: { code: 127, out: '' } })).toThrow(/^nvidia-smi is not installed: this playbook is for a GPU image/);
    expect(plan(requireGpu({ allowCpu: true }), { smi: { code: 127, out: '' } }).msg).toBe('nvidia-smi is not installed; allow_cpu: ComfyUI runs with --cpu');
  });

  test('pipRequirements: keyed by the sha256 of the file on the host (from the file fact)', () => {
    const t = pipRequirements({ venv: '/v', file: '/c/requirements.txt', optional: true });
    const reqs = reg('/c/requirements.txt', 'torch\n');
    const p = plan(t, { pip: reg('/v/bin/pip', ''), stamp: null, reqs });
    expect(p.msg).toBe('install');
    const stamp = writes(p)[0]!.content;
    expect(plan(t, { pip: reg('/v/bin/pip', ''), stamp: Buffer.from(stamp), reqs }).changed).toBe(false);
    expect(plan(t, { pip: reg('/v/bin/pip', ''), stamp: Buffer.from(stamp), reqs: reg('/c/requirements.txt', 'torch==2\n') }).msg).toBe('requirements changed');
    expect(plan(t, { pip: reg('/v/bin/pip', ''), stamp: null, reqs: none('/c/requirements.txt') }).msg).toBe('no requirements file');
  });

  test('waitForHttp: plan() does not wait; the wait is a separate step, skipped in check mode', () => {
    const t = waitForHttp({ url: 'http://127.0.0.1:8188/system_stats', timeoutSeconds: 300 });
    const p = plan(t, {});
    expect(p.changed).toBe(false);
    expect(typeof p.wait).toBe('function');
    expect(plan(t, {}, true)).toEqual({ changed: false, skipped: 'check mode: not waiting' });
  });
});

describe('writing a module (the example in docs/provision.md)', () => {
  const { defineTask, commandOutput, runStep, sh } = require('../../../provision') as typeof import('../../../provision');
  function hostname(o: import('../../../provision').TaskOptions & { hostname: string }): Task {
    return defineTask('hostname', `hostname ${o.hostname}`, o, {
      facts: { cur: commandOutput('hostname') },
      plan({ cur }) {
        const now = cur.out.trim();
        if (now === o.hostname) return { changed: false };
        return {
          changed: true,
          msg: `${now} -> ${o.hostname}`,
          diff: [{ label: 'hostname', before: now + '\n', after: o.hostname + '\n' }],
          steps: [runStep(sh`hostnamectl set-hostname ${o.hostname}`, 'hostnamectl')],
        };
      },
    });
  }
  test('decides from the fact; the step is data', () => {
    const t = hostname({ hostname: 'web1' });
    expect(plan(t, { cur: { code: 0, out: 'web1\n' } }).changed).toBe(false);
    const p = plan(t, { cur: { code: 0, out: 'debian\n' } });
    expect(p.msg).toBe('debian -> web1');
    expect(runs(p)).toEqual(['hostnamectl set-hostname web1']);
  });
});
