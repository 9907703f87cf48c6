/**
 * cost-report: EventBridge Scheduler runs it on the 1st of the month (`{"kind":"monthly"}`: last month's report)
 * and on Mondays (`{"kind":"weekly"}`: the last 7 days, shorter). It builds the report with cost/report.ts (the
 * same code as `ziggie cost report`), publishes the text to the notifications topic (e-mail) and, when
 * configured, POSTs the JSON to the n8n webhook. A failed webhook fails the invocation (visible in the Lambda's
 * Errors metric on the dashboard) after the e-mail went out.
 */
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { monthlyReport, reportText, weeklyDigest, type CostReportDoc, type ReportSettings } from '../../cost/report';

export interface ReportEnv {
  TOPIC_ARN?: string;
  WEBHOOK_URL?: string;
  GPU_INSTANCE_TYPE?: string;
  VPS_MONTHLY_USD?: string;
  BUDGET_LIMIT_USD?: string;
  THRESHOLDS_USD?: string;
}

export interface ReportDeps {
  ce: Pick<CostExplorerClient, 'send'>;
  sns: Pick<SNSClient, 'send'>;
  topicArn: string;
  webhookUrl?: string;
  settings: ReportSettings;
  fetch: typeof fetch;
  now: () => Date;
}

function number(env: ReportEnv, key: keyof ReportEnv): number {
  const v = Number(env[key]);
  if (env[key] === undefined || env[key] === '' || !Number.isFinite(v)) throw new Error(`${key} is not set to a number`);
  return v;
}

export function depsFromEnv(env: ReportEnv): ReportDeps {
  if (!env.TOPIC_ARN) throw new Error('TOPIC_ARN is not set');
  if (!env.GPU_INSTANCE_TYPE) throw new Error('GPU_INSTANCE_TYPE is not set');
  const timeouts = { requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 }, maxAttempts: 3 };
  return {
    ce: new CostExplorerClient({ region: 'us-east-1', ...timeouts }),
    sns: new SNSClient(timeouts),
    topicArn: env.TOPIC_ARN,
    webhookUrl: env.WEBHOOK_URL || undefined,
    settings: {
      gpuInstanceType: env.GPU_INSTANCE_TYPE, vpsMonthlyUsd: number(env, 'VPS_MONTHLY_USD'), budgetLimitUsd: number(env, 'BUDGET_LIMIT_USD'),
      thresholdsUsd: (env.THRESHOLDS_USD ?? '').split(',').filter(Boolean).map(Number),
    },
    fetch,
    now: () => new Date(),
  };
}

export async function runReport(deps: ReportDeps, event: { kind?: unknown }): Promise<{ kind: string; title: string; totalUsd: number; webhook: 'sent' | 'not-configured' }> {
  const kind = event?.kind === 'weekly' ? 'weekly' : event?.kind === 'monthly' ? 'monthly' : undefined;
  if (!kind) throw new Error(`event.kind must be "monthly" or "weekly", not ${JSON.stringify(event?.kind)}`);
  const doc: CostReportDoc = kind === 'monthly'
    ? await monthlyReport(deps.ce, deps.settings, { now: deps.now() })
    : await weeklyDigest(deps.ce, deps.settings, { now: deps.now() });
  const over = doc.budget.over ? ' — OVER BUDGET' : '';
  const subject = `${kind === 'monthly' ? 'Ziggie cost report' : 'Ziggie weekly cost'} ${doc.title}: $${doc.totalUsd.toFixed(2)}${over}`.slice(0, 99);
  await deps.sns.send(new PublishCommand({ TopicArn: deps.topicArn, Subject: subject, Message: reportText(doc) }));
  if (!deps.webhookUrl) return { kind, title: doc.title, totalUsd: doc.totalUsd, webhook: 'not-configured' };
  const res = await deps.fetch(deps.webhookUrl, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: `ziggie.cost-report.${kind}`, report: doc }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`the n8n webhook answered HTTP ${res.status} (the e-mail went out)`);
  return { kind, title: doc.title, totalUsd: doc.totalUsd, webhook: 'sent' };
}

let cached: ReportDeps | undefined;
export const handler = async (event: { kind?: unknown }) => {
  cached ??= depsFromEnv(process.env as ReportEnv);
  const r = await runReport(cached, event);
  console.log(JSON.stringify(r));
  return r;
};
