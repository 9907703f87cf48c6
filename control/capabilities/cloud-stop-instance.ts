import { defineCapability } from '../capability';
import { power } from './cloud-start-instance';
import { describeGpu, hostingerToken, instanceParams, powerResult, projectInstance } from './shared';

export const cloudStopInstance = defineCapability({
  name: 'cloud:stop-instance',
  description: 'Stop the project GPU (aws) or the VPS (hostinger). Idempotent: stopping a stopped machine changes nothing.',
  params: instanceParams,
  result: powerResult,
  mutates: true,
  iam: (config) => [...describeGpu(), ...projectInstance(config, 'ec2:StopInstances', 'stop a project-tagged instance'), ...hostingerToken(config)],
  http: [{ method: 'POST', path: '/api/cloud/instances/:provider/:id/stop', summary: 'Stop an instance' }],
  target: (p) => `${p.provider}/${p.id}`,
  handler: (ctx, p) => power(ctx, p, 'stop'),
});
