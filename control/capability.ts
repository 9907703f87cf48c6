/**
 * A capability: data plus one handler. The registry (control/registry.ts) lists them; the pipeline
 * (control/pipeline.ts) runs every call the same way whatever the surface; the HTTP routes, the MCP tool list
 * and the OpenAPI document are generated from these fields.
 */
import type { z } from 'zod';
import type { ZiggieConfig } from '../config/schema';
import type { ControlContext } from './context';
import type { IamCall } from '../shared/iam-needs';

export type Surface = 'cli' | 'http' | 'mcp';

export interface CallInfo {
  agent: string;
  surface: Surface;
  /** Abort when the caller goes away or the capability's time is up. */
  signal: AbortSignal;
}

/** How the HTTP API exposes a capability: path parameters and the query/body become its params. */
export interface HttpBinding {
  method: 'GET' | 'POST';
  /** Fastify style: `/api/cloud/instances/:provider/:id/start`. */
  path: string;
  /** Params fixed by the route (e.g. `{ scope: 'aws' }` for /health/aws). */
  fixed?: Record<string, unknown>;
  summary?: string;
}

export interface Capability<P extends z.ZodType = z.ZodType, R = unknown> {
  /** `cloud:start-instance`: the MCP tool name and the config grant key. */
  name: string;
  description: string;
  /** The parameters (a strict object): validated before anything runs. */
  params: P;
  /** What a successful call returns (documents the HTTP response in OpenAPI). */
  result: z.ZodType<R>;
  /** Changes something: audited before and after, never cached. */
  mutates: boolean;
  /** A status read: answers from the short cache (TtlCache) when the same params were asked a moment ago. */
  cacheable?: boolean;
  /**
   * Every AWS call the handler makes (shared/iam-needs.ts format, sample ARNs from the config): the IAM simulation
   * replays each against the control plane's identity (control/iam.ts, iam/expectations.ts).
   */
  iam(config: ZiggieConfig): IamCall[];
  /** Param names whose values never reach the audit log. */
  secretParams?: string[];
  /** Longest a call may take (default 30 s). */
  timeoutMs?(ctx: ControlContext): number;
  http: HttpBinding[];
  /** The audit record's target (default: the capability name). */
  target?(params: z.output<P>): string;
  handler(ctx: ControlContext, params: z.output<P>, call: CallInfo): Promise<R>;
}

/** Identity function that keeps the param and result types connected. */
export function defineCapability<P extends z.ZodType, R>(c: Capability<P, R>): Capability<P, R> {
  return c;
}

export type AnyCapability = Capability<z.ZodType, unknown>;
