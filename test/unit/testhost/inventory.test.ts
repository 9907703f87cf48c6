/**
 * The one inventory helper the testhost suites and bench:provision write test-host inventories with: what the
 * provisioning library's parser reads from it (no host needed), and the same file for Ansible.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseInventory } from '../../../provision/inventory';
import { Secret } from '../../../provision/secret';
import { inventoryYaml, writeKnownHosts } from '../../../testhost/inventory';

const at = (name: string, port: number) => ({ name, port, privateKeyPath: `/keys/id_${name}`, knownHostsPath: `/kh/${name}` });

describe('testhost inventoryYaml', () => {
  test('one entry per host: loopback, its port, root, its key and its known_hosts', () => {
    const inv = parseInventory(inventoryYaml([at('a', 2201), at('b', 2202)]), '/x/inv.yml');
    expect(inv.hosts.map((h) => [h.name, h.ssh.host, h.ssh.port, h.ssh.user, h.ssh.privateKeyFile, h.ssh.knownHostsFile])).toEqual([
      ['a', '127.0.0.1', 2201, 'root', '/keys/id_a', '/kh/a'],
      ['b', '127.0.0.1', 2202, 'root', '/keys/id_b', '/kh/b'],
    ]);
  });

  test('host vars override a default, undefined drops one (key auth → agent), raw YAML keeps its tag', () => {
    const yml = inventoryYaml([at('a', 2201)], {
      hostVars: { ansible_ssh_private_key_file: undefined, ssh_agent: '/run/agent.sock', ssh_connect_timeout: 2 },
      rawHostVars: { canary: '!secret not-shown' },
    });
    expect(yml).not.toContain('ansible_ssh_private_key_file');
    const [h] = parseInventory(yml, '/x/inv.yml').hosts;
    expect(h!.ssh).toMatchObject({ agent: '/run/agent.sock', connectTimeoutMs: 2000 });
    expect(h!.ssh.privateKeyFile).toBeUndefined();
    expect(h!.vars.canary).toBeInstanceOf(Secret);
  });

  test('for Ansible: its ssh arguments name the shared known_hosts file, which holds every host key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'th-inv-'));
    try {
      const kh = writeKnownHosts(path.join(dir, 'known_hosts'), [{ knownHostsLine: '[127.0.0.1]:2201 ssh-ed25519 AAAA1' }, { knownHostsLine: '[127.0.0.1]:2202 ssh-ed25519 AAAA2' }]);
      expect(readFileSync(kh, 'utf8')).toBe('[127.0.0.1]:2201 ssh-ed25519 AAAA1\n[127.0.0.1]:2202 ssh-ed25519 AAAA2\n');
      const [h] = parseInventory(inventoryYaml([at('a', 2201)], { knownHostsFile: kh, ansible: true }), '/x/inv.yml').hosts;
      expect(h!.vars).toMatchObject({ ansible_ssh_common_args: `-o UserKnownHostsFile=${kh} -o StrictHostKeyChecking=yes`, ansible_python_interpreter: '/usr/bin/python3' });
      expect(h!.ssh.knownHostsFile).toBe(kh);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
