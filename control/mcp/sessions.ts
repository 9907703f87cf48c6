/**
 * MCP streamable-HTTP sessions (the SDK's stateful mode): `initialize` opens a session — one MCP server and one
 * transport for the token's agent — and later requests carrying its `Mcp-Session-Id` reuse them, instead of
 * building both for every request. Every request is still authenticated by its bearer token first, and a session
 * answers only the agent that opened it, so a session id without that agent's token is worth nothing. Idle sessions
 * close after `idleMs`; an agent holds at most `maxPerAgent` (opening one more closes its least recently used).
 * Every tool call still goes through the pipeline (mcp/server.ts): registry, validation, audit.
 *
 * The SDK's web-standard transport (Request in, Response out) is used: Fastify has already parsed the body and can
 * send a Response, so the Node adapter's per-request conversion of the whole exchange is not needed.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

export interface McpSessionOptions {
  /** Close a session nobody used for this long (default 10 minutes). */
  idleMs?: number;
  /** Sessions one agent may hold open (default 32). */
  maxPerAgent?: number;
  /** The clock (tests move it instead of waiting). */
  now?: () => number;
}

interface Session {
  readonly id: string;
  readonly agent: string;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: Server;
  lastUsed: number;
}

export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly idleMs: number;
  private readonly maxPerAgent: number;
  private readonly sweeper: NodeJS.Timeout;

  private readonly now: () => number;

  constructor(private readonly serverFor: (agent: string) => Server, opts: McpSessionOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.idleMs = opts.idleMs ?? 600_000;
    this.maxPerAgent = opts.maxPerAgent ?? 32;
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(1000, Math.min(60_000, this.idleMs / 2)));
    this.sweeper.unref();
  }

  /** The agent's open session with this id, or undefined (unknown, closed, idle too long, or another agent's). */
  get(id: string, agent: string): WebStandardStreamableHTTPServerTransport | undefined {
    const s = this.sessions.get(id);
    if (!s || s.agent !== agent) return undefined;
    if (this.now() - s.lastUsed > this.idleMs) {
      void this.close(id);
      return undefined;
    }
    s.lastUsed = this.now();
    return s.transport;
  }

  /** A transport ready to take an `initialize` request; the session exists once the SDK has given it an id. */
  async open(agent: string): Promise<WebStandardStreamableHTTPServerTransport> {
    const server = this.serverFor(agent);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        this.sessions.set(id, { id, agent, transport, server, lastUsed: this.now() });
        this.enforceLimit(agent);
      },
      onsessionclosed: (id) => { void this.close(id); },
    });
    await server.connect(transport);
    return transport;
  }

  /** Open sessions per agent (for tests and the bench's report). */
  count(agent?: string): number {
    return [...this.sessions.values()].filter((s) => agent === undefined || s.agent === agent).length;
  }

  async close(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
  }

  private closeIdle(): void {
    const cutoff = this.now() - this.idleMs;
    for (const s of this.sessions.values()) if (s.lastUsed < cutoff) void this.close(s.id);
  }

  private enforceLimit(agent: string): void {
    const mine = [...this.sessions.values()].filter((s) => s.agent === agent).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const s of mine.slice(0, Math.max(0, mine.length - this.maxPerAgent))) void this.close(s.id);
  }
}
