import { z } from 'zod';
import { listInstances } from '../../ops/instances';
import { defineCapability } from '../capability';
import { describeGpu, gpuHeartbeat, hostingerToken } from './shared';

const instance = z.object({
  provider: z.enum(['aws', 'hostinger']),
  id: z.string(),
  role: z.enum(['gpu', 'vps']),
  state: z.enum(['running', 'starting', 'stopping', 'stopped', 'terminated', 'not-found', 'unknown'])
    .describe('unknown: the provider did not answer, or answered with a state this tool does not map (see detail)'),
  detail: z.string(),
  address: z.string().nullable(),
  costUsd: z.number().nullable().describe('session cost so far (GPU) or the fixed monthly price (VPS); null when unknown'),
  costBasis: z.enum(['session', 'monthly-fixed', 'unknown']),
  gpu: z.object({
    instanceType: z.string().nullable(), market: z.enum(['spot', 'on-demand']).nullable(),
    usdPerHour: z.number().nullable().describe('the session\'s rate (Spot price or on-demand); null when unknown'),
    rateSource: z.string().nullable(), uptimeSeconds: z.number().nullable(),
  }).nullable(),
  vps: z.object({
    containersUp: z.number().nullable(), containersTotal: z.number().nullable(), diskGb: z.number().nullable(),
    lastBackupAt: z.string().nullable(), unknownWhy: z.string(),
  }).nullable(),
});

export const cloudStatus = defineCapability({
  name: 'cloud:status',
  description: 'The project\'s machines (the AWS GPU and the Hostinger VPS) in one shape: state, address, cost so far.',
  params: z.strictObject({}),
  result: z.object({ instances: z.array(instance), fetchedAt: z.string() }),
  mutates: false,
  cacheable: true,
  iam: (config) => [...describeGpu(), ...gpuHeartbeat(), ...hostingerToken(config)],
  http: [{ method: 'GET', path: '/api/cloud/instances', summary: 'GPU and VPS instances' }],
  async handler(ctx) {
    const instances = await listInstances({ config: ctx.config, gpu: () => ctx.gpu(), hostinger: () => ctx.ops.hostinger() });
    return { instances, fetchedAt: new Date().toISOString() };
  },
});
