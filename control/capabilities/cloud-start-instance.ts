import { gpuPowerResult, powerVps } from '../../ops/instances';
import { defineCapability } from '../capability';
import { ControlError } from '../errors';
import { describeGpu, hostingerToken, instanceParams, powerResult, projectInstance } from './shared';
import type { ControlContext } from '../context';

/** Start or stop, shared by the two capabilities. Concurrent identical calls share one provider call. */
export async function power(ctx: ControlContext, p: { provider: 'aws' | 'hostinger'; id: string }, action: 'start' | 'stop') {
  if (p.provider === 'hostinger') {
    if (p.id !== String(ctx.config.vps.hostingerVmId)) throw new ControlError('bad-params', `hostinger VM ${p.id} is not the configured VPS (${ctx.config.vps.hostingerVmId})`);
    const { promise } = ctx.flights.run(`hostinger:${p.id}:${action}`, async () => powerVps(await ctx.ops.hostinger(), ctx.config, action));
    return promise;
  }
  // GpuControl is single-flight per instance: ten concurrent starts make one StartInstances.
  const control = await ctx.gpu(p.id === 'gpu' ? undefined : p.id);
  return gpuPowerResult(action === 'start' ? await control.start() : await control.stop(), action);
}

export const cloudStartInstance = defineCapability({
  name: 'cloud:start-instance',
  description: 'Start the project GPU (aws) or the VPS (hostinger). Idempotent: starting a running machine changes nothing.',
  params: instanceParams,
  result: powerResult,
  mutates: true,
  iam: (config) => [...describeGpu(), ...projectInstance(config, 'ec2:StartInstances', 'start a project-tagged instance'), ...hostingerToken(config)],
  http: [{ method: 'POST', path: '/api/cloud/instances/:provider/:id/start', summary: 'Start an instance' }],
  target: (p) => `${p.provider}/${p.id}`,
  handler: (ctx, p) => power(ctx, p, 'start'),
});
