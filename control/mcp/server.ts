/**
 * The MCP surface: an agent's tools are exactly the capabilities it holds; a tool call goes through the same
 * pipeline as HTTP and the CLI (authorize, validate, audit, handler, audit). Params are validated by the
 * pipeline, not by the SDK, so a bad call is refused and audited in one place with one clear line.
 *
 * The SDK's low-level `Server` is used on purpose: `McpServer` would validate arguments with its own copy of the
 * schema before our pipeline saw the call, and such refusals would escape the audit log.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AnyCapability } from '../capability';
import { ControlError } from '../errors';
import type { ControlPlane } from '../plane';

/** MCP tool names allow letters, digits, `_ - .` (no `:`): `cloud:status` → `cloud_status`. */
export const toolName = (capability: string): string => capability.replace(/:/g, '_');

export function toolFor(c: AnyCapability): Tool {
  const inputSchema = z.toJSONSchema(c.params, { io: 'input', unrepresentable: 'any' }) as Tool['inputSchema'];
  delete (inputSchema as Record<string, unknown>).$schema;
  return {
    name: toolName(c.name),
    title: c.name,
    description: c.description,
    inputSchema: { ...inputSchema, type: 'object' },
    annotations: { readOnlyHint: !c.mutates, destructiveHint: c.mutates, idempotentHint: true, openWorldHint: true },
  };
}

/** An agent's tool list, built once per control plane (its config and registry do not change while it runs). */
const toolLists = new WeakMap<ControlPlane, Map<string, Tool[]>>();

export function toolsFor(plane: ControlPlane, agent: string): Tool[] {
  let byAgent = toolLists.get(plane);
  if (!byAgent) toolLists.set(plane, byAgent = new Map());
  let tools = byAgent.get(agent);
  if (!tools) byAgent.set(agent, tools = plane.registry.forAgent(plane.ctx.config, agent).map(toolFor));
  return tools;
}

export function mcpServerFor(plane: ControlPlane, agent: string, version = '1.0.0'): Server {
  const server = new Server({ name: 'ziggie-control-plane', version }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolsFor(plane, agent) }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const capability = plane.registry.capabilities.find((c) => toolName(c.name) === req.params.name)?.name ?? req.params.name;
    try {
      const r = await plane.pipeline.call({ agent, capability, params: req.params.arguments ?? {}, surface: 'mcp', signal: extra.signal });
      return { content: [{ type: 'text', text: JSON.stringify(r.result) }], structuredContent: r.result as Record<string, unknown> };
    } catch (err) {
      const e = err instanceof ControlError ? err : new ControlError('failed', String((err as Error)?.message ?? err));
      return { isError: true, content: [{ type: 'text', text: `${e.kind}: ${e.message}` }] };
    }
  });
  return server;
}
