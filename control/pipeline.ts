/**
 * The one path every call takes, whatever the surface (CLI, HTTP, MCP):
 *
 *   authorize (agent known, capability known and granted) → validate (zod; then the grant's allowed values)
 *   → audit(start, mutating only) → handler (with a deadline) → audit(result)
 *
 * Refusals are audited too, with the agent id as given. Adapters only parse, authenticate and render.
 */
import type { z } from 'zod';
import type { AuditResult } from '../ops/audit/audit';
import { explainAwsError } from '../ops/aws/errors';
import { HostingerApiError } from '../ops/hostinger/client';
import type { AnyCapability, Surface } from './capability';
import type { ControlContext } from './context';
import { ControlError } from './errors';
import type { Registry } from './registry';

export interface CallRequest {
  agent: string;
  capability: string;
  params: unknown;
  surface: Surface;
  signal?: AbortSignal;
}

export interface CallOutcome<R = unknown> {
  capability: string;
  agent: string;
  result: R;
  durationMs: number;
  cached: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** `params.instanceId: Invalid input` → one line naming every bad field. */
export function describeParamIssues(issues: z.core.$ZodIssue[]): string {
  return issues.slice(0, 5).map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
    const at = i.path.length ? i.path.map(String).join('.') : 'params';
    return `${at}: ${i.message}`;
  }).join('; ');
}

export function redactParams(cap: AnyCapability | undefined, params: unknown): unknown {
  if (!params || typeof params !== 'object' || Array.isArray(params)) return params;
  const secret = new Set(cap?.secretParams ?? []);
  return Object.fromEntries(Object.entries(params as Record<string, unknown>).map(([k, v]) => {
    if (!secret.has(k) && !/token|secret|password|apikey/i.test(k)) return [k, v];
    return [k, `[redacted${typeof v === 'string' ? `, ${v.length} chars` : ''}]`];
  }));
}

/** A small summary of a result for the audit record (never the whole answer). */
function summarize(result: unknown): Record<string, unknown> | undefined {
  if (!result || typeof result !== 'object') return undefined;
  const r = result as Record<string, unknown>;
  const keep = ['changed', 'state', 'dryRun', 'rolledBack', 'from', 'to', 'uploaded', 'deleted', 'invalidated', 'invalidationId', 'message', 'outputTokens'];
  const out = Object.fromEntries(keep.filter((k) => k in r).map((k) => [k, typeof r[k] === 'string' ? String(r[k]).slice(0, 200) : r[k]]));
  return Object.keys(out).length ? out : undefined;
}

export class Pipeline {
  constructor(readonly ctx: ControlContext, readonly registry: Registry) {}

  async call<R = unknown>(req: CallRequest): Promise<CallOutcome<R>> {
    const started = Date.now();
    const cap = this.registry.get(req.capability);
    const audit = (result: AuditResult, extra: { phase: 'start' | 'result'; error?: string; detail?: Record<string, unknown>; target?: string }) =>
      this.ctx.ops.audit.record({
        action: req.capability,
        target: extra.target ?? req.capability,
        result,
        durationMs: Date.now() - started,
        detail: { agent: req.agent, surface: req.surface, phase: extra.phase, params: redactParams(cap, req.params), ...extra.detail },
        ...(extra.error ? { error: extra.error } : {}),
      });
    const refuse = async (err: ControlError): Promise<never> => {
      await audit('refused', { phase: 'result', error: `${err.kind}: ${err.message}` });
      throw err;
    };

    const agent = this.ctx.config.agents[req.agent];
    if (!agent) return refuse(new ControlError('unknown-agent', `unknown agent "${req.agent}" (agents in the config: ${Object.keys(this.ctx.config.agents).join(', ') || 'none'})`));
    if (!cap) return refuse(new ControlError('unknown-capability', `unknown capability "${req.capability}" (known: ${this.registry.names().join(', ')})`));
    const grant = agent.capabilities[cap.name];
    if (!grant) return refuse(new ControlError('forbidden', `${req.agent} does not hold ${cap.name} (it holds: ${Object.keys(agent.capabilities).join(', ') || 'nothing'})`));

    const parsed = cap.params.safeParse(req.params ?? {});
    if (!parsed.success) return refuse(new ControlError('bad-params', `${cap.name}: ${describeParamIssues(parsed.error.issues)}`));
    const params = parsed.data as Record<string, unknown>;
    for (const [key, allowed] of Object.entries(grant)) {
      if (!allowed.includes(params[key] as string | number)) {
        return refuse(new ControlError('forbidden', `${req.agent} may use ${cap.name} only with ${key} in [${allowed.join(', ')}], not ${JSON.stringify(params[key] ?? null)}`));
      }
    }

    const target = cap.target?.(params) ?? cap.name;
    if (cap.mutates) await audit('ok', { phase: 'start', target });

    const timeoutMs = cap.timeoutMs?.(this.ctx) ?? DEFAULT_TIMEOUT_MS;
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onOuterAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let cached = true;
    try {
      const run = () => {
        cached = false;
        return cap.handler(this.ctx, params, { agent: req.agent, surface: req.surface, signal: abort.signal });
      };
      const work = cap.cacheable ? this.ctx.cache.get(`${cap.name}:${JSON.stringify(params)}`, run) : run();
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(new ControlError('timeout', `${cap.name} did not finish within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
      });
      const result = await Promise.race([work, deadline]) as R;
      if (cap.mutates) this.ctx.cache.invalidate();
      const changed = (result as { changed?: unknown } | null)?.changed;
      await audit(changed === false ? 'no-change' : 'ok', { phase: 'result', target, detail: { outcome: summarize(result), cached } });
      return { capability: cap.name, agent: req.agent, result, durationMs: Date.now() - started, cached };
    } catch (err) {
      const e = err instanceof ControlError ? err : new ControlError('failed', errorLine(err));
      if (cap.mutates) this.ctx.cache.invalidate();
      await audit(e.refused ? 'refused' : 'error', { phase: 'result', target, error: `${e.kind}: ${e.message}` });
      throw e;
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}

/** Any thrown thing → one line (AWS and Hostinger errors already explain themselves in ops/). */
export function errorLine(err: unknown): string {
  if (err instanceof HostingerApiError) return `${err.message.split('\n')[0]} — ${err.hint}`;
  const plain = err instanceof Error && !(err as { $metadata?: unknown }).$metadata && !(err as { code?: unknown }).code
    && ['Error', 'TypeError', 'GpuNotFoundError', 'MissingTokenError', 'DeployError'].includes(err.name);
  return plain ? (err as Error).message.split('\n')[0]! : explainAwsError(err);
}
