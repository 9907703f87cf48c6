/**
 * `ziggie cost [--month YYYY-MM]`: Cost Explorer by service (month to date, or the whole past month), the
 * forecast to month end, the budget's status against the configured thresholds, plus the Hostinger VPS's fixed
 * monthly cost from the config, combined. Each Cost Explorer request costs $0.01; this command makes two.
 */
import { DescribeBudgetCommand, type BudgetsClient } from '@aws-sdk/client-budgets';
import { GetCostAndUsageCommand, GetCostForecastCommand, type CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import type { ZiggieConfig } from '../config/schema';
import { ziggieNames } from '../shared/names';
import { awsErrorCode } from '../shared/aws-errors';

export interface CostReport {
  month: string;
  period: { start: string; end: string };
  complete: boolean;
  currency: string;
  byService: { service: string; usd: number }[];
  awsUsd: number;
  awsForecastUsd?: number;
  forecastNote?: string;
  vpsMonthlyUsd: number;
  totalUsd: number;
  totalForecastUsd?: number;
  budget?: {
    name: string; limitUsd: number; actualUsd?: number; forecastUsd?: number;
    crossed: number[]; nextThreshold?: number; status: 'ok' | 'warning' | 'over';
  };
  budgetNote?: string;
}

/** `YYYY-MM` → first day, first day of next month (UTC, Cost Explorer's exclusive end). */
export function monthBounds(month: string): { start: string; next: string } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw new Error(`--month must look like 2025-06, not "${month}"`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const next = mo === 12 ? `${y + 1}-01-01` : `${y}-${String(mo + 1).padStart(2, '0')}-01`;
  return { start: `${month}-01`, next };
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const round2 = (n: number) => Math.round(n * 100) / 100;

export async function costReport(deps: { ce: Pick<CostExplorerClient, 'send'>; budgets: Pick<BudgetsClient, 'send'> },
  config: ZiggieConfig, opts: { month?: string; now?: Date } = {}): Promise<CostReport> {
  const now = opts.now ?? new Date();
  const month = opts.month ?? now.toISOString().slice(0, 7);
  const { start, next } = monthBounds(month);
  const today = day(now);
  if (start > today) throw new Error(`${month} has not started yet`);
  const complete = next <= today;
  const end = complete ? next : today;

  const byService: { service: string; usd: number }[] = [];
  let currency = 'USD';
  if (end > start) {
    let token: string | undefined;
    do {
      const out = await deps.ce.send(new GetCostAndUsageCommand({
        TimePeriod: { Start: start, End: end }, Granularity: 'MONTHLY', Metrics: ['UnblendedCost'],
        GroupBy: [{ Type: 'DIMENSION', Key: 'SERVICE' }], NextPageToken: token,
      }));
      for (const result of out.ResultsByTime ?? []) {
        for (const g of result.Groups ?? []) {
          const m = g.Metrics?.UnblendedCost;
          currency = m?.Unit ?? currency;
          byService.push({ service: g.Keys?.[0] ?? '?', usd: Number(m?.Amount ?? 0) });
        }
      }
      token = out.NextPageToken;
    } while (token);
  }
  const merged = new Map<string, number>();
  for (const s of byService) merged.set(s.service, (merged.get(s.service) ?? 0) + s.usd);
  const services = [...merged].map(([service, usd]) => ({ service, usd: round2(usd) }))
    .filter((s) => s.usd !== 0).sort((a, b) => b.usd - a.usd);
  const awsUsd = round2([...merged.values()].reduce((a, b) => a + b, 0));

  let awsForecastUsd: number | undefined;
  let forecastNote: string | undefined;
  if (!complete) {
    try {
      const out = await deps.ce.send(new GetCostForecastCommand({
        TimePeriod: { Start: today, End: next }, Metric: 'UNBLENDED_COST', Granularity: 'MONTHLY',
      }));
      awsForecastUsd = round2(awsUsd + Number(out.Total?.Amount ?? 0));
    } catch (err) {
      if (awsErrorCode(err) !== 'DataUnavailableException') throw err;
      forecastNote = 'Cost Explorer has too little history to forecast yet';
    }
  }

  const vpsMonthlyUsd = config.vps.monthlyCostUsd;
  const report: CostReport = {
    month, period: { start, end }, complete, currency, byService: services, awsUsd, awsForecastUsd, forecastNote,
    vpsMonthlyUsd, totalUsd: round2(awsUsd + vpsMonthlyUsd),
    totalForecastUsd: awsForecastUsd === undefined ? undefined : round2(awsForecastUsd + vpsMonthlyUsd),
  };

  // The budget covers the current month only; for a past month its figures would be this month's.
  const budgetName = ziggieNames(config).budget;
  if (complete) {
    report.budgetNote = 'budget status is for the current month only';
  } else {
    try {
      const out = await deps.budgets.send(new DescribeBudgetCommand({ AccountId: config.accountId, BudgetName: budgetName }));
      const b = out.Budget;
      const limitUsd = Number(b?.BudgetLimit?.Amount ?? config.budgets.monthlyLimitUsd);
      const actualUsd = b?.CalculatedSpend?.ActualSpend ? Number(b.CalculatedSpend.ActualSpend.Amount) : undefined;
      const forecastUsd = b?.CalculatedSpend?.ForecastedSpend ? Number(b.CalculatedSpend.ForecastedSpend.Amount) : undefined;
      report.budget = { name: budgetName, limitUsd, actualUsd, forecastUsd, ...budgetStatus(actualUsd ?? awsUsd, forecastUsd, config.budgets.thresholdsUsd, limitUsd) };
    } catch (err) {
      if (awsErrorCode(err) !== 'NotFoundException') throw err;
      report.budgetNote = `no budget named ${budgetName}: deploy the budgets stack (cdktf deploy budgets)`;
    }
  }
  return report;
}

export function budgetStatus(actual: number, forecast: number | undefined, thresholds: number[], limit: number):
  { crossed: number[]; nextThreshold?: number; status: 'ok' | 'warning' | 'over' } {
  const crossed = thresholds.filter((t) => actual >= t);
  const nextThreshold = thresholds.find((t) => actual < t);
  const status = actual >= limit ? 'over' : crossed.length > 0 || (forecast ?? 0) >= limit ? 'warning' : 'ok';
  return { crossed, nextThreshold, status };
}
