import { z } from 'zod';
import { dailyGpuHours, lastDays } from '../../ops/cost-daily';
import { defineCapability } from '../capability';

export const cloudGpuHours = defineCapability({
  name: 'cloud:gpu-hours',
  description: 'The GPU\'s running hours and their cost per day (Cost Explorer usage of the configured GPU instance type) for the last `days` days.',
  params: z.strictObject({ days: z.coerce.number().int().min(1).max(90).default(90) }),
  result: z.object({
    period: z.object({ start: z.string(), end: z.string() }),
    instanceType: z.string(),
    days: z.array(z.object({ date: z.string(), hours: z.number(), usd: z.number() })),
  }),
  mutates: false,
  cacheable: true,
  iam: () => [{ action: 'ce:GetCostAndUsage', resource: '*', why: 'GPU usage per day (Cost Explorer takes no resource)' }],
  http: [{ method: 'GET', path: '/api/cloud/gpu-hours', summary: 'GPU running hours per day, last N days (default 90)' }],
  async handler(ctx, p) {
    const period = lastDays(p.days);
    return { period, instanceType: ctx.config.gpu.instanceType, days: await dailyGpuHours(ctx.ops.aws.costExplorer, ctx.config, period) };
  },
});
