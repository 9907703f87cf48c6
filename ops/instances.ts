/**
 * The project's machines in one shape for agents and the dashboard: the AWS GPU instance and the Hostinger VPS.
 * A state the code cannot determine (a provider did not answer, or answered with a state we do not know) is
 * `unknown`, with the reason; never a guess.
 */
import type { ZiggieConfig } from '../config/schema';
import { explainAwsError } from './aws/errors';
import type { GpuAnswer, GpuControl } from '../gpu-control/control';
import { HostingerApiError, type HostingerClient } from './hostinger/client';
import type { Action, VirtualMachine } from './hostinger/types';

export type InstanceProvider = 'aws' | 'hostinger';
export type InstanceState = 'running' | 'starting' | 'stopping' | 'stopped' | 'terminated' | 'not-found' | 'unknown';

export interface Instance {
  provider: InstanceProvider;
  /** EC2 instance id, or the Hostinger VM id; `gpu` / the configured VM id when the provider could not be asked. */
  id: string;
  role: 'gpu' | 'vps';
  state: InstanceState;
  /** One line for a human. */
  detail: string;
  /** Where it answers (ComfyUI URL, VPS address) when known. */
  address: string | null;
  /** Cost so far this session (GPU) or per month (VPS, fixed), in USD; null when unknown. */
  costUsd: number | null;
  costBasis: 'session' | 'monthly-fixed' | 'unknown';
  /** GPU only: what EC2 says about the machine; null fields are unknown (never a guess). */
  gpu: GpuDetail | null;
  /** VPS only: what the Hostinger API can tell; the rest is null (unknown). */
  vps: VpsDetail | null;
}

export interface GpuDetail {
  instanceType: string | null;
  market: 'spot' | 'on-demand' | null;
  /** The rate the session is billed at (Spot price history or on-demand list price) and where it came from. */
  usdPerHour: number | null;
  rateSource: string | null;
  uptimeSeconds: number | null;
}

export interface VpsDetail {
  /** Containers running / defined: the Hostinger API cannot see inside the VM, so null until an agent reports them. */
  containersUp: number | null;
  containersTotal: number | null;
  /** The plan's disk size; usage is not in the Hostinger API. */
  diskGb: number | null;
  /** When the last backup finished; not in the Hostinger VM record. */
  lastBackupAt: string | null;
  /** Why the null fields are null. */
  unknownWhy: string;
}

const VPS_UNKNOWN = 'containers and last backup are not in the Hostinger API';

const GPU_STATES: Record<GpuAnswer['state'], InstanceState> = {
  stopped: 'stopped', starting: 'starting', running: 'running', stopping: 'stopping', terminated: 'terminated',
  'not-found': 'not-found', unavailable: 'unknown',
};

const VM_STATES: Partial<Record<VirtualMachine['state'], InstanceState>> = {
  running: 'running', starting: 'starting', stopping: 'stopping', stopped: 'stopped', destroyed: 'terminated',
};

export function gpuInstance(a: GpuAnswer): Instance {
  return {
    provider: 'aws', id: a.instanceId ?? 'gpu', role: 'gpu', state: GPU_STATES[a.state] ?? 'unknown', detail: a.message,
    address: a.url ?? null, costUsd: a.cost?.sessionUsd ?? null, costBasis: a.cost ? 'session' : 'unknown',
    gpu: {
      instanceType: a.instanceType ?? null, market: a.lifecycle ?? null, usdPerHour: a.cost?.usdPerHour ?? null,
      rateSource: a.cost ? String(a.cost.source) : null, uptimeSeconds: a.uptimeSeconds ?? null,
    },
    vps: null,
  };
}

export function vpsInstance(vm: VirtualMachine, config: Pick<ZiggieConfig, 'vps'>): Instance {
  const state = VM_STATES[vm.state] ?? 'unknown';
  return {
    provider: 'hostinger', id: String(vm.id), role: 'vps', state,
    detail: `${vm.hostname} ${vm.state}${state === 'unknown' ? ' (a Hostinger state this tool does not map)' : ''}`,
    address: vm.ipv4?.[0]?.address ?? null, costUsd: config.vps.monthlyCostUsd, costBasis: 'monthly-fixed',
    gpu: null,
    vps: { containersUp: null, containersTotal: null, diskGb: typeof vm.disk === 'number' ? Math.round(vm.disk / 1024) : null, lastBackupAt: null, unknownWhy: VPS_UNKNOWN },
  };
}

function unknownInstance(provider: InstanceProvider, id: string, role: Instance['role'], err: unknown): Instance {
  const why = err instanceof HostingerApiError ? `${err.message.split('\n')[0]} — ${err.hint}` : explainAwsError(err);
  return {
    provider, id, role, state: 'unknown', detail: why, address: null, costUsd: null, costBasis: 'unknown',
    gpu: role === 'gpu' ? { instanceType: null, market: null, usdPerHour: null, rateSource: null, uptimeSeconds: null } : null,
    vps: role === 'vps' ? { containersUp: null, containersTotal: null, diskGb: null, lastBackupAt: null, unknownWhy: why } : null,
  };
}

/** Both providers asked in parallel; one failing leaves the other's answer intact. */
export async function listInstances(deps: { config: ZiggieConfig; gpu: () => Promise<Pick<GpuControl, 'status'>>; hostinger: () => Promise<HostingerClient> }): Promise<Instance[]> {
  const vmId = deps.config.vps.hostingerVmId;
  const [gpu, vps] = await Promise.all([
    deps.gpu().then((c) => c.status()).then(gpuInstance, (err) => unknownInstance('aws', 'gpu', 'gpu', err)),
    deps.hostinger().then((c) => c.getVirtualMachine(vmId)).then((vm) => vpsInstance(vm, deps.config),
      (err) => unknownInstance('hostinger', String(vmId), 'vps', err)),
  ]);
  return [gpu, vps];
}

export interface PowerResult {
  provider: InstanceProvider;
  id: string;
  action: 'start' | 'stop';
  changed: boolean;
  state: InstanceState;
  message: string;
}

/** Start or stop the configured VPS. Only the configured VM id is accepted. */
export async function powerVps(client: HostingerClient, config: Pick<ZiggieConfig, 'vps'>, action: 'start' | 'stop'): Promise<PowerResult> {
  const id = config.vps.hostingerVmId;
  const vm = await client.getVirtualMachine(id);
  const done = action === 'start' ? 'running' : 'stopped';
  if (vm.state === done) return { provider: 'hostinger', id: String(id), action, changed: false, state: done, message: `already ${done}` };
  const a: Action = action === 'start' ? await client.startVirtualMachine(id) : await client.stopVirtualMachine(id);
  return {
    provider: 'hostinger', id: String(id), action, changed: true, state: action === 'start' ? 'starting' : 'stopping',
    message: `${action} requested (Hostinger action ${a.name} #${a.id}, ${a.state})`,
  };
}

export function gpuPowerResult(a: GpuAnswer, action: 'start' | 'stop'): PowerResult {
  return { provider: 'aws', id: a.instanceId ?? 'gpu', action, changed: a.changed, state: GPU_STATES[a.state] ?? 'unknown', message: a.message };
}
