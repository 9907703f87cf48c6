import type { ZiggieConfig } from '../config/schema';
import { resourcesOf, type SynthesizedStack, type TerraformResource } from '../shared/terraform-json';

/** What the bill depends on, counted from the synthesized Terraform (or projected from the config). */
export interface Inventory {
  readonly instances: readonly InstanceInfo[];
  /** Standalone EBS volumes (aws_ebs_volume). */
  readonly volumes: readonly { readonly sizeGb: number; readonly type: string; readonly address: string }[];
  readonly elasticIps: number;
  readonly natGateways: number;
  /** Buckets that hold data (the Terraform state bucket is excluded: a few MB). */
  readonly dataBuckets: number;
  readonly cloudfrontDistributions: number;
  readonly secrets: number;
  readonly metricAlarms: readonly { readonly metrics: number; readonly highResolution: boolean }[];
  readonly compositeAlarms: number;
  /** Distinct custom metrics (namespace not `AWS/…`) that alarms watch: someone must publish them. */
  readonly customMetrics: number;
  readonly logGroups: readonly { readonly retentionDays: number; readonly address: string }[];
  readonly lambdas: readonly { readonly memoryMb: number; readonly address: string }[];
  readonly budgets: number;
  readonly actionBudgets: number;
  readonly trails: number;
  readonly kmsKeys: number;
}

export interface InstanceInfo {
  readonly address: string;
  readonly instanceType: string;
  readonly market: 'spot' | 'on-demand';
  readonly rootVolumeGb: number;
  readonly rootVolumeType: string;
  /** Gets a public IPv4 address while running (auto-assigned: released when stopped). */
  readonly publicIpv4: boolean;
}

type Json = Record<string, unknown>;

/** A nested block as cdktf writes it (an object, or a list of objects). */
export function blocks(value: unknown): Json[] {
  if (Array.isArray(value)) return value.filter((v): v is Json => typeof v === 'object' && v !== null);
  return typeof value === 'object' && value !== null ? [value as Json] : [];
}

function num(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : fallback;
}

/** `${aws_launch_template.gpu_lt_1234.id}` → the resource it names, in the same stack. */
function referenced(value: unknown, resources: readonly TerraformResource[]): TerraformResource | undefined {
  const match = typeof value === 'string' ? /\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\./.exec(value) : null;
  if (!match) return undefined;
  return resources.find((r) => r.type === match[1] && r.name === match[2]);
}

function instanceInfo(r: TerraformResource, resources: readonly TerraformResource[]): InstanceInfo {
  const c = r.config;
  const lt = blocks(c.launch_template).map((b) => referenced(b.id ?? b.name, resources)).find(Boolean)?.config ?? {};
  const market = (cfg: Json) => blocks(cfg.instance_market_options)[0]?.market_type;
  const isSpot = r.type === 'aws_spot_instance_request' || market(c) === 'spot' || market(lt) === 'spot';
  const root = blocks(c.root_block_device)[0];
  const ltRoot = blocks(lt.block_device_mappings).map((m) => blocks(m.ebs)[0]).find(Boolean);
  const ltNic = blocks(lt.network_interfaces)[0];
  const publicIp = c.associate_public_ip_address ?? ltNic?.associate_public_ip_address;
  return {
    address: r.address,
    instanceType: String(c.instance_type ?? lt.instance_type ?? 'unknown'),
    market: isSpot ? 'spot' : 'on-demand',
    // 8 GB is EC2's default root volume for most AMIs when none is given.
    rootVolumeGb: num(root?.volume_size ?? ltRoot?.volume_size, 8),
    rootVolumeType: String(root?.volume_type ?? ltRoot?.volume_type ?? 'gp3'),
    // The design has only public subnets (no NAT): an instance gets a public address unless told otherwise.
    publicIpv4: publicIp === undefined ? true : publicIp === true || publicIp === 'true',
  };
}

/** Count what costs money in the synthesized stacks. `stateBucket` is left out of the S3 storage estimate. */
export function inventoryOf(stacks: readonly Pick<SynthesizedStack, 'name' | 'json'>[], stateBucket?: string): Inventory {
  const all = stacks.flatMap((s) => resourcesOf(s));
  const byType = (...types: string[]) => all.filter((r) => types.includes(r.type));
  const customMetrics = new Set<string>();
  const metricAlarms = byType('aws_cloudwatch_metric_alarm').map((r) => {
    const queries = blocks(r.config.metric_query).filter((q) => q.metric !== undefined);
    const watched = queries.length > 0
      ? queries.map((q) => blocks(q.metric)[0] ?? {})
      : [{ namespace: r.config.namespace, metric_name: r.config.metric_name, period: r.config.period }];
    for (const m of watched) {
      const ns = String(m.namespace ?? '');
      if (ns && !ns.startsWith('AWS/')) customMetrics.add(`${ns}/${String(m.metric_name)}`);
    }
    const period = num(r.config.period ?? watched[0]?.period, 60);
    return { metrics: Math.max(1, queries.length), highResolution: period < 60 };
  });
  const budgets = byType('aws_budgets_budget');
  const actionBudgetRefs = new Set(byType('aws_budgets_budget_action').map((r) => String(r.config.budget_name)));
  return {
    instances: byType('aws_instance', 'aws_spot_instance_request').map((r) =>
      instanceInfo(r, all.filter((x) => x.stack === r.stack))),
    volumes: byType('aws_ebs_volume').map((r) => ({ address: r.address, sizeGb: num(r.config.size, 0), type: String(r.config.type ?? 'gp3') })),
    elasticIps: byType('aws_eip').length,
    natGateways: byType('aws_nat_gateway').length,
    dataBuckets: byType('aws_s3_bucket').filter((r) => r.config.bucket !== stateBucket).length,
    cloudfrontDistributions: byType('aws_cloudfront_distribution').length,
    secrets: byType('aws_secretsmanager_secret').length,
    metricAlarms,
    compositeAlarms: byType('aws_cloudwatch_composite_alarm').length,
    customMetrics: customMetrics.size,
    logGroups: byType('aws_cloudwatch_log_group').map((r) => ({ address: r.address, retentionDays: num(r.config.retention_in_days, 0) })),
    lambdas: byType('aws_lambda_function').map((r) => ({ address: r.address, memoryMb: num(r.config.memory_size, 128) })),
    budgets: budgets.length,
    actionBudgets: Math.min(budgets.length, actionBudgetRefs.size),
    trails: byType('aws_cloudtrail').length,
    kmsKeys: byType('aws_kms_key').length,
  };
}

/**
 * What the design (DESIGN.md, the seed plan) says the stacks will create, from the config alone. Used only to
 * fill in components whose stack is not synthesized yet, and always labelled as projected.
 */
export function projectedInventory(config: ZiggieConfig): Inventory {
  return {
    instances: [{
      address: 'gpu (projected)', instanceType: config.gpu.instanceType, market: 'spot',
      rootVolumeGb: config.gpu.rootVolumeGb, rootVolumeType: 'gp3', publicIpv4: true,
    }],
    volumes: [],
    elasticIps: 0,
    natGateways: 0,
    dataBuckets: 2,
    cloudfrontDistributions: 0,
    secrets: config.secrets.names.length + 1,
    // CPU, GPU utilisation and ComfyUI queue depth, combined by one composite alarm; GPU and queue are custom.
    metricAlarms: [1, 2, 3].map(() => ({ metrics: 1, highResolution: false })),
    compositeAlarms: 1,
    customMetrics: 2,
    logGroups: [
      { address: 'audit (projected)', retentionDays: config.audit.retentionDays },
      { address: 'flow logs (projected)', retentionDays: config.network.flowLogRetentionDays },
    ],
    lambdas: [{ address: 'gpu stop (projected)', memoryMb: 128 }],
    budgets: 1,
    actionBudgets: 1,
    trails: 1,
    kmsKeys: 0,
  };
}

/** The components an inventory can be missing (a stack not written yet) and filled in from the projection. */
export const COMPONENTS = {
  gpu: (i: Inventory) => i.instances.length > 0,
  storage: (i: Inventory) => i.dataBuckets > 0,
  secrets: (i: Inventory) => i.secrets > 0,
  monitoring: (i: Inventory) => i.metricAlarms.length + i.compositeAlarms + i.lambdas.length > 0,
  logs: (i: Inventory) => i.logGroups.length > 0,
  budgets: (i: Inventory) => i.budgets > 0,
  audit: (i: Inventory) => i.trails > 0,
} as const;
export type Component = keyof typeof COMPONENTS;

/** The synthesized inventory, with each component it lacks taken from `projected`; says which were. */
export function withProjection(synth: Inventory, projected: Inventory): { inventory: Inventory; projected: Component[] } {
  const out: { -readonly [K in keyof Inventory]: Inventory[K] } = { ...synth };
  const filled: Component[] = [];
  const take = (component: Component, keys: (keyof Inventory)[]) => {
    if (COMPONENTS[component](synth)) return;
    filled.push(component);
    for (const k of keys) (out as Record<string, unknown>)[k] = projected[k];
  };
  take('gpu', ['instances']);
  take('storage', ['dataBuckets']);
  take('secrets', ['secrets']);
  take('monitoring', ['metricAlarms', 'compositeAlarms', 'customMetrics', 'lambdas']);
  take('logs', ['logGroups']);
  take('budgets', ['budgets', 'actionBudgets']);
  take('audit', ['trails']);
  return { inventory: out, projected: filled };
}
