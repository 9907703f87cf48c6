/**
 * The control center's HTTP surface on Fastify: routes generated from the registry, per-agent bearer tokens,
 * per-agent rate limits, a request size limit, CORS off unless origins are configured, the OpenAPI document, and
 * the MCP streamable-HTTP endpoint (`/mcp`: a session per `initialize`, bound to the token's agent; mcp/sessions.ts).
 * No logic here: parse, authenticate, call the pipeline, render.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AuditResult } from '../../ops/audit/audit';
import { ControlError, type ControlErrorKind } from '../errors';
import { mcpServerFor, toolName } from '../mcp/server';
import { McpSessions, type McpSessionOptions } from '../mcp/sessions';
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


/** The request as the MCP SDK's web-standard transport takes it (the body is passed already parsed). */
function webRequest(req: FastifyRequest): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
    else if (v !== undefined) headers.set(k, v);
  }
  return new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url}`, { method: req.method, headers });
}

export interface HttpServerOptions {
  version?: string;
  /** MCP session idle timeout and per-agent limit (defaults in mcp/sessions.ts). */
  mcpSessions?: McpSessionOptions;
}

export async function buildHttpServer(plane: ControlPlane, opts: HttpServerOptions = {}): Promise<FastifyInstance> {
  const { settings, config } = plane.ctx;
  // forceCloseConnections: a shutdown does not wait for idle keep-alive clients (MCP clients keep theirs open).
  const app = Fastify({ logger: false, bodyLimit: settings.bodyLimitBytes, return503OnClosing: true, forceCloseConnections: true });
  // JSON only: a text/plain body is refused with 415 rather than half-understood.
  app.removeContentTypeParser('text/plain');
  const tokens = plane.tokens;
  if (!tokens) throw new Error('the config has no token store: set controlCenter.tokenStore');

  if (settings.corsOrigins.length) await app.register(cors, { origin: settings.corsOrigins, methods: ['GET', 'POST'], allowedHeaders: ['Authorization', 'Content-Type', 'Mcp-Session-Id', 'Mcp-Protocol-Version'], exposedHeaders: ['Mcp-Session-Id'] });

  // Which capability a route runs (filled as the routes are added below), for the refusals audited before it runs.
  const capabilityOf = new Map<string, string>();
  /** The capability an MCP request calls (`tools/call`), when the body is already parsed. */
  const mcpCapabilityOf = (req: FastifyRequest): string | undefined => {
    const body = req.body as { method?: unknown; params?: { name?: unknown } } | undefined;
    if (body?.method !== 'tools/call' || typeof body.params?.name !== 'string') return undefined;
    const tool = body.params.name;
    return plane.registry.capabilities.find((c) => toolName(c.name) === tool)?.name ?? tool;
  };
  const routeOf = (req: FastifyRequest) => `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`;
  /** A call refused before the pipeline (no or bad token, rate limit): audited like the pipeline's own refusals. */
  const auditRefusal = (req: FastifyRequest, result: AuditResult, error: string) => {
    const route = routeOf(req);
    const capability = capabilityOf.get(route) ?? mcpCapabilityOf(req);
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

  // MCP over streamable HTTP: the token's agent sees its own tools. `initialize` opens a session (mcp/sessions.ts)
  // that only the same agent's token can use; a request with no session id is served statelessly, as before.
  const sessions = new McpSessions((agent) => mcpServerFor(plane, agent, opts.version), opts.mcpSessions);
  app.addHook('onClose', async () => sessions.closeAll());
  const mcp = async (req: FastifyRequest, reply: FastifyReply) => {
    const id = req.headers['mcp-session-id'];
    let transport: WebStandardStreamableHTTPServerTransport;
    if (typeof id === 'string') {
      const open = sessions.get(id, req.agent!);
      if (!open) {
        await auditRefusal(req, 'refused', 'unknown, expired or another agent\'s MCP session');
        return reply.code(404).send({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'MCP session not found (expired, closed, or not this agent\'s): initialize a new one' } });
      }
      transport = open;
    } else if (req.method === 'POST' && isInitializeRequest(req.body)) {
      transport = await sessions.open(req.agent!);
    } else {
      const server = mcpServerFor(plane, req.agent!, opts.version);
      const once = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      reply.raw.on('close', () => {
        void once.close();
        void server.close();
      });
      await server.connect(once);
      transport = once;
    }
    return reply.send(await transport.handleRequest(webRequest(req), { parsedBody: req.body }));
  };
  app.post('/mcp', mcp);
  app.get('/mcp', mcp);
  app.delete('/mcp', mcp);
  return app;
}
