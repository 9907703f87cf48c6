import { z } from 'zod';
import { previousRelease } from '../../ops/deploy/frontend';
import { defineCapability } from '../capability';
import { ControlError } from '../errors';
import { APP, deployIam, deployResult, deployTimeoutMs, frontendPrefix, publish, rollVps } from './deploy-target';

export const cloudRollback = defineCapability({
  name: 'cloud:rollback',
  description: 'Go back to the version before the current one: the previous image of a VPS service (recorded on the VPS at each deploy), '
    + 'or the previous frontend release (re-published from artifacts/<app>/<previous>).',
  params: z.strictObject({ provider: z.enum(['hostinger', 'aws']), app: APP, dryRun: z.boolean().default(false) }),
  result: deployResult,
  mutates: true,
  iam: deployIam,
  timeoutMs: deployTimeoutMs,
  http: [{ method: 'POST', path: '/api/cloud/rollback', summary: 'Roll an application back to its previous version' }],
  target: (p) => `${p.provider}/${p.app}`,
  async handler(ctx, p, call) {
    if (p.provider === 'hostinger') return rollVps(ctx, p.app, 'rollback', p.dryRun);
    const previous = await previousRelease({ s3: ctx.clients.s3, bucket: ctx.config.storage.assetsBucket, prefix: frontendPrefix(ctx, p.app), signal: call.signal });
    if (!previous) throw new ControlError('failed', `no previous release of ${p.app} is recorded in s3://${ctx.config.storage.assetsBucket}/${frontendPrefix(ctx, p.app)}`);
    return publish(ctx, p.app, previous, p.dryRun, call.signal);
  },
});
