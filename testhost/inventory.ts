/**
 * The one way tests, benchmarks and the VPS test bed write an inventory for test hosts: Ansible's YAML shape,
 * one entry per host (loopback address, the host's port, root, the cache's client key, the host's known_hosts).
 */
import type { TestHost } from './host';

export interface InventoryOptions {
  /** more variables per host (JSON-encoded, so any string is safe) */
  hostVars?: Record<string, unknown>;
  /** YAML written as given per host, for tags such as `!secret_env NAME` */
  rawHostVars?: Record<string, string>;
  /** default: each host's own known_hosts file */
  knownHostsFile?: string;
}

export function inventoryYaml(hosts: readonly TestHost[], o: InventoryOptions = {}): string {
  const lines = ['all:', '  hosts:'];
  for (const h of hosts) {
    const vars: Record<string, unknown> = {
      ansible_host: '127.0.0.1',
      ansible_port: h.port,
      ansible_user: 'root',
      ansible_ssh_private_key_file: h.privateKeyPath,
      ssh_known_hosts_file: o.knownHostsFile ?? h.knownHostsPath,
      ssh_connect_timeout: 10,
      ...o.hostVars,
    };
    lines.push(`    ${h.name}:`);
    for (const [k, v] of Object.entries(vars)) lines.push(`      ${k}: ${JSON.stringify(v)}`);
    for (const [k, v] of Object.entries(o.rawHostVars ?? {})) lines.push(`      ${k}: ${v}`);
  }
  return lines.join('\n') + '\n';
}
