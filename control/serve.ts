/**
 * The two long-running entry points, as functions the thin scripts call:
 *   control-center: the HTTP API and the MCP streamable-HTTP endpoint on controlCenter.host:port;
 *   mcp:            MCP over stdio for one agent (its token in ZIGGIE_AGENT_TOKEN, never in argv).
 * Both refuse to start with one line (exit 2) when the config has no agents or no token store.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ConfigError, configPath, loadConfig } from '../config/load';
import { buildHttpServer } from './http/server';
import { mcpServerFor } from './mcp/server';
import { buildControlPlane, serverRefusal, type ControlPlane } from './plane';

export interface StartIo {
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export class StartRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartRefused';
  }
}

function plane(file: string | undefined, io: StartIo): ControlPlane {
  const configFile = file ?? configPath(io.env);
  let p: ControlPlane;
  try {
    p = buildControlPlane(loadConfig(configFile), { configFile, env: io.env });
  } catch (err) {
    if (err instanceof ConfigError) throw new StartRefused(err.message);
    throw err;
  }
  const refusal = serverRefusal(p);
  if (refusal) throw new StartRefused(refusal);
  return p;
}

export async function startControlCenter(opts: { config?: string; host?: string; port?: number }, io: StartIo): Promise<{ url: string; close(): Promise<void> }> {
  const p = plane(opts.config, io);
  const app = await buildHttpServer(p);
  const host = opts.host ?? p.ctx.settings.host;
  const port = opts.port ?? p.ctx.settings.port;
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    throw new StartRefused(`cannot listen on ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const address = app.server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
  io.stderr.write(`control center on ${url} — API /api/…, OpenAPI /openapi.json, MCP ${url}/mcp; agents: ${Object.keys(p.ctx.config.agents).join(', ')}\n`);
  return { url, close: () => app.close() };
}

export async function startMcpStdio(opts: { config?: string; agent: string }, io: StartIo & { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream }): Promise<{ closed: Promise<void> }> {
  const p = plane(opts.config, io);
  if (!p.ctx.config.agents[opts.agent]) {
    throw new StartRefused(`unknown agent "${opts.agent}" (agents in the config: ${Object.keys(p.ctx.config.agents).join(', ')})`);
  }
  const token = io.env.ZIGGIE_AGENT_TOKEN?.trim();
  if (!token) throw new StartRefused(`set ZIGGIE_AGENT_TOKEN to ${opts.agent}'s token (npm run ziggie -- agent token issue --agent ${opts.agent})`);
  if (!p.tokens!.verifyFor(opts.agent, token)) {
    await p.ctx.ops.audit.record({ action: 'mcp.authenticate', target: 'stdio', result: 'refused', durationMs: 0, detail: { agent: opts.agent, surface: 'mcp' }, error: 'token does not belong to this agent' });
    throw new StartRefused(`ZIGGIE_AGENT_TOKEN is not ${opts.agent}'s token (revoked or rotated?)`);
  }
  const server = mcpServerFor(p, opts.agent);
  const transport = new StdioServerTransport(io.stdin as never, io.stdout as never);
  const closed = new Promise<void>((resolve) => { server.onclose = () => resolve(); });
  await server.connect(transport);
  // the client hanging up (EOF) ends the server
  io.stdin.once('end', () => { void server.close(); });
  io.stderr.write(`MCP over stdio for ${opts.agent}: ${p.registry.forAgent(p.ctx.config, opts.agent).map((c) => c.name).join(', ')}\n`);
  return { closed };
}
