import type { UsageScenario, ZiggieConfig } from '../config/schema';
import type { SynthesizedStack } from '../shared/terraform-json';
import { type Inventory, inventoryOf } from './inventory';
import { type PriceBook, priceBook } from './prices';

export type CostLineId =
  | 'gpu-compute' | 'gpu-root-volume' | 'public-ipv4' | 'ebs-volumes' | 'elastic-ip' | 'nat-gateway' | 's3'
  | 'cloudfront' | 'secrets' | 'cw-alarms' | 'cw-custom-metrics' | 'cw-logs' | 'lambda' | 'budgets' | 'cloudtrail'
  | 'kms' | 'vps';

export interface CostLine {
  readonly id: CostLineId;
  readonly label: string;
  /** How the figure is made, e.g. `121.7 h × $0.2009/h`. */
  readonly basis: string;
  readonly monthlyUsd: number;
  /** Price ids (cost/prices.<region>.json) the line uses. */
  readonly prices: readonly string[];
  readonly note?: string;
}

export interface CostEstimate {
  readonly region: string;
  readonly scenario: UsageScenario;
  readonly lines: readonly CostLine[];
  /** The sum of the priced lines only: with `unpriced` non-empty it is a lower bound, never the whole cost. */
  readonly totalUsd: number;
  /** What exists but has no price (e.g. `EC2 g6.xlarge compute`): shown as unpriced, never counted as $0. */
  readonly unpriced: readonly string[];
  /** Things the estimate could not price (unknown instance type, data events, …). */
  readonly warnings: readonly string[];
}

export interface EstimateOptions {
  /** Apply AWS's always-free allowances (10 alarms, 10 custom metrics, 5 GB logs, 1M Lambda calls, 1 TB CloudFront). Default true. */
  readonly freeTier?: boolean;
  /** Fixed monthly cost of the Hostinger VPS; omit to leave the line out. */
  readonly vpsMonthlyUsd?: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const usd = (n: number, digits = 2) => `$${n.toFixed(digits)}`;

/** The monthly cost of an inventory under one usage scenario, line by line. Pure: prices come from `book`. */
export function estimateInventory(inv: Inventory, scenario: UsageScenario, book: PriceBook & { fallbackFrom?: string },
  options: EstimateOptions = {}): CostEstimate {
  const free = options.freeTier ?? true;
  const p = (id: string) => book.price(id).usd;
  const H = book.hoursPerMonth;
  const gpuHours = (scenario.gpuHoursPerDay * H) / 24;
  const lines: CostLine[] = [];
  const warnings: string[] = [];
  const unpriced: string[] = [];
  if (book.fallbackFrom) warnings.push(`no price data for ${book.fallbackFrom}: ${book.region} prices used`);
  const add = (line: CostLine) => lines.push({ ...line, monthlyUsd: round2(line.monthlyUsd) });

  // EC2: the GPU instance runs scenario.gpuHoursPerDay; its root volume exists all month (stopped, not terminated).
  for (const inst of inv.instances) {
    const odId = `ec2.on-demand.${inst.instanceType}`;
    if (!book.has(odId)) {
      warnings.push(`no on-demand price for ${inst.instanceType} in ${book.region}: ${inst.address} compute not priced`);
      unpriced.push(`EC2 ${inst.instanceType} compute`);
    } else {
      const onDemand = p(odId);
      const spot = scenario.gpuPurchase === 'spot';
      const rate = spot ? onDemand * p('ec2.spot.fraction-of-on-demand') : onDemand;
      add({
        id: 'gpu-compute',
        label: `EC2 ${inst.instanceType} (${scenario.gpuPurchase})`,
        basis: `${gpuHours.toFixed(1)} h × ${usd(rate, 4)}/h${spot ? ` (${p('ec2.spot.fraction-of-on-demand') * 100}% of ${usd(onDemand, 3)} on-demand)` : ''}`,
        monthlyUsd: gpuHours * rate,
        prices: spot ? [odId, 'ec2.spot.fraction-of-on-demand'] : [odId],
        ...(spot && inst.market === 'on-demand' ? { note: 'the synthesized instance is on-demand; the scenario prices it as Spot' } : {}),
        ...(!spot && inst.market === 'spot' ? { note: 'the synthesized instance is Spot; the scenario prices it on-demand' } : {}),
      });
    }
    const volId = `ebs.${inst.rootVolumeType}.storage`;
    if (book.has(volId)) {
      add({ id: 'gpu-root-volume', label: `EBS ${inst.rootVolumeType} root volume`, basis: `${inst.rootVolumeGb} GB × ${usd(p(volId), 4)}/GB-month`, monthlyUsd: inst.rootVolumeGb * p(volId), prices: [volId] });
    } else {
      warnings.push(`no price for EBS ${inst.rootVolumeType}: ${inst.address} root volume not priced`);
      unpriced.push(`EBS ${inst.rootVolumeType} root volume`);
    }
    if (inst.publicIpv4) {
      add({ id: 'public-ipv4', label: 'Public IPv4 (while running)', basis: `${gpuHours.toFixed(1)} h × ${usd(p('vpc.public-ipv4'), 3)}/h`, monthlyUsd: gpuHours * p('vpc.public-ipv4'), prices: ['vpc.public-ipv4'] });
    }
  }
  const volumeGb = inv.volumes.reduce((s, v) => s + v.sizeGb, 0);
  if (inv.volumes.length > 0) {
    add({ id: 'ebs-volumes', label: 'EBS volumes', basis: `${volumeGb} GB × ${usd(p('ebs.gp3.storage'), 4)}/GB-month`, monthlyUsd: volumeGb * p('ebs.gp3.storage'), prices: ['ebs.gp3.storage'] });
  }
  if (inv.elasticIps > 0) {
    add({ id: 'elastic-ip', label: 'Elastic IPs', basis: `${inv.elasticIps} × ${H} h × ${usd(p('vpc.public-ipv4'), 3)}/h`, monthlyUsd: inv.elasticIps * H * p('vpc.public-ipv4'), prices: ['vpc.public-ipv4'] });
  }
  if (inv.natGateways > 0) {
    add({ id: 'nat-gateway', label: 'NAT gateways', basis: `${inv.natGateways} × ${H} h × ${usd(p('vpc.nat-gateway'), 3)}/h`, monthlyUsd: inv.natGateways * H * p('vpc.nat-gateway'), prices: ['vpc.nat-gateway'], note: 'data processing not included' });
  }

  if (inv.dataBuckets > 0) {
    add({ id: 's3', label: 'S3 Standard storage', basis: `${scenario.s3StorageGb} GB × ${usd(p('s3.standard.storage'), 3)}/GB-month`, monthlyUsd: scenario.s3StorageGb * p('s3.standard.storage'), prices: ['s3.standard.storage'] });
  }
  if (inv.cloudfrontDistributions > 0) {
    const billable = Math.max(0, scenario.cloudfrontGbOut - (free ? p('cloudfront.free-tier-gb') : 0));
    add({ id: 'cloudfront', label: 'CloudFront data out', basis: `${scenario.cloudfrontGbOut} GB${free ? ` (1 TB free)` : ''} → ${billable} GB × ${usd(p('cloudfront.transfer-out.europe'), 3)}`, monthlyUsd: billable * p('cloudfront.transfer-out.europe'), prices: ['cloudfront.transfer-out.europe', 'cloudfront.free-tier-gb'] });
  }
  if (inv.secrets > 0) {
    add({ id: 'secrets', label: 'Secrets Manager', basis: `${inv.secrets} secrets × ${usd(p('secretsmanager.secret'))}`, monthlyUsd: inv.secrets * p('secretsmanager.secret'), prices: ['secretsmanager.secret'] });
  }

  // CloudWatch alarms: standard and high-resolution alarm metrics share the free 10; composite alarms do not.
  const standard = inv.metricAlarms.filter((a) => !a.highResolution).reduce((s, a) => s + a.metrics, 0);
  const highRes = inv.metricAlarms.filter((a) => a.highResolution).reduce((s, a) => s + a.metrics, 0);
  if (standard + highRes + inv.compositeAlarms > 0) {
    let freeLeft = free ? p('cloudwatch.alarm.free-tier') : 0;
    const billStandard = Math.max(0, standard - freeLeft);
    freeLeft = Math.max(0, freeLeft - standard);
    const billHighRes = Math.max(0, highRes - freeLeft);
    const cost = billStandard * p('cloudwatch.alarm.standard') + billHighRes * p('cloudwatch.alarm.high-resolution') + inv.compositeAlarms * p('cloudwatch.alarm.composite');
    add({
      id: 'cw-alarms', label: 'CloudWatch alarms',
      basis: `${standard} standard${highRes ? ` + ${highRes} high-res` : ''} alarm metrics${free ? ' (10 free)' : ''}, ${inv.compositeAlarms} composite × ${usd(p('cloudwatch.alarm.composite'))}`,
      monthlyUsd: cost, prices: ['cloudwatch.alarm.standard', 'cloudwatch.alarm.high-resolution', 'cloudwatch.alarm.composite', 'cloudwatch.alarm.free-tier'],
    });
  }
  if (inv.customMetrics > 0) {
    // Custom metrics are prorated by the hours they are sent: the GPU's agent sends only while it runs.
    const running = inv.instances.length > 0 ? scenario.gpuHoursPerDay / 24 : 1;
    const billable = Math.max(0, inv.customMetrics - (free ? p('cloudwatch.custom-metric.free-tier') : 0));
    add({ id: 'cw-custom-metrics', label: 'CloudWatch custom metrics', basis: `${inv.customMetrics} metrics${free ? ' (10 free)' : ''} × ${usd(p('cloudwatch.custom-metric'))} × ${(running * 100).toFixed(0)}% of the month`, monthlyUsd: billable * p('cloudwatch.custom-metric') * running, prices: ['cloudwatch.custom-metric', 'cloudwatch.custom-metric.free-tier'] });
  }
  if (inv.logGroups.length > 0) {
    // Steady state: a month's ingest is kept for the longest retention (capped at a year; 0 = never expire).
    const longest = Math.max(...inv.logGroups.map((g) => (g.retentionDays === 0 ? 365 : g.retentionDays)));
    const storedGb = scenario.logsGbPerMonth * Math.min(12, longest / 30);
    const freeGb = free ? p('cloudwatch.logs.free-tier-gb') : 0;
    const ingestBillable = Math.max(0, scenario.logsGbPerMonth - freeGb);
    const storeBillable = Math.max(0, storedGb - Math.max(0, freeGb - scenario.logsGbPerMonth));
    add({
      id: 'cw-logs', label: 'CloudWatch Logs',
      basis: `${scenario.logsGbPerMonth} GB/month ingested × ${usd(p('cloudwatch.logs.ingestion'))} + ${storedGb.toFixed(1)} GB stored × ${usd(p('cloudwatch.logs.storage'))}${free ? ' (5 GB free)' : ''}`,
      monthlyUsd: ingestBillable * p('cloudwatch.logs.ingestion') + storeBillable * p('cloudwatch.logs.storage'),
      prices: ['cloudwatch.logs.ingestion', 'cloudwatch.logs.storage', 'cloudwatch.logs.free-tier-gb'],
      note: `${inv.logGroups.length} log groups, longest retention ${longest} days`,
    });
  }
  if (inv.lambdas.length > 0) {
    const memoryGb = Math.max(...inv.lambdas.map((l) => l.memoryMb)) / 1024;
    const calls = scenario.lambdaInvocationsPerMonth;
    const gbSeconds = calls * memoryGb * p('lambda.assumed-duration-seconds');
    const billCalls = Math.max(0, calls - (free ? p('lambda.free-tier-requests') : 0));
    const billGbs = Math.max(0, gbSeconds - (free ? p('lambda.free-tier-gb-seconds') : 0));
    add({ id: 'lambda', label: 'Lambda', basis: `${calls.toLocaleString('en-US')} calls × ${p('lambda.assumed-duration-seconds')} s × ${memoryGb.toFixed(3)} GB${free ? ' (1M calls, 400k GB-s free)' : ''}`, monthlyUsd: (billCalls / 1e6) * p('lambda.requests') + billGbs * p('lambda.compute'), prices: ['lambda.requests', 'lambda.compute', 'lambda.assumed-duration-seconds', 'lambda.free-tier-requests', 'lambda.free-tier-gb-seconds'] });
  }
  if (inv.budgets > 0) {
    const D = book.daysPerMonth;
    const paid = Math.max(0, inv.budgets - p('budgets.free-budgets'));
    const paidActions = Math.max(0, inv.actionBudgets - p('budgets.free-action-budgets'));
    add({ id: 'budgets', label: 'AWS Budgets', basis: `${inv.budgets} budget${inv.budgets === 1 ? '' : 's'} (2 free), ${inv.actionBudgets} with actions (2 free)`, monthlyUsd: paid * D * p('budgets.budget') + paidActions * D * p('budgets.action-enabled-budget'), prices: ['budgets.budget', 'budgets.free-budgets', 'budgets.action-enabled-budget', 'budgets.free-action-budgets'] });
  }
  if (inv.trails > 0) {
    const extra = inv.trails - 1;
    add({ id: 'cloudtrail', label: 'CloudTrail', basis: `${inv.trails} trail${inv.trails > 1 ? 's' : ''}: first copy of management events free${extra ? `, ${extra} more × ${p('cloudtrail.assumed-management-events').toLocaleString('en-US')} events × ${usd(p('cloudtrail.management-events.additional-copy'))}/100k` : ''}`, monthlyUsd: extra * (p('cloudtrail.assumed-management-events') / 100_000) * p('cloudtrail.management-events.additional-copy'), prices: ['cloudtrail.management-events.additional-copy', 'cloudtrail.assumed-management-events'], note: 'delivery to CloudWatch Logs is in the Logs line; S3 storage of trail files is negligible' });
  }
  if (inv.kmsKeys > 0) {
    add({ id: 'kms', label: 'KMS keys', basis: `${inv.kmsKeys} × ${usd(p('kms.key'))}`, monthlyUsd: inv.kmsKeys * p('kms.key'), prices: ['kms.key'] });
  }
  if (options.vpsMonthlyUsd !== undefined) {
    add({ id: 'vps', label: 'Hostinger VPS (fixed)', basis: 'vps.monthlyCostUsd', monthlyUsd: options.vpsMonthlyUsd, prices: [] });
  }
  return { region: book.region, scenario, lines, totalUsd: round2(lines.reduce((s, l) => s + l.monthlyUsd, 0)), unpriced, warnings };
}

export function scenarioNamed(config: ZiggieConfig, name = config.scenarios.default): UsageScenario {
  const found = config.scenarios.list.find((s) => s.name === name);
  if (!found) throw new Error(`no scenario named "${name}" (have: ${config.scenarios.list.map((s) => s.name).join(', ')})`);
  return found;
}

/** The monthly cost of the synthesized stacks under a scenario of `config` (default: its default scenario). */
export function estimateStacks(stacks: readonly Pick<SynthesizedStack, 'name' | 'json'>[], config: ZiggieConfig,
  scenario: UsageScenario = scenarioNamed(config), options: EstimateOptions = {}): CostEstimate {
  return estimateInventory(inventoryOf(stacks, config.state.bucket), scenario, priceBook(config.region),
    { vpsMonthlyUsd: config.vps.monthlyCostUsd, ...options });
}

export interface CostDiff {
  readonly scenario: string;
  readonly baseUsd: number;
  readonly headUsd: number;
  /** null when base and head leave different things unpriced: the change is then unknown, never a saving. */
  readonly deltaUsd: number | null;
  readonly baseUnpriced: readonly string[];
  readonly headUnpriced: readonly string[];
  /** Lines whose amount changed (or that appeared / went away). */
  readonly lines: readonly { readonly id: CostLineId; readonly label: string; readonly baseUsd: number; readonly headUsd: number; readonly basis: string }[];
}

export function diffEstimates(base: CostEstimate, head: CostEstimate): CostDiff {
  // Lines pair up by id (and position among lines of the same id), so a new instance type is a change, not a swap.
  const keyed = (lines: readonly CostLine[]) => {
    const seen = new Map<string, number>();
    return new Map(lines.map((l) => {
      const n = seen.get(l.id) ?? 0;
      seen.set(l.id, n + 1);
      return [`${l.id}#${n}`, l] as const;
    }));
  };
  const baseBy = keyed(base.lines);
  const headBy = keyed(head.lines);
  const lines: CostDiff['lines'][number][] = [];
  for (const k of new Set([...baseBy.keys(), ...headBy.keys()])) {
    const b = baseBy.get(k);
    const h = headBy.get(k);
    const baseUsd = b?.monthlyUsd ?? 0;
    const headUsd = h?.monthlyUsd ?? 0;
    if (baseUsd !== headUsd || (b?.basis ?? '') !== (h?.basis ?? '')) {
      const label = b && h && b.label !== h.label ? `${b.label} → ${h.label}` : (h ?? b)!.label;
      lines.push({ id: (h ?? b)!.id, label, baseUsd, headUsd, basis: h?.basis ?? `(removed) ${b!.basis}` });
    }
  }
  const comparable = sameItems(base.unpriced, head.unpriced);
  return {
    scenario: head.scenario.name, baseUsd: base.totalUsd, headUsd: head.totalUsd,
    deltaUsd: comparable ? round2(head.totalUsd - base.totalUsd) : null,
    baseUnpriced: base.unpriced, headUnpriced: head.unpriced, lines,
  };
}

const sameItems = (a: readonly string[], b: readonly string[]) => [...a].sort().join('\n') === [...b].sort().join('\n');

/** `$12.34` or, with something unpriced, `$12.34 + unpriced (EC2 g6.xlarge compute)`: a lower bound said as one. */
export function formatTotal(usd: number, unpriced: readonly string[]): string {
  return unpriced.length ? `${formatUsd(usd)} + unpriced (${unpriced.join(', ')})` : formatUsd(usd);
}

/** A delta, or `change unknown (unpriced: …)` when the two sides do not price the same things. */
export function formatDiffDelta(diff: Pick<CostDiff, 'deltaUsd' | 'baseUnpriced' | 'headUnpriced'>): string {
  if (diff.deltaUsd !== null) return formatDelta(diff.deltaUsd);
  const items = [...new Set([...diff.baseUnpriced, ...diff.headUnpriced])];
  return `change unknown (unpriced: ${items.join(', ')})`;
}

export function formatUsd(n: number): string {
  return `$${n.toFixed(2)}`;
}

export function formatDelta(n: number): string {
  if (Math.abs(n) < 0.005) return '±$0.00';
  return `${n > 0 ? '+' : '−'}$${Math.abs(n).toFixed(2)}`;
}
