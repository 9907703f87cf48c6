/**
 * GPU control core: find, start, stop and report on the ComfyUI GPU instance.
 *
 * Shared by `ziggie gpu …` (scripts/ziggie.ts) and the `gpu-control` Lambda, so it is pure and
 * dependency-injected: an EC2 client and a fetch-like probe come in, a `GpuAnswer` goes out. It reads no config
 * file, touches no file system and uses nothing of Node beyond `fetch`/`AbortController`, so esbuild bundles it.
 *
 * Every operation is idempotent. `start` on a stopped instance calls StartInstances once; concurrent `start`
 * calls on one controller share that call (single-flight) and the joiners answer "already starting". Across
 * processes EC2 itself is the arbiter: StartInstances on a pending instance is harmless and its PreviousState
 * tells us someone else got there first.
 */
import {
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type EC2Client,
  type Filter,
  type Instance,
} from '@aws-sdk/client-ec2';
import { awsErrorCode } from '../shared/aws-errors';
import { FALLBACK_ERRORS, FALLBACK_TAGS, findStandIn, launchFallback, standInInfo, terminateStandIn, type FallbackChoice, type FallbackPolicy } from './fallback';
import { GPU_ROLE_TAG as GPU_ROLE } from '../shared/gpu-signals';

/** The EC2 instance states, as EC2 names them. */
export type Ec2State = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/** What a caller needs to know: `running` means ComfyUI answers; `starting` covers pending and booting. */
export type GpuState = 'stopped' | 'starting' | 'running' | 'stopping' | 'terminated' | 'not-found' | 'unavailable';

export type GpuAction = 'start' | 'stop' | 'status';

/** How a session-cost estimate was priced. */
export type RateSource = 'spot-price' | 'on-demand' | 'max-price';

export interface GpuCost {
  usdPerHour: number;
  source: RateSource;
  /** Cost of the current session (since the last launch/start) so far, at `usdPerHour`. */
  sessionUsd: number;
}

export interface GpuAnswer {
  action: GpuAction;
  state: GpuState;
  /** One line for a human (CLI, n8n message). */
  message: string;
  /** True when this call changed something (issued StartInstances / StopInstances). */
  changed: boolean;
  /** True when the caller should simply ask again later (booting, stopping, capacity). */
  retryable: boolean;
  retryAfterSeconds?: number;
  /** ComfyUI answered `/system_stats`. */
  ready: boolean;
  instanceId?: string;
  instanceType?: string;
  ec2State?: Ec2State;
  lifecycle?: 'spot' | 'on-demand';
  availabilityZone?: string;
  publicAddress?: string;
  /** `http://<public ip or dns>:<port>`, present whenever the instance has a public address. */
  url?: string;
  launchTime?: string;
  uptimeSeconds?: number;
  cost?: GpuCost;
  /** The AWS error code behind an `unavailable` answer (InsufficientInstanceCapacity, …). */
  errorCode?: string;
  /** This answer is about a stand-in launched because the GPU itself had no Spot capacity: which, and its price. */
  fallback?: {
    standsInFor: string;
    market: string;
    usdPerHour?: number;
    priceSource?: FallbackChoice['priceSource'];
    /** The alternatives tried before it and the error each got (start only). */
    tried?: FallbackChoice['tried'];
  };
}

/** Minimal fetch: the global `fetch` satisfies it; tests pass a stub. */
export type FetchLike = (url: string, init?: { method?: string; signal?: AbortSignal }) => Promise<{ ok: boolean; status: number }>;

/** Anything with EC2Client's `send` (the real client, or a test double). */
export type Ec2Like = Pick<EC2Client, 'send'>;

export interface GpuTarget {
  /** Explicit instance id; otherwise the instance is found by tags. */
  instanceId?: string;
  /** Value of the `Project` tag (config `tags.Project`). */
  project: string;
  /** Value of the `Role` tag; default `comfyui-gpu`. */
  role?: string;
  /** ComfyUI port (config `gpu.comfyuiPort`). */
  port: number;
}

/** Hourly rates for the session-cost estimate. The spot price is used for a spot instance when known. */
export interface GpuRates {
  spotUsdPerHour?: number;
  onDemandUsdPerHour?: number;
  /** The configured spot max price: an upper bound when neither rate is known. */
  maxUsdPerHour?: number;
}

export interface GpuControlDeps {
  ec2: Ec2Like;
  /** Health probe for `<url>/system_stats`; omit to skip the probe (then a running instance is `running`). */
  probe?: FetchLike;
  probeTimeoutMs?: number;
  now?: () => Date;
  /** Capacity fallback (gpu.fallback): without it, a capacity error is answered `unavailable`. */
  fallback?: { policy: FallbackPolicy; spotPrice: (instanceType: string, availabilityZone: string) => Promise<number | undefined> };
}

/** The `Role` tag value the GPU stack puts on the instance (shared/gpu-signals.ts is the one definition). */
export const GPU_ROLE_TAG: string = GPU_ROLE.value;

/** Error codes that mean "AWS cannot give you this instance right now" — retryable, with what to do. */
export const CAPACITY_HINTS: Record<string, { message: string; retryAfterSeconds: number }> = {
  InsufficientInstanceCapacity: {
    message: 'AWS has no spare capacity for this GPU type in this availability zone right now; retry in a few minutes, or see docs/runbooks/gpu-wont-start.md to move zone or type',
    retryAfterSeconds: 300,
  },
  InstanceLimitExceeded: {
    message: 'the account\'s GPU vCPU quota is used up; stop other GPU instances or request a quota increase (docs/runbooks/gpu-wont-start.md)',
    retryAfterSeconds: 900,
  },
  VcpuLimitExceeded: {
    message: 'the account\'s vCPU quota for this instance family is too low; request a quota increase (docs/runbooks/gpu-wont-start.md)',
    retryAfterSeconds: 900,
  },
  MaxSpotInstanceCountExceeded: {
    message: 'the account\'s Spot instance quota is used up; request a Spot quota increase (docs/runbooks/gpu-wont-start.md)',
    retryAfterSeconds: 900,
  },
  SpotMaxPriceTooLow: {
    message: 'the Spot price is above gpu.spot.maxPriceUsdPerHour; retry later or raise the max price (docs/runbooks/gpu-wont-start.md)',
    retryAfterSeconds: 600,
  },
};

/** Tag filter for the GPU instance (live instances only). */
export function gpuInstanceFilters(target: GpuTarget): Filter[] {
  return [
    { Name: 'tag:Project', Values: [target.project] },
    { Name: 'tag:Role', Values: [target.role ?? GPU_ROLE_TAG] },
    { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
  ];
}

export class GpuNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuNotFoundError';
  }
}

export class GpuControl {
  private readonly inflight = new Map<'start' | 'stop', Promise<GpuAnswer>>();
  private readonly now: () => Date;

  constructor(private readonly deps: GpuControlDeps, private readonly target: GpuTarget, private readonly rates: GpuRates = {}) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The instance, by id or by tags. Throws GpuNotFoundError when there is none (or more than one). */
  async find(): Promise<Instance> {
    const input = this.target.instanceId
      ? { InstanceIds: [this.target.instanceId] }
      : { Filters: gpuInstanceFilters(this.target) };
    const out = await this.deps.ec2.send(new DescribeInstancesCommand(input));
    // A capacity stand-in carries the GPU's tags too; the GPU is the one that stands in for nobody.
    const instances = (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])
      .filter((i) => !i.Tags?.some((t) => t.Key === FALLBACK_TAGS.standsInFor));
    if (instances.length === 0) {
      throw new GpuNotFoundError(this.target.instanceId
        ? `no instance ${this.target.instanceId}`
        : `no GPU instance tagged Project=${this.target.project}, Role=${this.target.role ?? GPU_ROLE_TAG}; deploy the gpu stack (cdktf deploy gpu)`);
    }
    if (instances.length > 1) {
      const ids = instances.map((i) => i.InstanceId).join(', ');
      throw new GpuNotFoundError(`${instances.length} instances are tagged as the GPU (${ids}); pass the instance id explicitly`);
    }
    return instances[0];
  }

  /** State, launch time, uptime, URL and the session cost so far. Never changes anything. */
  async status(): Promise<GpuAnswer> {
    const instance = await this.findOrNull();
    if (!instance.found) return instance.answer('status');
    const standIn = await this.standInFor(instance.value);
    if (standIn) return this.describeStandIn('status', standIn, instance.value);
    return this.describe('status', instance.value, false);
  }

  /** The running stand-in for a GPU that is not running itself (only with a fallback policy). */
  private async standInFor(primary: Instance): Promise<Instance | undefined> {
    if (!this.deps.fallback || ['running', 'pending'].includes(ec2State(primary))) return undefined;
    return findStandIn(this.deps.ec2, primary.InstanceId as string);
  }

  private async describeStandIn(action: GpuAction, standIn: Instance, primary: Instance): Promise<GpuAnswer> {
    const info = standInInfo(standIn);
    const answer = await this.describe(action, standIn, false);
    const rate = info.usdPerHour;
    const cost = rate !== undefined && answer.uptimeSeconds !== undefined
      ? { usdPerHour: rate, source: (info.market === 'spot' ? 'spot-price' : 'on-demand') as RateSource, sessionUsd: Math.round(rate * (answer.uptimeSeconds / 3600) * 10000) / 10000 }
      : undefined;
    return {
      ...answer,
      cost,
      fallback: { standsInFor: primary.InstanceId as string, market: info.market ?? 'unknown', usdPerHour: rate },
      message: `${answer.message} — a stand-in (${standIn.InstanceType}, ${info.market ?? '?'}, ${rate === undefined ? 'price unknown' : `$${rate.toFixed(3)}/h`}) for ${primary.InstanceId}, which had no Spot capacity`,
    };
  }

  /**
   * Idempotent start. Concurrent calls on this controller share one StartInstances; the joiners' answers say
   * "already starting".
   */
  async start(): Promise<GpuAnswer> {
    return this.singleFlight('start', () => this.doStart(), (a) => (a.changed
      ? { ...a, changed: false, message: `already starting (${a.instanceId})` }
      : a));
  }

  /** Idempotent stop: stopping a stopped (or stopping) instance is fine. */
  async stop(): Promise<GpuAnswer> {
    return this.singleFlight('stop', () => this.doStop(), (a) => (a.changed
      ? { ...a, changed: false, message: `already stopping (${a.instanceId})` }
      : a));
  }

  private async singleFlight(key: 'start' | 'stop', run: () => Promise<GpuAnswer>,
    forJoiner: (a: GpuAnswer) => GpuAnswer): Promise<GpuAnswer> {
    const existing = this.inflight.get(key);
    if (existing) return existing.then(forJoiner);
    const p = run().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async doStart(): Promise<GpuAnswer> {
    const found = await this.findOrNull();
    if (!found.found) return found.answer('start');
    const instance = found.value;
    const state = ec2State(instance);
    switch (state) {
      case 'running':
        return this.describe('start', instance, false);
      case 'pending':
        return { ...(await this.describe('start', instance, false)), message: `already starting (${instance.InstanceId})` };
      case 'stopping':
        return {
          ...(await this.describe('start', instance, false)),
          message: 'the GPU is stopping; retry in a minute',
          retryable: true,
          retryAfterSeconds: 60,
        };
      case 'shutting-down':
      case 'terminated':
        return this.describe('start', instance, false);
      case 'stopped':
        break;
    }
    const standIn = await this.standInFor(instance);
    if (standIn) return this.describeStandIn('start', standIn, instance);
    const id = instance.InstanceId as string;
    let previous: string | undefined;
    try {
      const out = await this.deps.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
      previous = out.StartingInstances?.[0]?.PreviousState?.Name;
    } catch (err) {
      const code = awsErrorCode(err);
      const hint = code ? CAPACITY_HINTS[code] : undefined;
      if (code && this.deps.fallback && FALLBACK_ERRORS.includes(code)) return this.startStandIn(instance, code);
      if (hint) {
        return {
          ...base('start', instance),
          state: 'unavailable',
          changed: false,
          retryable: true,
          retryAfterSeconds: hint.retryAfterSeconds,
          message: `${code}: ${hint.message}`,
          errorCode: code,
        };
      }
      if (code === 'IncorrectInstanceState') {
        // Raced with a stop that had just begun: the instance is stopping.
        return { ...base('start', instance), state: 'stopping', ec2State: 'stopping', changed: false, retryable: true,
          retryAfterSeconds: 60, message: 'the GPU is stopping; retry in a minute' };
      }
      throw err;
    }
    if (previous && previous !== 'stopped') {
      // Someone else (another process, the Lambda) started it between our describe and our start.
      return { ...base('start', instance), state: 'starting', ec2State: 'pending', changed: false, retryable: true,
        retryAfterSeconds: 30, message: `already starting (${id})` };
    }
    return { ...base('start', instance), state: 'starting', ec2State: 'pending', changed: true, retryable: true,
      retryAfterSeconds: 30, message: `starting ${id}; ComfyUI is usually up 2–4 minutes after boot` };
  }

  /** The GPU got `code` (no Spot capacity): launch the first alternative the fallback policy allows. */
  private async startStandIn(primary: Instance, code: string): Promise<GpuAnswer> {
    const { policy, spotPrice } = this.deps.fallback!;
    const outcome = await launchFallback(this.deps.ec2, primary, policy, spotPrice);
    const where = `${primary.InstanceType} in ${primary.Placement?.AvailabilityZone ?? '?'}`;
    if (!outcome.choice) {
      return {
        ...base('start', primary), state: 'unavailable', changed: false, retryable: true, errorCode: code,
        retryAfterSeconds: CAPACITY_HINTS[code]?.retryAfterSeconds ?? 300,
        message: `${code} for ${where}, and none of ${outcome.tried.length} alternative(s) had capacity `
          + `(${outcome.tried.map((t) => `${t.instanceType} ${t.market} ${t.availabilityZone}: ${t.error}`).join('; ') || 'none configured'})`,
        fallback: { standsInFor: primary.InstanceId as string, market: 'none', tried: outcome.tried },
      };
    }
    const c = outcome.choice;
    const price = c.usdPerHour === undefined ? 'price unknown' : `$${c.usdPerHour.toFixed(3)}/h (${c.priceSource})`;
    return {
      action: 'start', state: 'starting', ec2State: 'pending', changed: true, retryable: true, retryAfterSeconds: 30, ready: false,
      instanceId: c.instanceId, instanceType: c.instanceType, availabilityZone: c.availabilityZone,
      lifecycle: c.market === 'spot' ? 'spot' : 'on-demand', errorCode: code,
      cost: c.usdPerHour === undefined ? undefined : { usdPerHour: c.usdPerHour, source: c.market === 'spot' ? 'spot-price' : 'on-demand', sessionUsd: 0 },
      fallback: { standsInFor: primary.InstanceId as string, market: c.market, usdPerHour: c.usdPerHour, priceSource: c.priceSource, tried: c.tried },
      message: `${code} for ${where}: started a stand-in ${c.instanceId}, ${c.instanceType} ${c.market} in ${c.availabilityZone}, ${price}`
        + (c.tried.length ? ` after ${c.tried.length} alternative(s) without capacity` : ''),
    };
  }

  private async doStop(): Promise<GpuAnswer> {
    const found = await this.findOrNull();
    if (!found.found) return found.answer('stop');
    const instance = found.value;
    const standIn = await this.standInFor(instance);
    if (standIn) {
      const before = await this.describeStandIn('stop', standIn, instance);
      await terminateStandIn(this.deps.ec2, standIn.InstanceId as string);
      return { ...before, state: 'stopping', ec2State: 'shutting-down', ready: false, url: undefined, changed: true, retryable: false,
        retryAfterSeconds: undefined, message: `terminating the stand-in ${standIn.InstanceId} (${instance.InstanceId} stays stopped)` };
    }
    const state = ec2State(instance);
    if (state === 'stopped' || state === 'stopping' || state === 'terminated' || state === 'shutting-down') {
      const answer = await this.describe('stop', instance, false);
      return { ...answer, message: state === 'stopped' ? 'already stopped' : state === 'stopping' ? 'already stopping' : answer.message };
    }
    const id = instance.InstanceId as string;
    const before = await this.describe('stop', instance, false);
    try {
      await this.deps.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    } catch (err) {
      if (awsErrorCode(err) === 'IncorrectInstanceState') {
        return { ...before, changed: false, retryable: true, retryAfterSeconds: 60,
          message: 'the GPU is still starting and cannot be stopped yet; retry in a minute' };
      }
      throw err;
    }
    const cost = before.cost ? ` (session cost ≈ $${before.cost.sessionUsd.toFixed(2)})` : '';
    return { ...before, state: 'stopping', ec2State: 'stopping', ready: false, url: undefined, changed: true,
      retryable: false, retryAfterSeconds: undefined, message: `stopping ${id}${cost}` };
  }

  private async findOrNull(): Promise<{ found: true; value: Instance } | { found: false; answer: (a: GpuAction) => GpuAnswer }> {
    try {
      return { found: true, value: await this.find() };
    } catch (err) {
      if (!(err instanceof GpuNotFoundError) && awsErrorCode(err) !== 'InvalidInstanceID.NotFound'
        && awsErrorCode(err) !== 'InvalidInstanceID.Malformed') throw err;
      const message = err instanceof GpuNotFoundError ? err.message : `no instance ${this.target.instanceId}`;
      return {
        found: false,
        answer: (action) => ({ action, state: 'not-found', message, changed: false, retryable: false, ready: false }),
      };
    }
  }

  /** Everything `status` reports, for an instance already described. */
  private async describe(action: GpuAction, instance: Instance, changed: boolean): Promise<GpuAnswer> {
    const state = ec2State(instance);
    const answer: GpuAnswer = { ...base(action, instance), changed, state: 'stopped', retryable: false, message: '' };
    const address = instance.PublicIpAddress ?? (instance.PublicDnsName || undefined);
    if (address && (state === 'running' || state === 'pending')) {
      answer.publicAddress = address;
      answer.url = `http://${address}:${this.target.port}`;
    }
    if ((state === 'running' || state === 'pending') && instance.LaunchTime) {
      const launched = new Date(instance.LaunchTime);
      answer.launchTime = launched.toISOString();
      answer.uptimeSeconds = Math.max(0, Math.round((this.now().getTime() - launched.getTime()) / 1000));
      answer.cost = sessionCost(answer.uptimeSeconds, answer.lifecycle, this.rates);
    }
    switch (state) {
      case 'pending':
        return { ...answer, state: 'starting', retryable: true, retryAfterSeconds: 30, message: `starting (${instance.InstanceId} is pending)` };
      case 'running': {
        if (!answer.url) {
          return { ...answer, state: 'running', ready: false, message: 'running, but without a public address (reach it through the VPN/VPS)' };
        }
        const ready = await this.probeReady(answer.url);
        if (ready) return { ...answer, state: 'running', ready: true, message: `running: ${answer.url}` };
        return { ...answer, state: 'starting', ready: false, retryable: true, retryAfterSeconds: 20,
          message: `booting: the instance is running, ComfyUI is not answering yet at ${answer.url}` };
      }
      case 'stopping':
        return { ...answer, state: 'stopping', retryable: true, retryAfterSeconds: 60, message: 'stopping' };
      case 'stopped':
        return { ...answer, state: 'stopped', message: stoppedMessage(instance) };
      case 'shutting-down':
      case 'terminated':
        return { ...answer, state: 'terminated', message: `${instance.InstanceId} is ${state}; redeploy the gpu stack (cdktf deploy gpu)` };
    }
  }

  private async probeReady(url: string): Promise<boolean> {
    if (!this.deps.probe) return true;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.deps.probeTimeoutMs ?? 3000);
    try {
      const res = await this.deps.probe(`${url}/system_stats`, { method: 'GET', signal: controller.signal });
      return res.ok;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}

function ec2State(instance: Instance): Ec2State {
  return (instance.State?.Name ?? 'stopped') as Ec2State;
}

function base(action: GpuAction, instance: Instance): Omit<GpuAnswer, 'state' | 'message' | 'changed' | 'retryable'> {
  return {
    action,
    ready: false,
    instanceId: instance.InstanceId,
    instanceType: instance.InstanceType,
    ec2State: ec2State(instance),
    lifecycle: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
    availabilityZone: instance.Placement?.AvailabilityZone,
  };
}

function stoppedMessage(instance: Instance): string {
  const reason = instance.StateReason?.Code;
  if (reason === 'Server.SpotInstanceTermination') return 'stopped (by a Spot interruption); `start` will try again';
  return 'stopped';
}

/** The session cost at the best-known rate: spot price for spot, on-demand otherwise, max price as upper bound. */
export function sessionCost(uptimeSeconds: number, lifecycle: 'spot' | 'on-demand' | undefined, rates: GpuRates): GpuCost | undefined {
  let rate: { usdPerHour: number; source: RateSource } | undefined;
  if (lifecycle === 'spot' && rates.spotUsdPerHour !== undefined) rate = { usdPerHour: rates.spotUsdPerHour, source: 'spot-price' };
  else if (rates.onDemandUsdPerHour !== undefined) rate = { usdPerHour: rates.onDemandUsdPerHour, source: 'on-demand' };
  else if (rates.maxUsdPerHour !== undefined) rate = { usdPerHour: rates.maxUsdPerHour, source: 'max-price' };
  if (!rate) return undefined;
  return { ...rate, sessionUsd: Math.round(rate.usdPerHour * (uptimeSeconds / 3600) * 10000) / 10000 };
}

/** The latest Spot price for a type in an AZ (Linux), or undefined when EC2 has none to tell. */
export async function latestSpotPrice(ec2: Ec2Like, instanceType: string, availabilityZone?: string): Promise<number | undefined> {
  const out = await ec2.send(new DescribeSpotPriceHistoryCommand({
    InstanceTypes: [instanceType as never],
    ProductDescriptions: ['Linux/UNIX'],
    AvailabilityZone: availabilityZone,
    StartTime: new Date(),
    MaxResults: 5,
  }));
  const price = out.SpotPriceHistory?.[0]?.SpotPrice;
  return price === undefined ? undefined : Number(price);
}

/** Convenience for callers that hold plain values (the Lambda, the CLI). */
export function createGpuControl(deps: GpuControlDeps, target: GpuTarget, rates?: GpuRates): GpuControl {
  return new GpuControl(deps, target, rates);
}
