import { loadConfig } from '../../../config/load';
import { GPU_INSTANCE_TYPES, type UsageScenario } from '../../../config/schema';
import { diffEstimates, estimateInventory, estimateStacks, formatDelta, formatDiffDelta, formatTotal } from '../../../cost/estimate';
import { inventoryOf, projectedInventory, withProjection } from '../../../cost/inventory';
import { priceBook } from '../../../cost/prices';
import euNorth1 from '../../../cost/prices.eu-north-1.json';
import type { TerraformJson } from '../../../shared/terraform-json';

const config = loadConfig();
const moderate: UsageScenario = { name: 'moderate', gpuHoursPerDay: 4, gpuPurchase: 'spot', s3StorageGb: 100, cloudfrontGbOut: 50, lambdaInvocationsPerMonth: 50_000, logsGbPerMonth: 2 };

/** A gpu stack shaped like cdktf writes it: the instance takes type, Spot and disk from its launch template. */
function gpuStack(overrides: { instanceType?: string; rootGb?: number; secrets?: number; alarms?: number } = {}): { name: string; json: TerraformJson } {
  const secrets: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < (overrides.secrets ?? 8); i++) secrets[`s${i}`] = { name: `ziggie/prod/s${i}` };
  const alarms: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < (overrides.alarms ?? 3); i++) {
    alarms[`a${i}`] = i === 0
      ? { namespace: 'AWS/EC2', metric_name: 'CPUUtilization', period: 300 }
      : { namespace: 'Ziggie/GPU', metric_name: `m${i}`, period: 60 };
  }
  return {
    name: 'gpu',
    json: {
      resource: {
        aws_launch_template: { lt: {
          instance_type: overrides.instanceType ?? 'g4dn.xlarge',
          instance_market_options: { market_type: 'spot', spot_options: { instance_interruption_behavior: 'stop' } },
          block_device_mappings: [{ device_name: '/dev/sda1', ebs: { volume_size: overrides.rootGb ?? 100, volume_type: 'gp3', encrypted: true } }],
        } },
        aws_instance: { gpu: { launch_template: { id: '${aws_launch_template.lt.id}', version: '$Latest' } } },
        aws_secretsmanager_secret: secrets,
        aws_cloudwatch_metric_alarm: alarms,
        aws_cloudwatch_composite_alarm: { idle: { alarm_rule: 'ALARM(a0)' } },
        aws_cloudwatch_log_group: { audit: { retention_in_days: 365 } },
        aws_lambda_function: { stop: { memory_size: 128 } },
        aws_budgets_budget: { monthly: { name: 'ziggie' } },
        aws_budgets_budget_action: { stop: { budget_name: '${aws_budgets_budget.monthly.name}' } },
        aws_cloudtrail: { audit: { name: 'ziggie-audit' } },
        aws_s3_bucket: { assets: { bucket: 'ziggie-cloud-assets' }, state: { bucket: config.state.bucket } },
      },
    },
  };
}

describe('cost estimator', () => {
  test('every price carries a source URL and a date', () => {
    for (const [id, price] of Object.entries(euNorth1.prices)) {
      expect({ id, source: price.source }).toEqual({ id, source: expect.stringMatching(/^https:\/\/(aws\.amazon\.com|docs\.aws\.amazon\.com)\//) });
      expect({ id, date: price.date }).toEqual({ id, date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
      expect(['search', 'aws-page', 'assumption']).toContain(price.checked);
    }
    expect(euNorth1.prices['ec2.on-demand.g4dn.xlarge'].usd).toBe(0.558);
    expect(euNorth1.prices['vpc.public-ipv4'].usd).toBe(0.005);
    expect(euNorth1.prices['secretsmanager.secret'].usd).toBe(0.4);
  });

  test('reads the GPU instance through its launch template and counts what is billed', () => {
    const inv = inventoryOf([gpuStack()], config.state.bucket);
    expect(inv.instances).toEqual([{ address: 'aws_instance.gpu', instanceType: 'g4dn.xlarge', market: 'spot', rootVolumeGb: 100, rootVolumeType: 'gp3', publicIpv4: true }]);
    expect(inv).toMatchObject({ secrets: 8, compositeAlarms: 1, customMetrics: 2, dataBuckets: 1, budgets: 1, actionBudgets: 1, trails: 1 });
  });

  test('prices each line from the price book (moderate: 4 h/day Spot)', () => {
    const est = estimateStacks([gpuStack()], config, moderate);
    const line = (id: string) => est.lines.find((l) => l.id === id)?.monthlyUsd;
    const hours = (4 * 730) / 24;
    expect(line('gpu-compute')).toBeCloseTo(hours * 0.558 * 0.36, 2);
    expect(line('gpu-root-volume')).toBeCloseTo(100 * 0.0836, 2);
    expect(line('public-ipv4')).toBeCloseTo(hours * 0.005, 2);
    expect(line('secrets')).toBeCloseTo(3.2, 5);
    expect(line('cw-alarms')).toBeCloseTo(0.5, 5); // 3 metric alarms inside the free 10, one composite
    expect(line('budgets')).toBe(0); // one budget, one action budget: both within the free two
    expect(line('vps')).toBe(config.vps.monthlyCostUsd);
    expect(est.totalUsd).toBeCloseTo(est.lines.reduce((s, l) => s + l.monthlyUsd, 0), 2);
  });

  test('on-demand 24/7 is the 730-hour on-demand price', () => {
    const est = estimateStacks([gpuStack()], config, { ...moderate, name: 'always-on', gpuHoursPerDay: 24, gpuPurchase: 'on-demand' });
    expect(est.lines.find((l) => l.id === 'gpu-compute')!.monthlyUsd).toBeCloseTo(730 * 0.558, 2);
  });

  test('free tier can be switched off, and an unknown instance type is a warning, not a silent $0', () => {
    const est = estimateStacks([gpuStack({ alarms: 12, instanceType: 'g6.xlarge' })], config, moderate, { freeTier: false });
    expect(est.lines.find((l) => l.id === 'cw-alarms')!.monthlyUsd).toBeCloseTo(12 * 0.1 + 0.5, 5);
    expect(est.lines.find((l) => l.id === 'gpu-compute')).toBeUndefined();
    expect(est.warnings.join()).toMatch(/no on-demand price for g6\.xlarge/);
    expect(est.unpriced).toEqual(['EC2 g6.xlarge compute']);
    expect(formatTotal(est.totalUsd, est.unpriced)).toMatch(/^\$\d+\.\d\d \+ unpriced \(EC2 g6\.xlarge compute\)$/);
  });

  test('moving to an unpriced GPU is an unknown change, never a saving', () => {
    const base = estimateStacks([gpuStack()], config, moderate);
    const head = estimateStacks([gpuStack({ instanceType: 'g6.xlarge' })], config, moderate);
    expect(head.totalUsd).toBeLessThan(base.totalUsd); // the priced part alone would read as a saving
    const diff = diffEstimates(base, head);
    expect(diff.deltaUsd).toBeNull();
    expect(formatDiffDelta(diff)).toBe('change unknown (unpriced: EC2 g6.xlarge compute)');
    expect(formatDiffDelta(diffEstimates(base, base))).toBe('±$0.00');
  });

  test('every GPU type the config accepts has an on-demand price with its source and date', () => {
    const book = priceBook('eu-north-1');
    for (const t of GPU_INSTANCE_TYPES) {
      const p = book.price(`ec2.on-demand.${t}`);
      expect(p.usd).toBeGreaterThan(0);
      expect(p.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(p.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const est = estimateStacks([gpuStack({ instanceType: t })], config, moderate);
      expect(est.unpriced).toEqual([]);
    }
    const onDemandTypes = Object.keys(book.prices).filter((id) => id.startsWith('ec2.on-demand.')).map((id) => id.slice('ec2.on-demand.'.length));
    expect([...GPU_INSTANCE_TYPES].sort()).toEqual(onDemandTypes.sort());
  });

  test('a diff lists only the lines that moved', () => {
    const base = estimateStacks([gpuStack()], config, moderate);
    const head = estimateStacks([gpuStack({ instanceType: 'g4dn.2xlarge', secrets: 9 })], config, moderate);
    const diff = diffEstimates(base, head);
    expect(diff.lines.map((l) => l.id).sort()).toEqual(['gpu-compute', 'secrets']);
    expect(diff.deltaUsd).toBeCloseTo(head.totalUsd - base.totalUsd, 2);
    expect(formatDelta(diff.deltaUsd!)).toMatch(/^\+\$\d+\.\d\d$/);
  });

  test('projection fills only the components the synth lacks, and says which', () => {
    const { inventory, projected } = withProjection(inventoryOf([], config.state.bucket), projectedInventory(config));
    expect(projected).toEqual(['gpu', 'storage', 'secrets', 'monitoring', 'logs', 'budgets', 'audit']);
    expect(inventory.secrets).toBe(config.secrets.names.length + 1);
    const partial = withProjection(inventoryOf([gpuStack()], config.state.bucket), projectedInventory(config));
    expect(partial.projected).toEqual([]);
    expect(estimateInventory(inventory, moderate, priceBook('us-east-1')).warnings[0]).toMatch(/no price data for us-east-1/);
  });
});
