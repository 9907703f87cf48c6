/** Where a deploy goes, shared by cloud:deploy and cloud:rollback: the VPS service, or the frontend prefix. */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ZiggieConfig } from '../../config/schema';
import { publishFrontend, type PublishResult } from '../../ops/deploy/frontend';
import { rollService, type RolloutResult } from '../../ops/deploy/hostinger';
import type { IamCall } from '../../shared/iam-needs';
import type { ControlContext } from '../context';
import { ControlError } from '../errors';

export const APP = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { error: 'an app name: a VPS service (hostinger) or a frontend (aws)' });
export const VERSION = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, { error: 'a version / image tag such as v1.2.0' });

const common = {
  dryRun: z.boolean(),
  changed: z.boolean(),
  message: z.string(),
};

export const deployResult = z.discriminatedUnion('provider', [
  z.object({
    provider: z.literal('hostinger'), ...common,
    service: z.string(), host: z.string(),
    from: z.string().nullable().describe('the image before'), to: z.string().nullable().describe('the image asked for'),
    rolledBack: z.boolean().describe('the new version failed its health check and the old one runs again'),
    health: z.string().nullable().describe('healthy, unhealthy, running (no health check), …; null in a dry run'),
  }),
  z.object({
    provider: z.literal('aws'), ...common,
    bucket: z.string(), prefix: z.string(), version: z.string(),
    from: z.string().nullable().describe('the release before'), to: z.string(),
    uploaded: z.array(z.object({ key: z.string(), reason: z.enum(['new', 'changed']), contentType: z.string(), cacheControl: z.string(), bytes: z.number() })),
    unchanged: z.number(),
    invalidation: z.object({ paths: z.array(z.string()), id: z.string().nullable(), skipped: z.string().optional() }),
  }),
]);

export const frontendPrefix = (ctx: Pick<ControlContext, 'settings'>, app: string): string => `${ctx.settings.deploy.frontend.prefix}${app}/`;

/** The aws half (the frontend publish, under a sample app `web`); the hostinger half goes over SSH and needs no AWS. */
export function deployIam(config: ZiggieConfig): IamCall[] {
  const prefix = config.controlCenter?.deploy.frontend.prefix ?? 'frontend/';
  const bucket = `arn:aws:s3:::${config.storage.assetsBucket}`;
  const distribution = config.controlCenter?.deploy.frontend.cloudfrontDistributionId;
  return [
    { action: 's3:ListBucket', resource: bucket, context: { 's3:prefix': `${prefix}web/` }, why: 'the published frontend and its releases' },
    { action: 's3:GetObject', resource: `${bucket}/${prefix}web/index.html`, why: 'the release record of the frontend' },
    { action: 's3:PutObject', resource: `${bucket}/${prefix}web/index.html`, why: 'the changed frontend objects' },
    ...(distribution ? [{ action: 'cloudfront:CreateInvalidation', resource: `arn:aws:cloudfront::${config.accountId}:distribution/${distribution}`, why: 'invalidate the changed paths' }] : []),
  ];
}

export function vpsService(ctx: ControlContext, app: string): string {
  if (!ctx.config.containers.some((c) => c.name === app)) {
    throw new ControlError('bad-params', `app "${app}" is not a VPS service (containers: ${ctx.config.containers.map((c) => c.name).join(', ')})`);
  }
  return app;
}

export function artifactDir(ctx: ControlContext, app: string, version: string): string {
  const dir = path.resolve(ctx.settings.deploy.frontend.artifactsDir, app, version);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ControlError('bad-params', `no build of ${app} ${version} at ${dir}`);
  return dir;
}

export async function rollVps(ctx: ControlContext, app: string, mode: 'deploy' | 'rollback', dryRun: boolean, tag?: string): Promise<RolloutResult> {
  return rollService(ctx.vps(), { service: vpsService(ctx, app), mode, tag, dryRun, healthTimeoutMs: ctx.settings.deploy.healthTimeoutSeconds * 1000 });
}

export async function publish(ctx: ControlContext, app: string, version: string, dryRun: boolean, signal: AbortSignal): Promise<PublishResult> {
  return publishFrontend({
    s3: ctx.clients.s3, cloudfront: ctx.clients.cloudfront, bucket: ctx.config.storage.assetsBucket, prefix: frontendPrefix(ctx, app),
    distributionId: ctx.settings.deploy.frontend.cloudfrontDistributionId, dir: artifactDir(ctx, app, version), version, dryRun, signal,
  });
}

export const deployTimeoutMs = (ctx: ControlContext): number => (ctx.settings.deploy.healthTimeoutSeconds * 2 + 900) * 1000;
