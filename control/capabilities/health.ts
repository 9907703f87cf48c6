import { z } from 'zod';
import { alarmsCheck, gpuCheck, hostingerApiCheck, identityCheck, runChecks, type Check } from '../../ops/health';
import { ziggieNames } from '../../shared/names';
import { defineCapability } from '../capability';
import { describeGpu, gpuHeartbeat, hostingerToken } from './shared';

export const health = defineCapability({
  name: 'health',
  description: 'Health checks, one line each: aws (identity, GPU, alarms), hostinger (API and VM state), or all.',
  params: z.strictObject({ scope: z.enum(['aws', 'hostinger', 'all']).default('all') }),
  result: z.object({
    ok: z.boolean().describe('true only when every check passed'),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string(), ms: z.number() })),
  }),
  mutates: false,
  cacheable: true,
  iam: (config) => [
    ...describeGpu(), ...gpuHeartbeat(), ...hostingerToken(config),
    { action: 'cloudwatch:DescribeAlarms', resource: ziggieNames(config).arn('cloudwatch', `alarm:${config.project}-gpu-idle`), why: 'the project\'s alarms' },
  ],
  http: [
    { method: 'GET', path: '/health/aws', fixed: { scope: 'aws' }, summary: 'AWS health checks' },
    { method: 'GET', path: '/health/hostinger', fixed: { scope: 'hostinger' }, summary: 'Hostinger health checks' },
  ],
  async handler(ctx, p) {
    const { config, ops } = ctx;
    const aws: Check[] = [
      identityCheck(ops.aws.sts, config.accountId),
      { name: 'aws.gpu', run: async () => gpuCheck(await ctx.gpu()).run() },
      alarmsCheck(ops.aws.cloudwatch, config.project),
    ];
    const hostinger: Check[] = [hostingerApiCheck(ops.hostinger, config.vps.hostingerVmId)];
    const checks = p.scope === 'aws' ? aws : p.scope === 'hostinger' ? hostinger : [...aws, ...hostinger];
    const results = await runChecks(checks, ctx.settings.requestTimeoutSeconds * 1000);
    return { ok: results.every((r) => r.ok), checks: results.map(({ name, ok, detail, ms }) => ({ name, ok, detail, ms })) };
  },
});
