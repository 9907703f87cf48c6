/**
 * gpu-control: start / stop / status for the ComfyUI GPU, called by n8n through a Function URL (SigV4), by
 * EventBridge when the idle composite alarm fires or Spot warns of an interruption, and by EventBridge Scheduler
 * to enforce the max-runtime cap. The decisions live in gpu-control/control.ts, shared with `ziggie gpu`.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { createGpuControl, latestSpotPrice, type GpuAnswer, type GpuControl } from '../../gpu-control/control';
import { parseFallbackPolicy } from '../../gpu-control/policy';
import { heartbeatProbe } from '../../gpu-control/heartbeat';
import { type GpuRequest, parseRequest } from './request';

export interface HandlerEnv {
  INSTANCE_ID?: string;
  COMFYUI_PORT?: string;
  MAX_RUNTIME_HOURS?: string;
  SPOT_MAX_PRICE_USD?: string;
  INTERRUPTION_WEBHOOK_URL?: string;
  JOBS_WAITING_ALARM?: string;
  /** The capacity fallback policy (gpu-control/policy.ts), JSON; unset: a capacity error answers unavailable. */
  FALLBACK_POLICY?: string;
}

export interface HandlerDeps {
  control: GpuControl;
  maxRuntimeHours: number;
  webhookUrl?: string;
  /** The alarm whose ALARM means "a job waits in the queue": start, not stop. */
  jobsWaitingAlarm?: string;
  fetch: typeof fetch;
  log: (line: Record<string, unknown>) => void;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function depsFromEnv(env: HandlerEnv): HandlerDeps {
  if (!env.INSTANCE_ID) throw new Error('INSTANCE_ID is not set');
  const ec2 = new EC2Client({ maxAttempts: 3, retryMode: 'adaptive' });
  const cloudwatch = new CloudWatchClient({ maxAttempts: 3, retryMode: 'adaptive' });
  return {
    control: createGpuControl(
      // The Lambda is outside the VPC and the security group admits only the VPS, so "ComfyUI answers" is read
      // from the heartbeat the on-instance watchdog publishes after each successful /queue call.
      { ec2, probe: heartbeatProbe(cloudwatch, env.INSTANCE_ID), fallback: fallbackFromEnv(env, ec2) },
      { instanceId: env.INSTANCE_ID, project: 'unused-with-instance-id', port: Number(env.COMFYUI_PORT ?? 8188) },
      { maxUsdPerHour: env.SPOT_MAX_PRICE_USD ? Number(env.SPOT_MAX_PRICE_USD) : undefined },
    ),
    maxRuntimeHours: Number(env.MAX_RUNTIME_HOURS ?? 8),
    webhookUrl: env.INTERRUPTION_WEBHOOK_URL || undefined,
    jobsWaitingAlarm: env.JOBS_WAITING_ALARM || undefined,
    fetch,
    log: (line) => console.log(JSON.stringify(line)),
  };
}

function fallbackFromEnv(env: HandlerEnv, ec2: EC2Client) {
  const policy = parseFallbackPolicy(env.FALLBACK_POLICY);
  return policy && { policy, spotPrice: (type: string, az: string) => latestSpotPrice(ec2, type, az) };
}

let cached: HandlerDeps | undefined;

export async function handler(event: unknown): Promise<HttpResponse | GpuAnswer | Record<string, unknown>> {
  cached ??= depsFromEnv(process.env as HandlerEnv);
  return handle(event, cached);
}

/** The whole behaviour, with its dependencies passed in (tests use aws-sdk-client-mock behind `control`). */
export async function handle(event: unknown, deps: HandlerDeps): Promise<HttpResponse | GpuAnswer | Record<string, unknown>> {
  const request = parseRequest(event, deps.jobsWaitingAlarm);
  if (!request.ok) {
    deps.log({ level: 'warn', rejected: request.error });
    return request.http ? http(400, { error: request.error }) : { error: request.error };
  }
  const answer = await act(request.value, deps);
  deps.log({ level: 'info', source: request.value.source, action: request.value.action, state: answer.state, changed: answer.changed, message: answer.message });
  return request.value.source === 'http' ? http(statusFor(answer), answer, answer.retryAfterSeconds) : answer;
}

async function act(request: GpuRequest, deps: HandlerDeps): Promise<GpuAnswer | (GpuAnswer & { reason: string })> {
  switch (request.action) {
    case 'start':
      return deps.control.start();
    case 'stop':
      return deps.control.stop();
    case 'status':
      return deps.control.status();
    case 'jobs-start': {
      // Idempotent: a running or starting GPU is left alone; a capacity error comes back as `unavailable`.
      const answer = await deps.control.start();
      return { ...answer, reason: `jobs waiting (${request.detail})` };
    }
    case 'idle-stop': {
      const answer = await deps.control.stop();
      return { ...answer, reason: `idle alarm ${request.detail}` };
    }
    case 'enforce-max-runtime': {
      const status = await deps.control.status();
      const capSeconds = deps.maxRuntimeHours * 3600;
      if ((status.state === 'running' || status.state === 'starting') && (status.uptimeSeconds ?? 0) > capSeconds) {
        const answer = await deps.control.stop();
        return { ...answer, reason: `ran ${Math.round((status.uptimeSeconds ?? 0) / 60)} min, over the ${deps.maxRuntimeHours} h cap` };
      }
      return { ...status, reason: `within the ${deps.maxRuntimeHours} h cap` };
    }
    case 'spot-warning': {
      const status = await deps.control.status();
      if (!deps.webhookUrl) return { ...status, reason: `${request.detail}: no webhook configured` };
      const res = await deps.fetch(deps.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event: request.detail, instanceId: status.instanceId, state: status.state }),
        signal: AbortSignal.timeout(5000),
      }).catch((err: Error) => ({ ok: false, status: 0, statusText: err.message }));
      return { ...status, reason: `${request.detail}: webhook answered ${res.status}` };
    }
  }
}

/** 200 done, 202 accepted and in progress, 404 no instance, 503 retryable (capacity, stopping). */
function statusFor(answer: GpuAnswer): number {
  if (answer.state === 'not-found' || answer.state === 'terminated') return 404;
  if (answer.state === 'unavailable') return 503;
  if (answer.action === 'start' && answer.state === 'stopping') return 503;
  if (answer.state === 'starting' || (answer.action === 'stop' && answer.state === 'stopping')) return 202;
  return 200;
}

function http(statusCode: number, body: unknown, retryAfterSeconds?: number): HttpResponse {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (retryAfterSeconds !== undefined && statusCode !== 200) headers['retry-after'] = String(retryAfterSeconds);
  return { statusCode, headers, body: JSON.stringify(body) };
}
