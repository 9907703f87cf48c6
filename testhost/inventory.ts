/**
 * The one way tests, benchmarks and the VPS test bed write an inventory for test hosts: Ansible's YAML shape,
 * one entry per host (loopback address, the host's port, root, the cache's client key, the host's known_hosts).
 * Ansible itself reads the same file when given `ansible: true` (its ssh arguments name the known_hosts file).
 */
import { writeFileSync } from 'node:fs';
import type { TestHost } from './host';

/** What an inventory entry needs of a host: a booted TestHost, or an endpoint a fault test points at. */
export type InventoryEndpoint = Pick<TestHost, 'name' | 'port' | 'privateKeyPath' | 'knownHostsPath'>;

export interface InventoryOptions {
  /** more variables per host (JSON-encoded, so any string is safe); `undefined` drops one of the defaults */
  hostVars?: Record<string, unknown>;
  /** YAML written as given per host, for tags such as `!secret_env NAME` */
  rawHostVars?: Record<string, string>;
  /** default: each host's own known_hosts file */
  knownHostsFile?: string;
  /** also for Ansible: its ssh checks the same known_hosts file strictly, and it uses the guest's python3 */
  ansible?: boolean;
}

export function inventoryYaml(hosts: readonly InventoryEndpoint[], o: InventoryOptions = {}): string {
  const lines = ['all:', '  hosts:'];
  for (const h of hosts) {
    const knownHosts = o.knownHostsFile ?? h.knownHostsPath;
    const vars: Record<string, unknown> = {
      ansible_host: '127.0.0.1',
      ansible_port: h.port,
      ansible_user: 'root',
      ansible_ssh_private_key_file: h.privateKeyPath,
      ssh_known_hosts_file: knownHosts,
      ssh_connect_timeout: 10,
      ...(o.ansible ? {
        ansible_ssh_common_args: `-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes`,
        ansible_python_interpreter: '/usr/bin/python3',
      } : {}),
      ...o.hostVars,
    };
    lines.push(`    ${h.name}:`);
    for (const [k, v] of Object.entries(vars)) if (v !== undefined) lines.push(`      ${k}: ${JSON.stringify(v)}`);
    for (const [k, v] of Object.entries(o.rawHostVars ?? {})) lines.push(`      ${k}: ${v}`);
  }
  return lines.join('\n') + '\n';
}

/** One known_hosts file holding every host's key (for Ansible, OpenSSH's client, or an inventory of many hosts). */
export function writeKnownHosts(file: string, hosts: readonly Pick<TestHost, 'knownHostsLine'>[]): string {
  writeFileSync(file, hosts.map((h) => h.knownHostsLine + '\n').join(''));
  return file;
}
