/** IAM needs several capabilities share (the GPU lookup, the Hostinger token) and the instance id parameter. */
import { z } from 'zod';
import type { ZiggieConfig } from '../../config/schema';
import { ziggieNames } from '../../shared/names';
import type { IamNeed } from '../iam';

export const describeGpu = (): IamNeed => ({
  why: 'Find the project GPU and its spot price (Describe calls have no resource-level permissions)',
  actions: ['ec2:DescribeInstances', 'ec2:DescribeSpotPriceHistory'],
  resources: ['*'],
});

export const gpuHeartbeat = (): IamNeed => ({
  why: 'Read the ComfyUI watchdog heartbeat metric (no resource-level permissions)',
  actions: ['cloudwatch:GetMetricStatistics'],
  resources: ['*'],
});

export const hostingerToken = (config: ZiggieConfig): IamNeed => ({
  why: 'Read the Hostinger API token',
  actions: ['secretsmanager:GetSecretValue'],
  resources: [`${ziggieNames(config).arn('secretsmanager', `secret:${config.secrets.hostingerApiToken}`)}-??????`],
});

export const projectInstances = (config: ZiggieConfig, actions: string[], why: string): IamNeed => ({
  why,
  actions,
  resources: [ziggieNames(config).arn('ec2', 'instance/*')],
  condition: { StringEquals: { 'aws:ResourceTag/Project': config.tags.Project } },
});

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
