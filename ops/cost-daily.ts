/**
 * Day-by-day figures from Cost Explorer for the cloud page and the cost report: the AWS cost per day, and the
 * GPU's running hours per day (EC2 "Running Hours" usage of the configured GPU instance type). A day Cost
 * Explorer does not return is absent, never a $0 day. Each request costs $0.01.
 */
import type { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { costAndUsagePages } from '../cost/report';
import type { ZiggieConfig } from '../config/schema';

export interface DailyCost { date: string; usd: number; estimated: boolean }
export interface DailyGpuHours { date: string; hours: number; usd: number }

const day = (d: Date) => d.toISOString().slice(0, 10);
const round2 = (n: number) => Math.round(n * 100) / 100;

/** The last `days` days up to and including today (Cost Explorer's End is exclusive). */
export function lastDays(days: number, now: Date = new Date()): { start: string; end: string } {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  const start = new Date(end.getTime() - days * 86_400_000);
  return { start: day(start), end: day(end) };
}

export async function dailyCosts(ce: Pick<CostExplorerClient, 'send'>, period: { start: string; end: string }): Promise<{ currency: string; days: DailyCost[] }> {
  const results = await costAndUsagePages(ce, { TimePeriod: { Start: period.start, End: period.end }, Granularity: 'DAILY', Metrics: ['UnblendedCost'] });
  let currency = 'USD';
  const days = results.filter((r) => r.TimePeriod?.Start && r.Total?.UnblendedCost?.Amount !== undefined).map((r) => {
    currency = r.Total!.UnblendedCost!.Unit ?? currency;
    return { date: r.TimePeriod!.Start!, usd: round2(Number(r.Total!.UnblendedCost!.Amount)), estimated: r.Estimated ?? false };
  });
  return { currency, days };
}

/** The GPU's instance-hours and their cost per day (filtered to the configured instance type). */
export async function dailyGpuHours(ce: Pick<CostExplorerClient, 'send'>, config: Pick<ZiggieConfig, 'gpu'>, period: { start: string; end: string }): Promise<DailyGpuHours[]> {
  const results = await costAndUsagePages(ce, {
    TimePeriod: { Start: period.start, End: period.end }, Granularity: 'DAILY', Metrics: ['UsageQuantity', 'UnblendedCost'],
    Filter: { And: [
      { Dimensions: { Key: 'USAGE_TYPE_GROUP', Values: ['EC2: Running Hours'] } },
      { Dimensions: { Key: 'INSTANCE_TYPE', Values: [config.gpu.instanceType] } },
    ] },
  });
  return results.filter((r) => r.TimePeriod?.Start).map((r) => ({
    date: r.TimePeriod!.Start!,
    hours: round2(Number(r.Total?.UsageQuantity?.Amount ?? 0)),
    usd: round2(Number(r.Total?.UnblendedCost?.Amount ?? 0)),
  }));
}
