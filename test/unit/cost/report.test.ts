/**
 * The cost report (cost/report.ts) and the Lambda that sends it (lambda/cost-report), with Cost Explorer and SNS
 * behind aws-sdk-client-mock answering in the shapes Cost Explorer records (ResultsByTime / Groups / Total).
 */
import { CostExplorerClient, GetCostAndUsageCommand, GetCostForecastCommand, type GetCostAndUsageCommandInput } from '@aws-sdk/client-cost-explorer';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { lastMonth, monthlyReport, reportHtml, reportText, weeklyDigest, type ReportSettings } from '../../../cost/report';
import { runReport, type ReportDeps } from '../../../lambda/cost-report/handler';

const ce = mockClient(CostExplorerClient);
const sns = mockClient(SNSClient);
const settings: ReportSettings = { gpuInstanceType: 'g4dn.xlarge', vpsMonthlyUsd: 19.99, budgetLimitUsd: 100, thresholdsUsd: [25, 50, 80] };
const NOW = new Date('2026-11-01T06:00:00Z');

const group = (service: string, amount: string) => ({ Keys: [service], Metrics: { UnblendedCost: { Amount: amount, Unit: 'USD' } } });
const monthly = (start: string, end: string, groups: ReturnType<typeof group>[]) => ({ ResultsByTime: [{ TimePeriod: { Start: start, End: end }, Total: {}, Groups: groups, Estimated: false }], DimensionValueAttributes: [] });

/** Cost Explorer answering by request: services per period, GPU usage per period, daily totals. */
function answer(spend: Record<string, ReturnType<typeof group>[]>, gpu: Record<string, { hours: string; usd: string }>) {
  ce.on(GetCostAndUsageCommand).callsFake(async (input: GetCostAndUsageCommandInput) => {
    const { Start, End } = input.TimePeriod!;
    if (input.Granularity === 'DAILY') {
      const days = [];
      for (let t = Date.parse(`${Start}T00:00:00Z`); t < Date.parse(`${End}T00:00:00Z`); t += 86_400_000) {
        days.push({ TimePeriod: { Start: new Date(t).toISOString().slice(0, 10), End: new Date(t + 86_400_000).toISOString().slice(0, 10) }, Total: { UnblendedCost: { Amount: '1.5', Unit: 'USD' } }, Groups: [], Estimated: false });
      }
      return { ResultsByTime: days };
    }
    if (input.Filter) {
      const g = gpu[Start!] ?? { hours: '0', usd: '0' };
      return { ResultsByTime: [{ TimePeriod: { Start, End }, Total: { UsageQuantity: { Amount: g.hours, Unit: 'Hrs' }, UnblendedCost: { Amount: g.usd, Unit: 'USD' } }, Groups: [], Estimated: false }] };
    }
    return monthly(Start!, End!, spend[Start!] ?? []);
  });
}

beforeEach(() => {
  ce.reset();
  sns.reset();
  ce.on(GetCostForecastCommand).resolves({ Total: { Amount: '42.00', Unit: 'USD' }, ForecastResultsByTime: [] });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

test('last month: by service with the change vs the month before, GPU hours and $/h, Hostinger fixed, the running month\'s forecast', async () => {
  answer({
    '2026-10-01': [group('Amazon Elastic Compute Cloud - Compute', '24.12'), group('AWS Secrets Manager', '3.20'), group('Amazon Simple Storage Service', '0.41')],
    '2026-09-01': [group('Amazon Elastic Compute Cloud - Compute', '18.00'), group('AWS Secrets Manager', '3.20'), group('AWS Key Management Service', '1.00')],
  }, { '2026-10-01': { hours: '120.5', usd: '22.90' } });
  expect(lastMonth(NOW)).toBe('2026-10');
  const r = await monthlyReport(ce, settings, { now: NOW });
  expect(r.title).toBe('2026-10');
  expect(r.period).toEqual({ start: '2026-10-01', end: '2026-11-01' });
  expect(r.previousPeriod).toEqual({ start: '2026-09-01', end: '2026-10-01' });
  expect(r.awsUsd).toBe(27.73);
  expect(r.previousAwsUsd).toBe(22.2);
  expect(r.changeUsd).toBe(5.53);
  expect(r.byService.find((l) => l.service === 'AWS Key Management Service')).toEqual({ service: 'AWS Key Management Service', usd: 0, previousUsd: 1, changeUsd: -1 });
  expect(r.gpu).toEqual({ instanceType: 'g4dn.xlarge', hours: 120.5, usd: 22.9, usdPerHour: 0.19 });
  expect(r.totalUsd).toBe(47.72);
  expect(r.budget).toEqual({ limitUsd: 100, thresholdsUsd: [25, 50, 80], crossed: [25], over: false });
  expect(r.daily).toHaveLength(31);
  // the running month (November) started today: nothing to date, forecast from Cost Explorer + the VPS
  expect(r.runningMonth).toEqual({ month: '2026-11', monthToDateUsd: 19.99, forecastUsd: 61.99, forecastNote: null, forecastOverBudget: false });
  const text = reportText(r);
  expect(text).toMatch(/^Ziggie cost report 2026-10\n/);
  expect(text).toMatch(/Total \$47\.72 = AWS \$27\.73 \+ Hostinger VPS \$19\.99 \(fixed\)/);
  expect(text).toMatch(/GPU g4dn\.xlarge: 120\.5 h, \$22\.90, \$0\.190\/h/);
  expect(text).toMatch(/AWS vs the month before: \+\$5\.53 \(\+24\.9%\)/);
  const html = reportHtml(r);
  expect(html.match(/<rect class="point"/g)).toHaveLength(31);
  expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
});

test('a month with no GPU usage: 0 h and "no GPU usage", never a $0/h rate', async () => {
  answer({ '2026-10-01': [group('AWS Secrets Manager', '3.20')], '2026-09-01': [] }, {});
  const r = await monthlyReport(ce, settings, { now: NOW });
  expect(r.gpu).toEqual({ instanceType: 'g4dn.xlarge', hours: 0, usd: 0, usdPerHour: null });
  expect(r.changePercent).toBeNull();
  expect(reportText(r)).toMatch(/GPU g4dn\.xlarge: 0\.0 h, \$0\.00 \(no GPU usage\)/);
});

test('a month over budget says so in the subject and the body; the forecast Cost Explorer cannot make is unknown', async () => {
  answer({ '2026-10-01': [group('Amazon Elastic Compute Cloud - Compute', '97.00')] }, { '2026-10-01': { hours: '500', usd: '95.00' } });
  ce.on(GetCostForecastCommand).rejects(Object.assign(new Error('Insufficient amount of historical data'), { name: 'DataUnavailableException', $metadata: {} }));
  const deps: ReportDeps = { ce, sns, topicArn: 'arn:aws:sns:eu-north-1:111122223333:ziggie-gpu-alerts', settings, fetch: jest.fn(), now: () => NOW };
  const out = await runReport(deps, { kind: 'monthly' });
  expect(out).toEqual({ kind: 'monthly', title: '2026-10', totalUsd: 116.99, webhook: 'not-configured' });
  const sent = sns.commandCalls(PublishCommand)[0]!.args[0].input;
  expect(sent.TopicArn).toBe(deps.topicArn);
  expect(sent.Subject).toBe('Ziggie cost report 2026-10: $116.99 — OVER BUDGET');
  expect(sent.Message).toMatch(/Budget \$100\.00: OVER BUDGET; thresholds crossed: \$25\.00, \$50\.00, \$80\.00/);
  expect(sent.Message).toMatch(/forecast unknown \(Cost Explorer has too little history to forecast yet\)/);
  expect(deps.fetch).not.toHaveBeenCalled();
});

test('the weekly digest: last 7 days vs the 7 before, shorter body; posted to the n8n webhook when configured', async () => {
  const monday = new Date('2026-11-23T07:00:00Z');
  answer({ '2026-11-16': [group('Amazon Elastic Compute Cloud - Compute', '6.00'), group('AWS Secrets Manager', '0.75')], '2026-11-09': [group('Amazon Elastic Compute Cloud - Compute', '4.00')] }, { '2026-11-16': { hours: '30', usd: '5.70' } });
  const r = await weeklyDigest(ce, settings, { now: monday });
  expect(r.period).toEqual({ start: '2026-11-16', end: '2026-11-23' });
  expect(r.title).toBe('2026-11-16 … 2026-11-22');
  expect(r.hostingerUsd).toBe(4.6);
  expect(r.budget.over).toBe(false);
  const posts: { url: string; body: string }[] = [];
  const fetchFake = (async (url: string, init: { body: string }) => { posts.push({ url, body: init.body }); return { ok: true, status: 200 }; }) as unknown as typeof fetch;
  const out = await runReport({ ce, sns, topicArn: 'arn:aws:sns:eu-north-1:111122223333:t', webhookUrl: 'https://n8n.example.com/webhook/cost', settings, fetch: fetchFake, now: () => monday }, { kind: 'weekly' });
  expect(out.webhook).toBe('sent');
  expect(posts[0]!.url).toBe('https://n8n.example.com/webhook/cost');
  expect(JSON.parse(posts[0]!.body).type).toBe('ziggie.cost-report.weekly');
  const body = sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!;
  expect(body).toMatch(/^Ziggie weekly cost digest/);
  expect(body).toMatch(/Top services/);
  expect(body.split('\n').length).toBeLessThan(reportText(await monthlyReport(ce, settings, { now: monday, month: '2026-10' })).split('\n').length + 5);
});

test('a failing webhook fails the run after the e-mail; a bad event or a month not over is one clear error', async () => {
  answer({}, {});
  const failing = (async () => ({ ok: false, status: 502 })) as unknown as typeof fetch;
  await expect(runReport({ ce, sns, topicArn: 't', webhookUrl: 'https://n8n.example.com/x', settings, fetch: failing, now: () => NOW }, { kind: 'monthly' }))
    .rejects.toThrow('the n8n webhook answered HTTP 502 (the e-mail went out)');
  expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  await expect(runReport({ ce, sns, topicArn: 't', settings, fetch: failing, now: () => NOW }, { kind: 'daily' })).rejects.toThrow('event.kind must be "monthly" or "weekly", not "daily"');
  await expect(monthlyReport(ce, settings, { now: NOW, month: '2026-11' })).rejects.toThrow(/2026-11 is not over yet/);
});
