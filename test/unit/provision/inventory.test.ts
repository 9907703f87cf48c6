import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProvisionInputError } from '../../../provision/errors';
import { loadInventory, parseInventory, selectHosts } from '../../../provision/inventory';
import { isSecret, redact } from '../../../provision/secret';
import { tempDir } from './helpers';

const INV = `
all:
  vars:
    ansible_user: deploy
    ansible_ssh_private_key_file: keys/id_ed25519
    level: all
  hosts:
    bastion:
      ansible_host: 10.0.0.1
  children:
    web:
      vars:
        level: web
        http_port: 80
      hosts:
        web1:
          ansible_host: 127.0.0.1
          ansible_port: 2222
          http_port: 8080
        web2:
      children:
        canary:
          vars: { level: canary }
          hosts:
            web2:
    gpu:
      vars:
        ansible_become: yes
        ssh_host_key_fingerprint: SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
      hosts:
        gpu1: { ansible_host: 10.0.0.9, ansible_user: ubuntu }
`;

describe('inventory (Ansible YAML shape)', () => {
  const inv = parseInventory(INV, '/srv/inv/hosts.yml');
  const h = (n: string) => inv.hosts.find((x) => x.name === n)!;

  test('hosts, groups (transitive) and connection settings', () => {
    expect(inv.hosts.map((x) => x.name)).toEqual(['bastion', 'web1', 'web2', 'gpu1']);
    expect(inv.groups.web).toEqual(['web1', 'web2']);
    expect(inv.groups.canary).toEqual(['web2']);
    expect(inv.groups.all).toHaveLength(4);
    expect(h('web1').ssh).toMatchObject({ host: '127.0.0.1', port: 2222, user: 'deploy', privateKeyFile: '/srv/inv/keys/id_ed25519', become: false });
    expect(h('bastion').ssh).toMatchObject({ host: '10.0.0.1', port: 22 });
    expect(h('web2').ssh.host).toBe('web2');
    expect(h('gpu1').ssh).toMatchObject({ user: 'ubuntu', become: true, hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  });

  test('var precedence: all < parent group < child group < host', () => {
    expect(h('bastion').vars.level).toBe('all');
    expect(h('web1').vars.level).toBe('web');
    expect(h('web2').vars.level).toBe('canary');
    expect(h('web1').vars.http_port).toBe(8080);
    expect(h('web2').vars.http_port).toBe(80);
  });

  test.each([
    ['all:\n  hosts:\n    a: { ansible_port: abc, ansible_ssh_private_key_file: k }\n', 'x.yml: all.hosts.a.ansible_port: expected a port number 1-65535, got "abc"'],
    ['all:\n  hosts:\n    a: { ansible_port: 70000, ansible_ssh_private_key_file: k }\n', 'x.yml: all.hosts.a.ansible_port: expected a port number 1-65535, got 70000'],
    ['all:\n  childs: {}\n', 'x.yml: all.childs: unknown key (a group has only hosts, vars and children)'],
    ['all:\n  hosts: [a, b]\n', 'x.yml: all.hosts: expected a mapping of host names to their vars, got a list'],
    ['all:\n  children:\n    web:\n      hosts:\n        w1: { ansible_become: maybe, ansible_ssh_private_key_file: k }\n', 'x.yml: all.children.web.hosts.w1.ansible_become: expected true or false, got "maybe"'],
    ['all:\n  hosts:\n    a: { ansible_password: x, ansible_ssh_private_key_file: k }\n', 'x.yml: all.hosts.a.ansible_password: password authentication is not supported: use a key file or an SSH agent'],
    ['all:\n  hosts:\n    a: { ssh_host_key_fingerprint: md5:xx, ansible_ssh_private_key_file: k }\n', 'x.yml: all.hosts.a.ssh_host_key_fingerprint: expected "SHA256:<43 base64 chars>" as ssh-keygen -lf prints it, got "md5:xx"'],
    ['all:\n  hosts:\n    a: {\n', /^x\.yml:\d+:\d+: YAML syntax error: /],
    ['', 'x.yml: is empty: expected a mapping with an "all" group'],
    ['- a\n', 'x.yml: expected a mapping of groups (all: {hosts: ..., children: ...}), got a list'],
  ])('one-line error naming file and path: %j', (text, msg) => {
    const env = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      let err: Error | undefined;
      try {
        parseInventory(text, 'x.yml');
      } catch (e) {
        err = e as Error;
      }
      expect(err).toBeInstanceOf(ProvisionInputError);
      expect((err as ProvisionInputError).exitCode).toBe(2);
      expect(err!.message).not.toContain('\n');
      if (typeof msg === 'string') expect(err!.message).toBe(msg);
      else expect(err!.message).toMatch(msg);
    } finally {
      if (env !== undefined) process.env.SSH_AUTH_SOCK = env;
    }
  });

  test('no credentials at all is an error naming the host', () => {
    const env = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      expect(() => parseInventory('all:\n  hosts:\n    a:\n', 'x.yml')).toThrow('x.yml: all.hosts.a: no SSH credentials');
    } finally {
      if (env !== undefined) process.env.SSH_AUTH_SOCK = env;
    }
  });

  test('!secret and !secret_env values are Secrets and get redacted', () => {
    process.env.PROV_TEST_TOKEN = 'tok-123456789';
    const i = parseInventory('all:\n  vars:\n    ansible_ssh_private_key_file: k\n    db_pass: !secret hunter2-xyz\n    token: !secret_env PROV_TEST_TOKEN\n    plain: !env PROV_TEST_TOKEN\n  hosts:\n    a:\n', 'x.yml');
    const v = i.hosts[0]!.vars;
    expect(isSecret(v.db_pass)).toBe(true);
    expect(isSecret(v.token)).toBe(true);
    expect(v.plain).toBe('tok-123456789');
    expect(redact('x hunter2-xyz tok-123456789')).toBe('x *** ***');
  });

  test('known_hosts from ansible_ssh_common_args; ~ expansion', () => {
    const i = parseInventory("all:\n  vars:\n    ansible_ssh_private_key_file: ~/.ssh/k\n    ansible_ssh_common_args: '-o UserKnownHostsFile=/etc/kh -o StrictHostKeyChecking=yes'\n  hosts:\n    a:\n", '/x/y.yml');
    expect(i.hosts[0]!.ssh.knownHostsFile).toBe('/etc/kh');
    expect(i.hosts[0]!.ssh.privateKeyFile).toMatch(/^\/.*\.ssh\/k$/);
  });

  test('loadInventory: missing file is a one-line error', () => {
    expect(() => loadInventory('/nonexistent/inv.yml')).toThrow('/nonexistent/inv.yml: cannot read inventory (no such file)');
    const d = tempDir();
    writeFileSync(join(d, 'i.yml'), INV);
    expect(loadInventory(join(d, 'i.yml')).hosts).toHaveLength(4);
  });

  test('host patterns: groups, globs, exclusion, intersection, typos', () => {
    const names = (p: string) => selectHosts(inv, p).map((x) => x.name);
    expect(names('all')).toHaveLength(4);
    expect(names('web')).toEqual(['web1', 'web2']);
    expect(names('web,!canary')).toEqual(['web1']);
    expect(names('web*')).toEqual(['web1', 'web2']);
    expect(names('all:!web')).toEqual(['bastion', 'gpu1']);
    expect(names('web:&canary')).toEqual(['web2']);
    expect(names('gpu1,bastion')).toEqual(['bastion', 'gpu1']);
    expect(() => names('wbe')).toThrow('--limit: no host or group named "wbe"');
    expect(selectHosts(inv, 'web1', ['web2']).map((x) => x.name)).toEqual([]);
  });
});

test('a YAML alias bomb in an inventory is one line naming the file', () => {
  const bomb = ['all:', '  vars:', '    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefgh'.split('').map((k, i) => `    ${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`),
    '  hosts:', '    h1: {ansible_host: 127.0.0.1}'].join('\n');
  expect(() => parseInventory(bomb, 'inv.yaml')).toThrow(new ProvisionInputError('inv.yaml: more than 100 alias expansions (a YAML alias bomb?): refused'));
});
