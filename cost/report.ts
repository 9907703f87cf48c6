/**
 * The cost report: one builder for the monthly report (1st of the month, last month), the weekly digest (Monday,
 * last 7 days) and `ziggie cost report`. Cost Explorer (injected client) gives AWS by service, GPU running hours,
 * daily cost and the running month's forecast; the Hostinger VPS is its fixed price from the config. Pure apart
 * from the client, so the Lambda (lambda/cost-report) and the CLI print the same thing. Unknown is never zero: a
 * forecast Cost Explorer cannot make is `null` and printed as unknown.
 */
import { GetCostAndUsageCommand, GetCostForecastCommand, type CostExplorerClient, type GetCostAndUsageCommandInput, type ResultByTime } from '@aws-sdk/client-cost-explorer';
import { awsErrorCode } from '../shared/aws-errors';
import { barChartSvg } from './svg-chart';

export interface ReportSettings {
  gpuInstanceType: string;
  vpsMonthlyUsd: number;
  budgetLimitUsd: number;
  thresholdsUsd: readonly number[];
}

export interface ServiceLine { service: string; usd: number; previousUsd: number; changeUsd: number }

export interface CostReportDoc {
  kind: 'monthly' | 'weekly';
  /** `2026-10` (monthly) or `2026-11-16 … 2026-11-22` (weekly). */
  title: string;
  period: { start: string; end: string };
  previousPeriod: { start: string; end: string };
  currency: string;
  byService: ServiceLine[];
  awsUsd: number;
  previousAwsUsd: number;
  changeUsd: number;
  /** null when the previous period cost nothing (a percentage of $0 means nothing). */
  changePercent: number | null;
  gpu: { instanceType: string; hours: number; usd: number; usdPerHour: number | null };
  hostingerUsd: number;
  totalUsd: number;
  budget: { limitUsd: number; thresholdsUsd: number[]; crossed: number[]; over: boolean };
  daily: { date: string; usd: number }[];
  runningMonth: { month: string; monthToDateUsd: number; forecastUsd: number | null; forecastNote: string | null; forecastOverBudget: boolean | null };
}

type Ce = Pick<CostExplorerClient, 'send'>;
const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
const round2 = (n: number) => Math.round(n * 100) / 100;

/** `YYYY-MM` → [first day, first day of next month). */
export function monthPeriod(month: string): { start: string; end: string } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw new Error(`--month must look like 2026-10, not "${month}"`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  return { start: `${month}-01`, end: iso(Date.UTC(y, mo, 1)) };
}

/** The month before `now`'s month, as `YYYY-MM`. */
export function lastMonth(now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

/** Every page of one GetCostAndUsage query. */
export async function costAndUsagePages(ce: Ce, input: GetCostAndUsageCommandInput): Promise<ResultByTime[]> {
  const out: ResultByTime[] = [];
  let token: string | undefined;
  do {
    const r = await ce.send(new GetCostAndUsageCommand({ ...input, NextPageToken: token }));
    out.push(...(r.ResultsByTime ?? []));
    token = r.NextPageToken;
  } while (token);
  return out;
}

async function byService(ce: Ce, p: { start: string; end: string }): Promise<{ currency: string; services: Map<string, number> }> {
  const services = new Map<string, number>();
  let currency = 'USD';
  for (const r of await costAndUsagePages(ce, { TimePeriod: { Start: p.start, End: p.end }, Granularity: 'MONTHLY', Metrics: ['UnblendedCost'], GroupBy: [{ Type: 'DIMENSION', Key: 'SERVICE' }] })) {
    for (const g of r.Groups ?? []) {
      const m = g.Metrics?.UnblendedCost;
      currency = m?.Unit ?? currency;
      const name = g.Keys?.[0] ?? '?';
      services.set(name, (services.get(name) ?? 0) + Number(m?.Amount ?? 0));
    }
  }
  return { currency, services };
}

async function gpuUsage(ce: Ce, p: { start: string; end: string }, instanceType: string): Promise<{ hours: number; usd: number }> {
  let hours = 0;
  let usd = 0;
  for (const r of await costAndUsagePages(ce, {
    TimePeriod: { Start: p.start, End: p.end }, Granularity: 'MONTHLY', Metrics: ['UsageQuantity', 'UnblendedCost'],
    Filter: { And: [{ Dimensions: { Key: 'USAGE_TYPE_GROUP', Values: ['EC2: Running Hours'] } }, { Dimensions: { Key: 'INSTANCE_TYPE', Values: [instanceType] } }] },
  })) {
    hours += Number(r.Total?.UsageQuantity?.Amount ?? 0);
    usd += Number(r.Total?.UnblendedCost?.Amount ?? 0);
  }
  return { hours: round2(hours), usd: round2(usd) };
}

async function daily(ce: Ce, p: { start: string; end: string }): Promise<{ date: string; usd: number }[]> {
  return (await costAndUsagePages(ce, { TimePeriod: { Start: p.start, End: p.end }, Granularity: 'DAILY', Metrics: ['UnblendedCost'] }))
    .filter((r) => r.TimePeriod?.Start && r.Total?.UnblendedCost?.Amount !== undefined)
    .map((r) => ({ date: r.TimePeriod!.Start!, usd: round2(Number(r.Total!.UnblendedCost!.Amount)) }));
}

async function runningMonth(ce: Ce, now: Date, s: ReportSettings): Promise<CostReportDoc['runningMonth']> {
  const month = now.toISOString().slice(0, 7);
  const p = monthPeriod(month);
  const today = iso(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const mtd = today > p.start ? [...(await byService(ce, { start: p.start, end: today })).services.values()].reduce((a, b) => a + b, 0) : 0;
  let forecastUsd: number | null = null;
  let forecastNote: string | null = null;
  try {
    const f = await ce.send(new GetCostForecastCommand({ TimePeriod: { Start: today, End: p.end }, Metric: 'UNBLENDED_COST', Granularity: 'MONTHLY' }));
    if (f.Total?.Amount === undefined) forecastNote = 'Cost Explorer returned no forecast';
    else forecastUsd = round2(mtd + Number(f.Total.Amount) + s.vpsMonthlyUsd);
  } catch (err) {
    if (awsErrorCode(err) !== 'DataUnavailableException') throw err;
    forecastNote = 'Cost Explorer has too little history to forecast yet';
  }
  return {
    month, monthToDateUsd: round2(mtd + s.vpsMonthlyUsd), forecastUsd, forecastNote,
    forecastOverBudget: forecastUsd === null ? null : forecastUsd > s.budgetLimitUsd,
  };
}

function assemble(kind: CostReportDoc['kind'], title: string, period: { start: string; end: string }, previousPeriod: { start: string; end: string },
  cur: { currency: string; services: Map<string, number> }, prev: Map<string, number>, gpu: { hours: number; usd: number },
  days: { date: string; usd: number }[], running: CostReportDoc['runningMonth'], s: ReportSettings, hostingerUsd: number): CostReportDoc {
  const names = new Set([...cur.services.keys(), ...prev.keys()]);
  const lines = [...names].map((service) => {
    const usd = round2(cur.services.get(service) ?? 0);
    const previousUsd = round2(prev.get(service) ?? 0);
    return { service, usd, previousUsd, changeUsd: round2(usd - previousUsd) };
  }).filter((l) => l.usd !== 0 || l.previousUsd !== 0).sort((a, b) => b.usd - a.usd || b.previousUsd - a.previousUsd);
  const awsUsd = round2([...cur.services.values()].reduce((a, b) => a + b, 0));
  const previousAwsUsd = round2([...prev.values()].reduce((a, b) => a + b, 0));
  const totalUsd = round2(awsUsd + hostingerUsd);
  const crossed = s.thresholdsUsd.filter((t) => totalUsd >= t);
  return {
    kind, title, period, previousPeriod, currency: cur.currency, byService: lines, awsUsd, previousAwsUsd,
    changeUsd: round2(awsUsd - previousAwsUsd),
    changePercent: previousAwsUsd === 0 ? null : round2(((awsUsd - previousAwsUsd) / previousAwsUsd) * 100),
    gpu: { instanceType: s.gpuInstanceType, hours: gpu.hours, usd: gpu.usd, usdPerHour: gpu.hours > 0 ? Math.round((gpu.usd / gpu.hours) * 1000) / 1000 : null },
    hostingerUsd, totalUsd,
    budget: { limitUsd: s.budgetLimitUsd, thresholdsUsd: [...s.thresholdsUsd], crossed, over: kind === 'monthly' && totalUsd > s.budgetLimitUsd },
    daily: days, runningMonth: running,
  };
}

/** Last month's report (or `month`'s), with the change against the month before and the running month's forecast. */
export async function monthlyReport(ce: Ce, s: ReportSettings, opts: { now?: Date; month?: string } = {}): Promise<CostReportDoc> {
  const now = opts.now ?? new Date();
  const month = opts.month ?? lastMonth(now);
  const period = monthPeriod(month);
  if (period.end > iso(now.getTime()) && period.start <= iso(now.getTime())) throw new Error(`${month} is not over yet: the report covers whole months (\`ziggie cost\` shows this month so far)`);
  if (period.start > iso(now.getTime())) throw new Error(`${month} has not started yet`);
  const [y, m] = month.split('-').map(Number) as [number, number];
  const previousPeriod = monthPeriod(new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 7));
  const [cur, prev, gpu, days, running] = await Promise.all([
    byService(ce, period), byService(ce, previousPeriod), gpuUsage(ce, period, s.gpuInstanceType), daily(ce, period), runningMonth(ce, now, s),
  ]);
  return assemble('monthly', month, period, previousPeriod, cur, prev.services, gpu, days, running, s, s.vpsMonthlyUsd);
}

/** The last 7 whole days against the 7 before; the VPS's fixed price pro rata (7 of the month's days). */
export async function weeklyDigest(ce: Ce, s: ReportSettings, opts: { now?: Date } = {}): Promise<CostReportDoc> {
  const now = opts.now ?? new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const period = { start: iso(today - 7 * DAY), end: iso(today) };
  const previousPeriod = { start: iso(today - 14 * DAY), end: period.start };
  const [cur, prev, gpu, days, running] = await Promise.all([
    byService(ce, period), byService(ce, previousPeriod), gpuUsage(ce, period, s.gpuInstanceType), daily(ce, period), runningMonth(ce, now, s),
  ]);
  const hostinger = round2((s.vpsMonthlyUsd * 7) / 30.42);
  return assemble('weekly', `${period.start} … ${iso(today - DAY)}`, period, previousPeriod, cur, prev.services, gpu, days, running, s, hostinger);
}

const usd = (n: number | null) => (n === null ? 'unknown' : `$${n.toFixed(2)}`);
const signed = (n: number) => `${n >= 0 ? '+' : '−'}$${Math.abs(n).toFixed(2)}`;

/** Plain text for e-mail (SNS) and the terminal. The weekly digest is the short form. */
export function reportText(r: CostReportDoc): string {
  const out: string[] = [];
  const head = r.kind === 'monthly' ? `Ziggie cost report ${r.title}` : `Ziggie weekly cost digest ${r.title}`;
  out.push(head, '='.repeat(head.length), '');
  out.push(`Total ${usd(r.totalUsd)} = AWS ${usd(r.awsUsd)} + Hostinger VPS ${usd(r.hostingerUsd)}${r.kind === 'weekly' ? ' (7 days of the fixed monthly price)' : ' (fixed)'}`);
  out.push(`AWS vs the ${r.kind === 'monthly' ? 'month' : 'week'} before: ${signed(r.changeUsd)}${r.changePercent === null ? '' : ` (${r.changePercent >= 0 ? '+' : ''}${r.changePercent.toFixed(1)}%)`} (was ${usd(r.previousAwsUsd)})`);
  out.push(`GPU ${r.gpu.instanceType}: ${r.gpu.hours.toFixed(1)} h, ${usd(r.gpu.usd)}${r.gpu.usdPerHour === null ? ' (no GPU usage)' : `, $${r.gpu.usdPerHour.toFixed(3)}/h`}`);
  if (r.kind === 'monthly') {
    out.push(`Budget ${usd(r.budget.limitUsd)}: ${r.budget.over ? 'OVER BUDGET' : 'within'}${r.budget.crossed.length ? `; thresholds crossed: ${r.budget.crossed.map((t) => usd(t)).join(', ')}` : ''}`);
  }
  const rm = r.runningMonth;
  out.push(`${rm.month} so far ${usd(rm.monthToDateUsd)}, forecast ${usd(rm.forecastUsd)}${rm.forecastNote ? ` (${rm.forecastNote})` : ''}${rm.forecastOverBudget ? ' — forecast over budget' : ''}`);
  const lines = r.kind === 'monthly' ? r.byService : r.byService.slice(0, 5);
  if (lines.length) {
    out.push('', r.kind === 'monthly' ? 'By service' : 'Top services');
    const w = Math.max(...lines.map((l) => l.service.length));
    for (const l of lines) out.push(`  ${l.service.padEnd(w)}  ${usd(l.usd).padStart(9)}  ${signed(l.changeUsd).padStart(9)}`);
  } else {
    out.push('', 'No AWS usage in this period.');
  }
  return `${out.join('\n')}\n`;
}

const esc = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A self-contained HTML page (inline SVG chart of the daily cost, no external asset). */
export function reportHtml(r: CostReportDoc): string {
  const chart = barChartSvg(r.daily.map((d) => ({ label: d.date, value: d.usd })), { title: `AWS cost per day, ${r.title}`, format: (v) => `$${v.toFixed(2)}` });
  const rows = r.byService.map((l) => `<tr><td>${esc(l.service)}</td><td>${usd(l.usd)}</td><td>${usd(l.previousUsd)}</td><td>${signed(l.changeUsd)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(r.title)}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:760px;margin:auto;padding:8px">
<pre>${esc(reportText(r))}</pre>
<h2>AWS cost per day</h2>${chart}
<h2>By service</h2><table><thead><tr><th>service</th><th>${esc(r.title)}</th><th>before</th><th>change</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}
