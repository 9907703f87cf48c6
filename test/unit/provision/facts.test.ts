/** Facts' parsers against canned command output (their commands are run by the local shell in probe.test.ts). */
import type { Section } from '../../../provision/fact';
import { passwdFact } from '../../../provision/facts/account';
import { composePluginFact, dockerNetworkFact } from '../../../provision/facts/docker';
import { remoteRefFact, gitCheckoutFact } from '../../../provision/facts/git';
import { packageFact } from '../../../provision/facts/package';
import { unitFact } from '../../../provision/facts/unit';

const sec = (text: string, code = 0): Section => ({ out: Buffer.from(text), text, code });

describe('fact parsers', () => {
  test('unit: one systemctl show block per unit, in order; no systemd: not queried', () => {
    const out = 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=no\n\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n';
    expect(unitFact.parse([sec(out)], ['a.service', 'b.service'])).toEqual([
      { queried: true, load: 'loaded', active: 'active', fileState: 'enabled', needDaemonReload: false },
      { queried: true, load: 'not-found', active: 'inactive', fileState: '', needDaemonReload: false },
    ]);
    expect(unitFact.parse([sec('System has not been booted with systemd\n', 1)], ['a.service'])).toEqual([{ queried: false, needDaemonReload: false }]);
  });

  test('passwd: entries by name with the primary group name; NSS lines too; unknown users undefined', () => {
    const pw = 'app:x:1001:1001:App:/home/app:/bin/sh\nldap:x:5000:5000::/home/ldap:/bin/bash\n';
    const gr = 'app:x:1001:\n';
    expect(passwdFact.parse([sec(pw), sec(gr)], ['app', 'ldap', 'nobody-x'])).toEqual([
      { name: 'app', uid: 1001, gid: 1001, group: 'app', comment: 'App', home: '/home/app', shell: '/bin/sh' },
      { name: 'ldap', uid: 5000, gid: 5000, group: '5000', comment: '', home: '/home/ldap', shell: '/bin/bash' },
      undefined,
    ]);
  });

  test('package: the fast path and dpkg-query answer per name; an arch-qualified name finds its package', () => {
    const fast = 'Package: curl\nStatus: install ok installed\nPriority: optional\n--\nPackage: sl\nStatus: deinstall ok config-files\n';
    const exact = 'libc6\tii \t2.36-9\n';
    const args = [{ name: 'curl', exact: false }, { name: 'sl', exact: false }, { name: 'nope', exact: false }, { name: 'libc6:amd64', exact: true }];
    expect(packageFact.parse([sec(fast), sec(exact)], args)).toEqual([{ installed: true }, { installed: false }, { installed: false }, { installed: true, version: '2.36-9' }]);
  });

  test('git: a checkout, another path, nothing; ls-remote peels annotated tags and reports errors', () => {
    const sha = 'a'.repeat(40);
    expect(gitCheckoutFact.parse([sec(`git\n${sha}\nhttps://x/r.git\n0\n`)], '/d')).toEqual({ kind: 'git', head: sha, url: 'https://x/r.git', dirty: false });
    expect(gitCheckoutFact.parse([sec('other\n')], '/d')).toEqual({ kind: 'other' });
    expect(gitCheckoutFact.parse([sec('absent\n')], '/d')).toEqual({ kind: 'absent' });
    const tag = `${'b'.repeat(40)}\trefs/tags/v1\n${sha}\trefs/tags/v1^{}\n`;
    expect(remoteRefFact.parse([sec(tag)], { repo: 'r', version: 'v1' })).toEqual({ sha });
    expect(remoteRefFact.parse([sec('fatal: could not read from remote\n', 128)], { repo: 'r', version: 'main' })).toEqual({ error: 'fatal: could not read from remote' });
  });

  test('compose plugin: the first plugin dir that has it; none: undefined', () => {
    expect(composePluginFact.parse([sec('/usr/libexec/docker/cli-plugins/docker-compose\n')], 'compose')).toBe('/usr/libexec/docker/cli-plugins/docker-compose');
    expect(composePluginFact.parse([sec('')], 'compose')).toBeUndefined();
  });
  test('docker network: one listing answers for every name; docker missing is not "absent"', () => {
    expect(dockerNetworkFact.parse([sec('bridge\nhost\nnone\nziggie\n')], ['ziggie', 'zig'])).toEqual([{ usable: true, exists: true }, { usable: true, exists: false }]);
    expect(dockerNetworkFact.parse([sec('sh: 1: docker: not found\n', 127)], ['ziggie'])).toEqual([{ usable: false, error: 'sh: 1: docker: not found' }]);
  });
});
