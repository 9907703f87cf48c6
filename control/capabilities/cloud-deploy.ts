import { z } from 'zod';
import { defineCapability } from '../capability';
import { APP, VERSION, deployIam, deployResult, deployTimeoutMs, publish, rollVps } from './deploy-target';

export const cloudDeploy = defineCapability({
  name: 'cloud:deploy',
  description: 'deploy_application. hostinger: roll one VPS service to an image tag, wait for its health check, roll back automatically if it fails. '
    + 'aws: publish a built frontend (artifacts/<app>/<version>) to the assets bucket, only changed objects, and invalidate the changed CloudFront paths. '
    + 'dryRun: exactly what would change, nothing changed.',
  params: z.strictObject({
    provider: z.enum(['hostinger', 'aws']),
    app: APP,
    version: VERSION,
    dryRun: z.boolean().default(false),
  }),
  result: deployResult,
  mutates: true,
  iam: deployIam,
  timeoutMs: deployTimeoutMs,
  http: [{ method: 'POST', path: '/api/cloud/deploy', summary: 'Deploy an application version' }],
  target: (p) => `${p.provider}/${p.app}@${p.version}`,
  handler: (ctx, p, call) => (p.provider === 'hostinger'
    ? rollVps(ctx, p.app, 'deploy', p.dryRun, p.version)
    : publish(ctx, p.app, p.version, p.dryRun, call.signal)),
});
