/**
 * `ziggie gpu …` on top of the shared core: builds a GpuControl from the config (tags, port, rates), probes
 * ComfyUI directly and falls back to the watchdog's CloudWatch heartbeat (the security group admits only the
 * VPS, so from a laptop the direct probe usually cannot connect), and waits with progress.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ZiggieConfig } from '../../config/schema';
import { priceBook } from '../../cost/prices';
import { heartbeatProbe } from '../../gpu-control/heartbeat';
import { createGpuControl, latestSpotPrice, type Ec2Like, type FetchLike, type GpuAnswer, type GpuControl, type GpuRates } from '../../gpu-control/control';
import { fallbackPolicy } from '../../gpu-control/policy';

/** The first probe that says "up" wins. */
export function eitherProbe(...probes: FetchLike[]): FetchLike {
  return async (url, init) => {
    let last = { ok: false, status: 503 };
    for (const probe of probes) {
      try {
        const res = await probe(url, init);
        if (res.ok) return res;
        last = res;
      } catch {
        /* try the next */
      }
    }
    return last;
  };
}

/** On-demand rate from the cost price book (eu-north-1 data), when it has the type. */
export function onDemandRate(config: Pick<ZiggieConfig, 'region' | 'gpu'>): number | undefined {
  const book = priceBook(config.region);
  const id = `ec2.on-demand.${config.gpu.instanceType}`;
  return book.has(id) && !book.fallbackFrom ? book.price(id).usd : undefined;
}

export interface GpuServiceDeps {
  ec2: Ec2Like;
  cloudwatch?: Pick<CloudWatchClient, 'send'>;
  fetch?: FetchLike;
  instanceId?: string;
  now?: () => Date;
}

/** A controller for the configured GPU; the spot price is looked up once (failures fall back quietly). */
export { fallbackPolicy };

export async function gpuControlFor(config: ZiggieConfig, deps: GpuServiceDeps): Promise<GpuControl> {
  const rates: GpuRates = { onDemandUsdPerHour: onDemandRate(config), maxUsdPerHour: config.gpu.spot.maxPriceUsdPerHour };
  try {
    rates.spotUsdPerHour = await latestSpotPrice(deps.ec2, config.gpu.instanceType);
  } catch (e) {
    // the estimate falls back to on-demand / max price; but an endpoint that does not answer will not answer the
    // next call either: say so now rather than wait for it a second time
    if ((e as Error)?.name === 'AwsEndpointError') throw e;
  }
  // Direct probe with its own short timeout, so a security group that drops our packets leaves time for the heartbeat.
  const direct: FetchLike = deps.fetch ?? ((url, init) => fetch(url, { method: init?.method, signal: AbortSignal.timeout(1500) }));
  const target = { instanceId: deps.instanceId, project: config.tags.Project, port: config.gpu.comfyuiPort };
  let control: GpuControl | undefined;
  let probe = direct;
  if (deps.cloudwatch) {
    const cw = deps.cloudwatch;
    let instanceId = deps.instanceId;
    // The heartbeat is per instance id; the probe only gets the URL, so look the id up once when first needed.
    probe = eitherProbe(direct, async (url, init) => {
      instanceId ??= (await control!.find()).InstanceId!;
      return heartbeatProbe(cw, instanceId)(url, init);
    });
  }
  const fallback = { policy: fallbackPolicy(config), spotPrice: (type: string, az: string) => latestSpotPrice(deps.ec2, type, az) };
  control = createGpuControl({ ec2: deps.ec2, probe, probeTimeoutMs: 2500, now: deps.now, fallback }, target, rates);
  return control;
}

/**
 * Poll `status` until ComfyUI answers (running + ready), the GPU stops/fails, or the timeout passes.
 * `onProgress` gets every answer whose message changed.
 */
export async function waitUntilReady(control: GpuControl, opts: {
  timeoutMs?: number; intervalMs?: number; onProgress?: (a: GpuAnswer, elapsedMs: number) => void; sleep?: (ms: number) => Promise<void>;
} = {}): Promise<GpuAnswer> {
  const started = Date.now();
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let lastMessage = '';
  for (;;) {
    const a = await control.status();
    if (a.message !== lastMessage) {
      opts.onProgress?.(a, Date.now() - started);
      lastMessage = a.message;
    }
    if (a.state === 'running' && a.ready) return a;
    if (a.state !== 'starting' || Date.now() - started > (opts.timeoutMs ?? 10 * 60_000)) return a;
    await sleep(opts.intervalMs ?? 10_000);
  }
}
