/**
 * Test helpers for the provisioning library on real test hosts (wraps test/harness/testhost without changing it).
 */
import { MemoryOutput } from '../../../provision/output';
import type { Playbook } from '../../../provision/playbook';
import { parseInventory, type Inventory } from '../../../provision/inventory';
import { runPlaybook, type RunOptions, type RunReport, type TaskReport } from '../../../provision/runner';
import { inventoryYaml, type InventoryOptions, type TestHost } from '../../harness/testhost';

export type InvOptions = InventoryOptions;
export { inventoryYaml };

export function inventoryFor(hosts: TestHost[], o: InvOptions = {}): Inventory {
  return parseInventory(inventoryYaml(hosts, o), '<testhost inventory>');
}

export interface Played {
  report: RunReport;
  out: string;
  tasks: TaskReport[];
  changed: number;
  failed: number;
}

export async function play(pb: Playbook<any>, inv: Inventory, opts: RunOptions = {}): Promise<Played> {
  const out = new MemoryOutput();
  const report = await runPlaybook(pb, inv, { output: out, ...opts });
  const hosts = report.hosts;
  return {
    report,
    out: out.text(),
    tasks: hosts[0]?.tasks ?? [],
    changed: hosts.reduce((n, h) => n + h.stats.changed, 0),
    failed: hosts.reduce((n, h) => n + h.stats.failed + h.stats.unreachable, 0),
  };
}

/** Everything a module test may touch, as text: listing + content hashes, packages, users, units, containers. */
export const SNAPSHOT_ROOTS = ['/srv/pt', '/etc/systemd/system', '/etc/cron.d', '/etc/sysctl.d', '/opt/compose', '/home', '/usr/local/bin'];

export async function snapshot(host: TestHost, roots: string[] = SNAPSHOT_ROOTS): Promise<string> {
  const r = roots.join(' ');
  const script = `
find ${r} -xdev -printf '%p %y %m %u %g %s %l\\n' 2>/dev/null | sort
find ${r} -xdev -type f -exec sha256sum {} + 2>/dev/null | sort
echo '# packages'; dpkg-query -W -f='\${Package} \${Version} \${db:Status-Abbrev}\\n' | sort
echo '# accounts'; getent passwd; getent group; getent shadow | cut -d: -f1,2
echo '# unit files'; systemctl list-unit-files --no-legend --no-pager | sort
echo '# units'; systemctl list-units --all --no-legend --no-pager --plain | awk '{print $1,$2,$3,$4}' | grep -v -E '^(session-|user@|user-|user-runtime-dir@|run-)' | sort
echo '# containers'; docker ps -a --format '{{.Names}} {{.ID}} {{.State}}' 2>/dev/null | sort
echo '# sysctl'; sysctl -n net.core.somaxconn
`;
  const res = await host.exec(script);
  if (res.code !== 0 && !res.stdout) throw new Error(`snapshot failed: ${res.stderr}`);
  return res.stdout;
}

export function statuses(p: Played): string[] {
  return p.tasks.map((t) => `${t.name}: ${t.status}`);
}
