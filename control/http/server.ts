/**
 * The control center's HTTP surface on Fastify: routes generated from the registry, per-agent bearer tokens,
 * per-agent rate limits, a request size limit, CORS off unless origins are configured, the OpenAPI document, and
 * the MCP streamable-HTTP endpoint (`/mcp`, stateless: one MCP server per request, for the token's agent).
 * No logic here: parse, authenticate, call the pipeline, render.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AuditResult } from '../../ops/audit/audit';
import { ControlError, type ControlErrorKind } from '../errors';
import { mcpServerFor } from '../mcp/server';
import type { ControlPlane } from '../plane';
import { openApiDocument, pathParams } from './openapi';
import { PAGE_ROUTES, registerPage } from '../../web/serve';

declare module 'fastify' {
  interface FastifyRequest {
    agent?: string;
  }
}

// The cloud page's files are public (no data in them); everything it shows comes from the token-checked API.
const PUBLIC = new Set<string>(['/livez', '/openapi.json', ...PAGE_ROUTES]);

const sendError = (reply: FastifyReply, status: number, kind: ControlErrorKind | string, message: string) =>
  reply.code(status).type('application/json').send({ error: { kind, message } });

/** The tool an MCP request calls (`tools/call`), when the body is already parsed. */
function mcpToolOf(req: FastifyRequest): string | undefined {
  const body = req.body as { method?: unknown; params?: { name?: unknown } } | undefined;
  return body?.method === 'tools/call' && typeof body.params?.name === 'string' ? body.params.name : undefined;
}

export interface HttpServerOptions {
  version?: string;
}

export async function buildHttpServer(plane: ControlPlane, opts: HttpServerOptions = {}): Promise<FastifyInstance> {
  const { settings, config } = plane.ctx;
  // forceCloseConnections: a shutdown does not wait for idle keep-alive clients (MCP clients keep theirs open).
  const app = Fastify({ logger: false, bodyLimit: settings.bodyLimitBytes, return503OnClosing: true, forceCloseConnections: true });
  // JSON only: a text/plain body is refused with 415 rather than half-understood.
  app.removeContentTypeParser('text/plain');
  const tokens = plane.tokens;
  if (!tokens) throw new Error('the config has no token store: set controlCenter.tokenStore');

  if (settings.corsOrigins.length) await app.register(cors, { origin: settings.corsOrigins, methods: ['GET', 'POST'], allowedHeaders: ['Authorization', 'Content-Type', 'Mcp-Session-Id', 'Mcp-Protocol-Version'] });

  // Which capability a route runs (filled as the routes are added below), for the refusals audited before it runs.
  const capabilityOf = new Map<string, string>();
  const routeOf = (req: FastifyRequest) => `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`;
  /** A call refused before the pipeline (no or bad token, rate limit): audited like the pipeline's own refusals. */
  const auditRefusal = (req: FastifyRequest, result: AuditResult, error: string) => {
    const route = routeOf(req);
    const capability = capabilityOf.get(route) ?? mcpToolOf(req);
    return plane.ctx.ops.audit.record({
      action: req.agent ? capability ?? route : 'http.authenticate', target: route, result, durationMs: 0, error,
      detail: { agent: req.agent ?? null, surface: route.endsWith(' /mcp') ? 'mcp' : 'http', ...(capability ? { capability } : {}), remote: req.ip },
    });
  };

  // Authenticate first (onRequest); the rate limit runs after it (preHandler), keyed by the agent.
  app.addHook('onRequest', async (req, reply) => {
    if (PUBLIC.has(req.routeOptions.url ?? '') || req.method === 'OPTIONS') return;
    const header = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    let agent: string | undefined;
    try {
      agent = token ? tokens.verify(token) : undefined;
    } catch (err) {
      await auditRefusal(req, 'error', `token store: ${(err as Error).message}`);
      return sendError(reply, 503, 'failed', (err as Error).message);
    }
    if (!agent || !config.agents[agent]) {
      await auditRefusal(req, 'refused', token ? 'unknown or revoked token' : 'no bearer token');
      return sendError(reply, 401, 'unauthenticated', token ? 'unknown or revoked token' : 'send Authorization: Bearer <agent token>');
    }
    req.agent = agent;
  });

  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    timeWindow: 60_000,
    keyGenerator: (req) => req.agent ?? req.ip,
    max: (_req, key) => config.agents[key]?.rateLimitPerMinute ?? 60,
    allowList: (req) => PUBLIC.has(req.routeOptions.url ?? ''),
    errorResponseBuilder: (req, ctx) => ({ statusCode: 429, error: { kind: 'rate-limited', message: `${req.agent ?? 'this client'} may make ${ctx.max} requests per minute; retry in ${Math.ceil(ctx.ttl / 1000)} s` } }),
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 429) {
      const error = (err as unknown as { error?: { kind: string; message: string } }).error ?? { kind: 'rate-limited', message: err.message };
      await auditRefusal(req, 'rate-limited', error.message);
      return reply.code(429).send({ error });
    }
    const kind = status === 413 ? 'too-large' : status === 415 ? 'unsupported-media-type' : status < 500 ? 'bad-params' : 'failed';
    const message = status === 413 ? `request body larger than ${settings.bodyLimitBytes} bytes (controlCenter.bodyLimitBytes)` : err.message.split('\n')[0]!;
    return sendError(reply, status, kind, message);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not-found', `no route ${req.method} ${req.url.split('?')[0]} (see /openapi.json)`));

  app.get('/livez', async () => ({ ok: true }));
  const doc = openApiDocument(plane.registry, { version: opts.version ?? '1.0.0' });
  app.get('/openapi.json', async () => doc);
  // Who the token belongs to and what it may do: the cloud page shows only the buttons the token can use.
  app.get('/api/me', async (req) => ({ agent: req.agent!, capabilities: plane.registry.forAgent(config, req.agent!).map((c) => c.name) }));
  registerPage(app);

  for (const cap of plane.registry.capabilities) {
    for (const b of cap.http) {
      const inPath = pathParams(b.path);
      capabilityOf.set(`${b.method} ${b.path}`, cap.name);
      app.route({
        method: b.method,
        url: b.path,
        handler: async (req: FastifyRequest, reply: FastifyReply) => {
          const source = b.method === 'GET' ? req.query : req.body;
          if (source !== undefined && source !== null && (typeof source !== 'object' || Array.isArray(source))) {
            return sendError(reply, 400, 'bad-params', 'the request body must be a JSON object');
          }
          const fromPath = Object.fromEntries(inPath.map((k) => [k, (req.params as Record<string, string>)[k]]));
          const params = { ...(source as object ?? {}), ...fromPath, ...(b.fixed ?? {}) };
          const abort = new AbortController();
          req.raw.once('close', () => { if (!reply.sent) abort.abort(); });
          try {
            const r = await plane.pipeline.call({ agent: req.agent!, capability: cap.name, params, surface: 'http', signal: abort.signal });
            return reply.code(200).header('x-ziggie-cached', String(r.cached)).send(r.result);
          } catch (err) {
            const e = err instanceof ControlError ? err : new ControlError('failed', String((err as Error)?.message ?? err));
            return sendError(reply, e.status, e.kind, e.message);
          }
        },
      });
    }
  }

  // MCP over streamable HTTP: the token's agent sees its own tools. Stateless (no session to hijack or leak).
  const mcp = async (req: FastifyRequest, reply: FastifyReply) => {
    const server = mcpServerFor(plane, req.agent!, opts.version);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, req.body);
  };
  app.post('/mcp', mcp);
  app.get('/mcp', mcp);
  app.delete('/mcp', mcp);
  return app;
}
