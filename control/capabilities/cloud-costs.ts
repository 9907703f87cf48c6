import { z } from 'zod';
import { costReport } from '../../ops/cost';
import { ziggieNames } from '../../shared/names';
import { defineCapability } from '../capability';

export const cloudCosts = defineCapability({
  name: 'cloud:costs',
  description: 'This month so far: AWS spend by service (Cost Explorer), the AWS forecast, the Hostinger VPS\'s fixed price, combined.',
  params: z.strictObject({}),
  result: z.object({
    month: z.string(),
    period: z.object({ start: z.string(), end: z.string() }),
    currency: z.string(),
    aws: z.object({
      byService: z.array(z.object({ service: z.string(), usd: z.number() })),
      monthToDateUsd: z.number(),
      forecastUsd: z.number().nullable().describe('null when Cost Explorer cannot forecast yet (see forecastNote)'),
      forecastNote: z.string().nullable(),
    }),
    hostinger: z.object({ fixedMonthlyUsd: z.number() }),
    total: z.object({ monthToDateUsd: z.number(), forecastUsd: z.number().nullable() }),
    budget: z.object({ name: z.string(), limitUsd: z.number(), status: z.enum(['ok', 'warning', 'over']) }).nullable(),
    thresholdsUsd: z.array(z.number()).describe('the budget alert thresholds from the config (budgets.thresholdsUsd)'),
  }),
  mutates: false,
  cacheable: true,
  iam: (config) => [
    { action: 'ce:GetCostAndUsage', resource: '*', why: 'month-to-date spend by service (Cost Explorer takes no resource)' },
    { action: 'ce:GetCostForecast', resource: '*', why: 'the month\'s forecast' },
    { action: 'budgets:ViewBudget', resource: `arn:aws:budgets::${config.accountId}:budget/${ziggieNames(config).budget}`, why: 'the project budget (DescribeBudget)' },
  ],
  http: [{ method: 'GET', path: '/api/cloud/costs/current', summary: 'Month-to-date cost, forecast and fixed VPS cost' }],
  async handler(ctx) {
    const r = await costReport({ ce: ctx.ops.aws.costExplorer, budgets: ctx.ops.aws.budgets }, ctx.config);
    return {
      month: r.month, period: r.period, currency: r.currency,
      aws: { byService: r.byService, monthToDateUsd: r.awsUsd, forecastUsd: r.awsForecastUsd ?? null, forecastNote: r.forecastNote ?? null },
      hostinger: { fixedMonthlyUsd: r.vpsMonthlyUsd },
      total: { monthToDateUsd: r.totalUsd, forecastUsd: r.totalForecastUsd ?? null },
      budget: r.budget ? { name: r.budget.name, limitUsd: r.budget.limitUsd, status: r.budget.status } : null,
      thresholdsUsd: ctx.config.budgets.thresholdsUsd,
    };
  },
});
