import { parseDpkg as parseDpkgQuery } from '../../../provision/facts/package';
import { editAuthorizedKeys, keyId } from '../../../provision/tasks/authorizedkey';
import { editBlock } from '../../../provision/tasks/blockinfile';
import { envFile } from '../../../provision/tasks/compose';
import { editLine } from '../../../provision/tasks/lineinfile';
import { parseShow } from '../../../provision/tasks/systemd';
import { renderString } from '../../../provision/tasks/template';
import { cron, timerUnits } from '../../../provision/tasks/timer';
import { parseFacts } from '../../../provision/facts/host';
import { secret } from '../../../provision/secret';
import { normalizeMode } from '../../../provision/files';

describe('lineinfile', () => {
  const f = 'a=1\n# comment\nb=2\n';
  test('adds a missing line at EOF; identical line is a no-op', () => {
    expect(editLine(f, { line: 'c=3' })).toBe(f + 'c=3\n');
    expect(editLine(f, { line: 'b=2' })).toBe(f);
  });
  test('regexp replaces the last match', () => {
    expect(editLine('x=1\nx=2\n', { line: 'x=9', regexp: /^x=/ })).toBe('x=1\nx=9\n');
    expect(editLine(f, { line: 'a=1', regexp: '^a=' })).toBe(f);
  });
  test('insertAfter / insertBefore', () => {
    expect(editLine(f, { line: 'z', insertAfter: /^#/ })).toBe('a=1\n# comment\nz\nb=2\n');
    expect(editLine(f, { line: 'z', insertBefore: 'BOF' })).toBe('z\n' + f);
    expect(editLine(f, { line: 'z', insertBefore: '^b=' })).toBe('a=1\n# comment\nz\nb=2\n');
  });
  test('absent removes matching lines; a file without trailing newline', () => {
    expect(editLine(f, { regexp: /^[ab]=/, state: 'absent' })).toBe('# comment\n');
    expect(editLine(f, { line: 'nope', state: 'absent' })).toBe(f);
    expect(editLine('a', { line: 'b' })).toBe('a\nb\n');
    expect(editLine('', { line: 'b' })).toBe('b\n');
  });
});

describe('blockinfile', () => {
  test('insert, update in place, remove; idempotent', () => {
    const once = editBlock('x\n', { block: 'l1\nl2' });
    expect(once).toBe('x\n# BEGIN MANAGED BLOCK\nl1\nl2\n# END MANAGED BLOCK\n');
    expect(editBlock(once, { block: 'l1\nl2\n' })).toBe(once);
    expect(editBlock(once + 'y\n', { block: 'new' })).toBe('x\n# BEGIN MANAGED BLOCK\nnew\n# END MANAGED BLOCK\ny\n');
    expect(editBlock(once, { block: '', state: 'absent' })).toBe('x\n');
    expect(editBlock('x\n', { block: '', state: 'absent' })).toBe('x\n');
    expect(editBlock('a\nb\n', { block: 'k', marker: '// {mark} app', insertBefore: '^b' })).toBe('a\n// BEGIN app\nk\n// END app\nb\n');
  });
});

describe('authorized_keys', () => {
  const k1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 alice@laptop';
  const k2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK2 bob';
  test('key identity ignores options and comment', () => {
    expect(keyId('from="10.0.0.1" ' + k1)).toBe(keyId(k1));
  });
  test('add, no-op, replace comment, remove, exclusive', () => {
    const a = editAuthorizedKeys('', k1, 'present');
    expect(a).toBe(k1 + '\n');
    expect(editAuthorizedKeys(a, k1, 'present')).toBe(a);
    expect(editAuthorizedKeys(a, k1.replace('alice@laptop', 'alice'), 'present')).toBe(k1.replace('alice@laptop', 'alice') + '\n');
    const b = editAuthorizedKeys(a, k2, 'present');
    expect(editAuthorizedKeys(b, k1, 'absent')).toBe(k2 + '\n');
    expect(editAuthorizedKeys(b, k2, 'present', true)).toBe(k2 + '\n');
    expect(() => editAuthorizedKeys('', 'not a key', 'present')).toThrow(/not an SSH public key/);
  });
});

describe('template rendering', () => {
  test('placeholders, nested paths, secrets, missing keys', () => {
    const pw = secret('pw-for-template');
    expect(renderString('port={{ port }} host={{srv.host}} pw={{ pw }}', { port: 80, srv: { host: 'a' }, pw })).toBe('port=80 host=a pw=pw-for-template');
    expect(() => renderString('{{ nope }}', {}, 'tpl.conf')).toThrow('tpl.conf: no value for {{ nope }}');
  });
});

describe('parsers and generators', () => {
  test('dpkg-query', () => {
    const m = parseDpkgQuery('curl\tii \t7.88.1-10\nfoo\tun \t\nlibc6:amd64\tii \t2.36\n@now 1\n');
    expect(m.get('curl')).toEqual({ installed: true, version: '7.88.1-10' });
    expect(m.get('foo')).toEqual({ installed: false, version: undefined });
    expect(m.get('libc6')?.installed).toBe(true);
  });
  test('systemctl show', () => {
    expect(parseShow('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=no\n')).toEqual({ LoadState: 'loaded', ActiveState: 'active', UnitFileState: 'enabled', NeedDaemonReload: 'no' });
  });
  test('facts', () => {
    const f = parseFacts('os_id=debian\nos_version_id=12\nos_codename=bookworm\narch=x86_64\ninit=systemd\npkg_mgr=apt\ncpus=2\nmem_kb=1000\ndisk_avail_kb=10\ndisk_total_kb=20\ndocker=Docker version 20.10.24+dfsg1, build 297e128\ncompose=v2.26.1\ngpu=NVIDIA A10G, 23028, 535.104.05\n');
    expect(f).toMatchObject({ os: { id: 'debian', versionId: '12', codename: 'bookworm' }, arch: 'x86_64', init: 'systemd', pkgMgr: 'apt', docker: '20.10.24+dfsg1', compose: '2.26.1', cpus: 2, memTotalBytes: 1024000 });
    expect(f.gpus).toEqual([{ name: 'NVIDIA A10G', memoryMiB: 23028, driver: '535.104.05' }]);
    expect(f.disk).toEqual({ rootTotalBytes: 20480, rootAvailBytes: 10240 });
  });
  test('timer units quote ExecStart for systemd', () => {
    const { service, timer } = timerUnits({ unit: 'backup', onCalendar: 'daily', command: ['/usr/bin/backup', '--to', '/srv/a b', '100%'] });
    expect(service).toContain('ExecStart="/usr/bin/backup" "--to" "/srv/a b" "100%%"');
    expect(timer).toContain('OnCalendar=daily');
    expect(timer).toContain('WantedBy=timers.target');
  });
  test('cron validates its name and schedule', () => {
    expect(() => cron({ cronName: 'bad.name', schedule: '* * * * *', command: 'x' })).toThrow(/cron.d ignores/);
    expect(() => cron({ cronName: 'ok', schedule: '* * *', command: 'x' })).toThrow(/option schedule: expected "m h dom mon dow"/);
    expect(cron({ cronName: 'ok', schedule: '@daily', command: ['echo', 'a b'] }).name).toBe('cron ok');
  });
  test('compose .env quoting', () => {
    expect(envFile({ A: 'x y', B: "it's", C: 3, D: secret('s3cr3t-env') })).toBe(`A='x y'\nB='it'\\''s'\nC='3'\nD='s3cr3t-env'\n`);
    expect(() => envFile({ 'bad-name': 'x' })).toThrow(/invalid name/);
  });
  test('modes', () => {
    expect(normalizeMode('644')).toBe('0644');
    expect(normalizeMode(0o4755)).toBe('4755');
    expect(() => normalizeMode('u+x')).toThrow(/octal/);
  });
});

describe('apt status fast path', () => {
  test('Package/Status pairs grepped from /var/lib/dpkg/status', () => {
    const out = '@grep\nPackage: bash\nEssential: yes\nStatus: install ok installed\nPriority: required\n--\nPackage: sl\nStatus: deinstall ok config-files\nPriority: optional\n--\nPackage: libc6\nStatus: install ok installed\n--\nPackage: libc6\nStatus: purge ok not-installed\n';
    const m = parseDpkgQuery(out);
    expect(m.get('bash')?.installed).toBe(true);
    expect(m.get('sl')?.installed).toBe(false);
    expect(m.get('libc6')?.installed).toBe(true);
    expect(m.get('hello')).toBeUndefined();
  });
});
