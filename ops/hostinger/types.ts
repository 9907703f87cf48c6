/**
 * Hostinger public API (https://developers.hostinger.com) shapes used by ziggie, as documented by the
 * official OpenAPI spec (the `hostinger-api-sdk` package is generated from it). Optional fields are optional there too.
 */

export type VirtualMachineState =
  | 'running' | 'starting' | 'stopping' | 'stopped' | 'creating' | 'initial' | 'error' | 'suspending'
  | 'unsuspending' | 'suspended' | 'destroying' | 'destroyed' | 'recreating' | 'restoring' | 'recovery'
  | 'stopping_recovery';

export interface IpAddress { id: number; address: string; ptr?: string | null }

/** VPS.V1.VirtualMachine.VirtualMachineResource */
export interface VirtualMachine {
  id: number;
  firewall_group_id: number | null;
  subscription_id?: string | null;
  data_center_id?: number | null;
  plan?: string | null;
  hostname: string;
  state: VirtualMachineState;
  actions_lock: 'unlocked' | 'locked';
  cpus: number;
  memory: number;
  disk: number;
  bandwidth: number;
  ns1?: string | null;
  ns2?: string | null;
  ipv4?: IpAddress[] | null;
  ipv6?: IpAddress[] | null;
  template?: { id: number; name: string; description?: string; documentation?: string | null } | null;
  created_at: string;
}

export type ActionState = 'success' | 'error' | 'delayed' | 'sent' | 'created';

/** VPS.V1.Action.ActionResource: what a mutating VPS call returns; poll it until `success` or `error`. */
export interface Action {
  id: number;
  name: string;
  state: ActionState;
  created_at: string;
  updated_at: string;
}

/** VPS.V1.Snapshot.SnapshotResource. A VM has at most one snapshot: creating a new one overwrites it. */
export interface Snapshot {
  id: number;
  /** Estimated restore time in seconds. */
  restore_time?: number;
  created_at: string;
  expires_at: string;
}

export type FirewallProtocol =
  | 'TCP' | 'UDP' | 'ICMP' | 'GRE' | 'any' | 'ESP' | 'AH' | 'ICMPv6' | 'SSH' | 'HTTP' | 'HTTPS' | 'MySQL' | 'PostgreSQL';

/** VPS.V1.Firewall.FirewallRuleResource */
export interface FirewallRule {
  id: number;
  action: 'accept' | 'drop';
  protocol: FirewallProtocol;
  /** A single port or a range such as `1024:2048`. */
  port: string;
  source: 'any' | 'custom';
  /** `any`, an IP, a CIDR or a range. */
  source_detail: string;
}

/** VPS.V1.Firewall.RulesStoreRequest */
export interface FirewallRuleInput {
  protocol: FirewallProtocol;
  port: string;
  source: 'any' | 'custom';
  source_detail: string;
}

/** VPS.V1.Firewall.FirewallResource */
export interface Firewall {
  id: number;
  name: string;
  is_synced: boolean;
  rules: FirewallRule[];
  created_at: string;
  updated_at: string;
}

export interface PaginationMeta { current_page: number; per_page: number; total: number }
export interface Page<T> { data: T[]; meta: PaginationMeta }

export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'ALIAS' | 'MX' | 'TXT' | 'NS' | 'SOA' | 'SRV' | 'CAA';

/** DNS.V1.Zone.RecordResource: one name+type with its record values. */
export interface DnsRecordSet {
  name: string;
  records: { content: string; is_disabled?: boolean }[];
  ttl: number;
  type: DnsRecordType;
}

/** DNS.V1.Zone.UpdateRequest's zone entries. */
export interface DnsRecordSetInput {
  name: string;
  records: { content: string }[];
  ttl?: number;
  type: DnsRecordType;
}

/** Error bodies: 401/500 `{message, correlation_id}`, 422 adds `errors: {field: [messages]}`. */
export interface ErrorBody {
  message?: string;
  correlation_id?: string;
  errors?: Record<string, string[]>;
}
