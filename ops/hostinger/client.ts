/**
 * A thin, typed fetch client for the parts of the Hostinger public API ziggie uses: VMs, snapshots, actions,
 * firewalls and DNS zones.
 *
 * Why not the official `hostinger-api-sdk` (0.0.17)? It is an OpenAPI-generator build on axios: a pre-1.0
 * package that adds axios to the tree, types nearly every field optional, and gives no hook for a circuit
 * breaker or Retry-After. The endpoints we need are a dozen plain JSON calls, so its spec is the reference
 * (ops/hostinger/types.ts mirrors its models) and this client stays ~200 lines on the platform `fetch`.
 *
 * Resilience: every request goes through an opossum circuit breaker (5xx, network errors and timeouts count;
 * 4xx do not), a per-request timeout (AbortController), 429 honours Retry-After, and idempotent GETs are
 * retried on 5xx/network errors a couple of times.
 */
import { CircuitOpenError, withBreaker, type BreakerOptions } from '../resilience/breaker';
import type {
  Action, DnsRecordSet, DnsRecordSetInput, ErrorBody, Firewall, FirewallRule, FirewallRuleInput, Page, Snapshot,
  VirtualMachine,
} from './types';

export const HOSTINGER_API = 'https://developers.hostinger.com';

export type HostingerErrorKind =
  | 'unauthenticated' | 'forbidden' | 'not-found' | 'validation' | 'rate-limited' | 'server' | 'network' | 'timeout'
  | 'circuit-open' | 'unexpected';

export class HostingerApiError extends Error {
  constructor(
    readonly kind: HostingerErrorKind,
    message: string,
    readonly status?: number,
    readonly correlationId?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'HostingerApiError';
  }

  /** One line with what to do next. */
  get hint(): string {
    switch (this.kind) {
      case 'unauthenticated':
        return 'the Hostinger API token was rejected: create one in hPanel → Profile → API, then `npm run ziggie -- secrets put hostinger-api-token` (or set HOSTINGER_API_TOKEN)';
      case 'forbidden':
        return 'the Hostinger API token may not do this: check its permissions in hPanel → Profile → API';
      case 'not-found':
        return 'Hostinger does not know this resource: check vps.hostingerVmId (or the firewall/domain) in the config';
      case 'rate-limited':
        return `Hostinger is rate-limiting this token: wait ${this.retryAfterSeconds ?? 60} s and run it again`;
      case 'server':
      case 'network':
      case 'timeout':
      case 'circuit-open':
        return 'the Hostinger API is not answering properly: check https://statuspage.hostinger.com, then retry (docs/runbooks/vps-unreachable.md)';
      default:
        return 'see the message above';
    }
  }
}

export interface HostingerClientOptions {
  token: string;
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Per-attempt timeout for the whole exchange (headers and body); default 10 s (the ops CLI passes ops.requestTimeoutMs). */
  timeoutMs?: number;
  /** Extra attempts after a 429 (any method) or a 5xx/network error (GET only). */
  maxRetries?: number;
  /** Cap for a Retry-After wait. */
  maxRetryAfterSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  breaker?: BreakerOptions;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class HostingerClient {
  private readonly baseUrl: string;
  private readonly doFetch: typeof fetch;
  private readonly send: (method: Method, path: string, body?: unknown) => Promise<unknown>;

  constructor(private readonly options: HostingerClientOptions) {
    if (!options.token) throw new HostingerApiError('unauthenticated', 'no Hostinger API token given');
    this.baseUrl = (options.baseUrl ?? HOSTINGER_API).replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
    const { fire } = withBreaker('Hostinger API', (method: Method, path: string, body?: unknown) => this.once(method, path, body), {
      // Only the service's own failures count towards opening the circuit.
      errorFilter: (err) => err instanceof HostingerApiError && !['server', 'network', 'timeout'].includes(err.kind),
      ...options.breaker,
    });
    this.send = fire;
  }

  // ── Virtual machines ────────────────────────────────────────────────────────────────────────────
  listVirtualMachines(): Promise<VirtualMachine[]> {
    return this.request('GET', '/api/vps/v1/virtual-machines') as Promise<VirtualMachine[]>;
  }

  getVirtualMachine(id: number): Promise<VirtualMachine> {
    return this.request('GET', `/api/vps/v1/virtual-machines/${id}`) as Promise<VirtualMachine>;
  }

  /** Power the VM on (Hostinger: POST …/start); returns the action to poll. */
  startVirtualMachine(id: number): Promise<Action> {
    return this.request('POST', `/api/vps/v1/virtual-machines/${id}/start`) as Promise<Action>;
  }

  /** Power the VM off (Hostinger: POST …/stop); returns the action to poll. */
  stopVirtualMachine(id: number): Promise<Action> {
    return this.request('POST', `/api/vps/v1/virtual-machines/${id}/stop`) as Promise<Action>;
  }

  // ── Snapshots and actions ───────────────────────────────────────────────────────────────────────
  /** The VM's snapshot, or null when it has none. */
  async getSnapshot(vmId: number): Promise<Snapshot | null> {
    try {
      const snap = await this.request('GET', `/api/vps/v1/virtual-machines/${vmId}/snapshot`) as Partial<Snapshot> | null;
      return snap && typeof snap.id === 'number' ? snap as Snapshot : null;
    } catch (err) {
      if (err instanceof HostingerApiError && err.kind === 'not-found') return null;
      throw err;
    }
  }

  /** Creates a snapshot; **overwrites the existing one** (a VM keeps one). */
  createSnapshot(vmId: number): Promise<Action> {
    return this.request('POST', `/api/vps/v1/virtual-machines/${vmId}/snapshot`) as Promise<Action>;
  }

  restoreSnapshot(vmId: number): Promise<Action> {
    return this.request('POST', `/api/vps/v1/virtual-machines/${vmId}/snapshot/restore`) as Promise<Action>;
  }

  getAction(vmId: number, actionId: number): Promise<Action> {
    return this.request('GET', `/api/vps/v1/virtual-machines/${vmId}/actions/${actionId}`) as Promise<Action>;
  }

  /** Poll an action until it succeeds (returns it) or fails (throws). */
  async waitForAction(vmId: number, action: Action, opts: { timeoutMs?: number; intervalMs?: number; onPoll?: (a: Action) => void } = {}): Promise<Action> {
    const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
    const sleep = this.options.sleep ?? sleepMs;
    let current = action;
    for (;;) {
      if (current.state === 'success') return current;
      if (current.state === 'error') throw new HostingerApiError('unexpected', `Hostinger action ${current.name} #${current.id} failed`);
      if (Date.now() > deadline) {
        throw new HostingerApiError('timeout', `Hostinger action ${current.name} #${current.id} still ${current.state} after ${Math.round((opts.timeoutMs ?? 900_000) / 1000)} s`);
      }
      await sleep(opts.intervalMs ?? 5000);
      current = await this.getAction(vmId, current.id);
      opts.onPoll?.(current);
    }
  }

  // ── Firewalls ───────────────────────────────────────────────────────────────────────────────────
  /** Every firewall of the account (all pages). */
  async listFirewalls(): Promise<Firewall[]> {
    const all: Firewall[] = [];
    for (let page = 1; page <= 50; page++) {
      const res = await this.request('GET', `/api/vps/v1/firewall?page=${page}`) as Page<Firewall>;
      all.push(...(res.data ?? []));
      const meta = res.meta;
      if (!meta || res.data.length === 0 || meta.current_page * meta.per_page >= meta.total) break;
    }
    return all;
  }

  getFirewall(id: number): Promise<Firewall> {
    return this.request('GET', `/api/vps/v1/firewall/${id}`) as Promise<Firewall>;
  }

  createFirewall(name: string): Promise<Firewall> {
    return this.request('POST', '/api/vps/v1/firewall', { name }) as Promise<Firewall>;
  }

  createFirewallRule(firewallId: number, rule: FirewallRuleInput): Promise<FirewallRule> {
    return this.request('POST', `/api/vps/v1/firewall/${firewallId}/rules`, rule) as Promise<FirewallRule>;
  }

  async deleteFirewallRule(firewallId: number, ruleId: number): Promise<void> {
    await this.request('DELETE', `/api/vps/v1/firewall/${firewallId}/rules/${ruleId}`);
  }

  /** Push the firewall's rules to the VM (needed after rules change). */
  syncFirewall(firewallId: number, vmId: number): Promise<Action> {
    return this.request('POST', `/api/vps/v1/firewall/${firewallId}/sync/${vmId}`) as Promise<Action>;
  }

  activateFirewall(firewallId: number, vmId: number): Promise<Action> {
    return this.request('POST', `/api/vps/v1/firewall/${firewallId}/activate/${vmId}`) as Promise<Action>;
  }

  // ── DNS ─────────────────────────────────────────────────────────────────────────────────────────
  getDnsZone(domain: string): Promise<DnsRecordSet[]> {
    return this.request('GET', `/api/dns/v1/zones/${encodeURIComponent(domain)}`) as Promise<DnsRecordSet[]>;
  }

  /**
   * Update records. `overwrite: true` (the API's default) replaces the records matching each name+type;
   * `false` appends and only updates TTLs.
   */
  async updateDnsZone(domain: string, zone: DnsRecordSetInput[], opts: { overwrite?: boolean } = {}): Promise<void> {
    await this.request('PUT', `/api/dns/v1/zones/${encodeURIComponent(domain)}`, { overwrite: opts.overwrite ?? true, zone });
  }

  // ── Transport ───────────────────────────────────────────────────────────────────────────────────
  private async request(method: Method, path: string, body?: unknown): Promise<unknown> {
    const maxRetries = this.options.maxRetries ?? 2;
    const sleep = this.options.sleep ?? sleepMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(method, path, body);
      } catch (err) {
        if (err instanceof CircuitOpenError) {
          throw new HostingerApiError('circuit-open', `${err.message} (${method} ${path})`);
        }
        if (!(err instanceof HostingerApiError) || attempt >= maxRetries) throw err;
        if (err.kind === 'rate-limited') {
          const wait = Math.min(err.retryAfterSeconds ?? 2, this.options.maxRetryAfterSeconds ?? 30);
          await sleep(wait * 1000);
          continue;
        }
        if (method === 'GET' && ['server', 'network', 'timeout'].includes(err.kind)) {
          await sleep(500 * 2 ** attempt);
          continue;
        }
        throw err;
      }
    }
  }

  private async once(method: Method, path: string, body?: unknown): Promise<unknown> {
    const controller = new AbortController();
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    // one deadline for the whole exchange: headers and body (a server may send headers, then stall)
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.doFetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.options.token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      text = await res.text();
    } catch (err) {
      if (controller.signal.aborted) {
        throw new HostingerApiError('timeout', `Hostinger API (${this.baseUrl}) did not answer ${method} ${path} within ${timeoutMs} ms (ops.requestTimeoutMs)`);
      }
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new HostingerApiError('network', `cannot reach the Hostinger API at ${this.baseUrl} (${cause})`);
    } finally {
      clearTimeout(timer);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = undefined;
    }
    if (res.ok) {
      if (json === undefined) throw new HostingerApiError('unexpected', `Hostinger API answered ${method} ${path} with non-JSON`, res.status);
      return json;
    }
    throw errorFrom(res, json as ErrorBody | undefined, method, path);
  }
}

function errorFrom(res: Response, body: ErrorBody | undefined, method: Method, path: string): HostingerApiError {
  const status = res.status;
  const detail = body?.message ? `: ${body.message}` : '';
  const fields = body?.errors ? ` (${Object.entries(body.errors).map(([k, v]) => `${k}: ${[v].flat().join(', ')}`).join('; ')})` : '';
  const where = `${method} ${path} → ${status}`;
  const cid = body?.correlation_id;
  if (status === 401) return new HostingerApiError('unauthenticated', `Hostinger API: unauthenticated (${where})${detail}`, status, cid);
  if (status === 403) return new HostingerApiError('forbidden', `Hostinger API: forbidden (${where})${detail}`, status, cid);
  if (status === 404) return new HostingerApiError('not-found', `Hostinger API: not found (${where})${detail}`, status, cid);
  if (status === 422 || status === 400) return new HostingerApiError('validation', `Hostinger API: rejected (${where})${detail}${fields}`, status, cid);
  if (status === 429) {
    return new HostingerApiError('rate-limited', `Hostinger API: rate limited (${where})${detail}`, status, cid, retryAfter(res.headers.get('retry-after')));
  }
  if (status >= 500) return new HostingerApiError('server', `Hostinger API: server error (${where})${detail}${cid ? ` [correlation ${cid}]` : ''}`, status, cid);
  return new HostingerApiError('unexpected', `Hostinger API: unexpected ${where}${detail}`, status, cid);
}

/** Retry-After as seconds: either delta-seconds or an HTTP date. */
export function retryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
