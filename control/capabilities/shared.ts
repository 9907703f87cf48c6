/** IAM calls (shared/iam-needs.ts) several capabilities share (the GPU lookup, the Hostinger token) and the instance id parameter. */
import { z } from 'zod';
import type { ZiggieConfig } from '../../config/schema';
import { ziggieNames } from '../../shared/names';
import type { IamCall } from '../../shared/iam-needs';

/** A representative project instance for calls whose target is found at run time (as ops/permissions.ts). */
const SAMPLE_INSTANCE = 'i-0123456789abcdef0';

export const describeGpu = (): IamCall[] => [
  { action: 'ec2:DescribeInstances', resource: '*', why: 'find the project GPU by its tags (Describe calls take no resource)' },
  { action: 'ec2:DescribeSpotPriceHistory', resource: '*', why: 'the GPU\'s spot price' },
];

export const gpuHeartbeat = (): IamCall[] => [
  { action: 'cloudwatch:GetMetricStatistics', resource: '*', why: 'the ComfyUI watchdog heartbeat (no resource-level permissions)' },
];

export const hostingerToken = (config: ZiggieConfig): IamCall[] => [
  { action: 'secretsmanager:GetSecretValue', resource: `${ziggieNames(config).arn('secretsmanager', `secret:${config.secrets.hostingerApiToken}`)}-AbCdEf`, why: 'the Hostinger API token' },
];

/** A start or stop of a project-tagged instance (the policy is scoped by the tag, not the id). */
export const projectInstance = (config: ZiggieConfig, action: string, why: string): IamCall[] => [
  { action, resource: ziggieNames(config).arn('ec2', `instance/${SAMPLE_INSTANCE}`), context: { 'aws:ResourceTag/Project': config.tags.Project }, why },
];

/** `aws` + an EC2 instance id (or `gpu` for the project GPU), or `hostinger` + the configured VM id. */
export const instanceParams = z.strictObject({
  provider: z.enum(['aws', 'hostinger']),
  id: z.string().regex(/^(i-[0-9a-f]{8,17}|gpu|\d{1,12})$/, { error: 'an EC2 instance id (i-…), "gpu", or the Hostinger VM id' }),
}).refine((p) => (p.provider === 'aws' ? !/^\d+$/.test(p.id) : /^\d+$/.test(p.id)),
  { error: 'aws takes an EC2 instance id or "gpu"; hostinger takes the numeric VM id', path: ['id'] });

export const powerResult = z.object({
  provider: z.enum(['aws', 'hostinger']),
  id: z.string(),
  action: z.enum(['start', 'stop']),
  changed: z.boolean(),
  state: z.enum(['running', 'starting', 'stopping', 'stopped', 'terminated', 'not-found', 'unknown']),
  message: z.string(),
});
