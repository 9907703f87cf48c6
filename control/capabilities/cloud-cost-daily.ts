import { z } from 'zod';
import { dailyCosts, lastDays } from '../../ops/cost-daily';
import { defineCapability } from '../capability';

export const cloudCostDaily = defineCapability({
  name: 'cloud:cost-daily',
  description: 'AWS cost per day (Cost Explorer, unblended) for the last `days` days, today included; a day Cost Explorer does not return is absent, not $0.',
  params: z.strictObject({ days: z.coerce.number().int().min(1).max(90).default(90) }),
  result: z.object({
    period: z.object({ start: z.string(), end: z.string() }),
    currency: z.string(),
    days: z.array(z.object({ date: z.string(), usd: z.number(), estimated: z.boolean() })),
  }),
  mutates: false,
  cacheable: true,
  iam: () => [{ action: 'ce:GetCostAndUsage', resource: '*', why: 'cost per day (Cost Explorer takes no resource)' }],
  http: [{ method: 'GET', path: '/api/cloud/costs/daily', summary: 'AWS cost per day, last N days (default 90)' }],
  async handler(ctx, p) {
    const period = lastDays(p.days);
    return { period, ...(await dailyCosts(ctx.ops.aws.costExplorer, period)) };
  },
});
