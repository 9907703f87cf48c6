/**
 * Converge a Hostinger VPS firewall to the rules the config implies: SSH only from `vps.sshAllowlist`,
 * HTTP/HTTPS from anywhere. Reads first, decides, then acts (check mode stops before acting), like the
 * provisioning tasks.
 */
import type { ZiggieConfig } from '../../config/schema';
import type { HostingerClient } from './client';
import type { Firewall, FirewallRule, FirewallRuleInput } from './types';

export interface FirewallPlan {
  firewallName: string;
  firewallId?: number;
  create: boolean;
  add: FirewallRuleInput[];
  remove: FirewallRule[];
  sync: boolean;
  activate: boolean;
}

export interface FirewallChange extends FirewallPlan {
  changed: boolean;
  applied: boolean;
}

export function firewallName(config: Pick<ZiggieConfig, 'project' | 'environment'>): string {
  return `${config.project}-${config.environment}`;
}

/** The rules implied by the config. Hostinger drops everything not accepted by a rule. */
export function desiredFirewallRules(config: Pick<ZiggieConfig, 'vps'>): FirewallRuleInput[] {
  return [
    ...config.vps.sshAllowlist.map((cidr): FirewallRuleInput => ({ protocol: 'TCP', port: '22', source: 'custom', source_detail: cidr })),
    { protocol: 'TCP', port: '80', source: 'any', source_detail: 'any' },
    { protocol: 'TCP', port: '443', source: 'any', source_detail: 'any' },
  ];
}

const PROTOCOL_PORT: Record<string, string> = { SSH: '22', HTTP: '80', HTTPS: '443', MySQL: '3306', PostgreSQL: '5432' };

/** A rule's identity: named protocols (SSH, HTTPS, …) are TCP on their port. */
export function ruleKey(r: Pick<FirewallRule, 'protocol' | 'port' | 'source' | 'source_detail'> & { action?: string }): string {
  const named = PROTOCOL_PORT[r.protocol];
  const protocol = named ? 'TCP' : r.protocol.toUpperCase();
  const port = named ?? r.port;
  const source = r.source === 'any' || r.source_detail === 'any' ? 'any' : r.source_detail;
  return `${r.action ?? 'accept'} ${protocol} ${port} from ${source}`;
}

export function planFirewall(name: string, existing: Firewall | undefined, desired: FirewallRuleInput[], vmFirewallId: number | null, prune = true): FirewallPlan {
  const have = new Map((existing?.rules ?? []).map((r) => [ruleKey(r), r]));
  const want = new Set(desired.map((r) => ruleKey(r)));
  const add = desired.filter((r) => !have.has(ruleKey(r)));
  const remove = prune ? [...have.entries()].filter(([k]) => !want.has(k)).map(([, r]) => r) : [];
  const rulesChange = add.length > 0 || remove.length > 0;
  return {
    firewallName: name,
    firewallId: existing?.id,
    create: !existing,
    add,
    remove,
    sync: rulesChange || !existing?.is_synced,
    activate: !existing || vmFirewallId !== existing.id,
  };
}

/** Find (or create) the firewall by name, add/remove rules, activate it on the VM and sync. */
export async function syncFirewall(client: HostingerClient, opts: {
  name: string; vmId: number; rules: FirewallRuleInput[]; check?: boolean; prune?: boolean;
}): Promise<FirewallChange> {
  const [firewalls, vm] = await Promise.all([client.listFirewalls(), client.getVirtualMachine(opts.vmId)]);
  const existing = firewalls.find((f) => f.name === opts.name);
  const plan = planFirewall(opts.name, existing, opts.rules, vm.firewall_group_id, opts.prune ?? true);
  const changed = plan.create || plan.add.length > 0 || plan.remove.length > 0 || plan.sync || plan.activate;
  if (opts.check || !changed) return { ...plan, changed, applied: false };
  const fw = existing ?? await client.createFirewall(opts.name);
  for (const rule of plan.add) await client.createFirewallRule(fw.id, rule);
  for (const rule of plan.remove) await client.deleteFirewallRule(fw.id, rule.id);
  // Activation applies the rules too; a firewall already active only needs a sync.
  if (plan.activate) await client.activateFirewall(fw.id, opts.vmId);
  else if (plan.sync) await client.syncFirewall(fw.id, opts.vmId);
  return { ...plan, firewallId: fw.id, changed, applied: true };
}
