/**
 * `ziggie agent …`: run a capability as an agent (the same pipeline as HTTP and MCP), and manage agent tokens.
 *
 *   npm run ziggie -- agent exec --agent agent-marcus cloud:deploy --params '{"provider":"hostinger","app":"ziggie-api","version":"v1.0.0"}'
 *   npm run ziggie -- agent token issue|rotate|revoke --agent NAME
 *   npm run ziggie -- agent list
 */
import type { Command } from 'commander';
import type { ZiggieConfig } from '../config/schema';
import type { OpsContext } from '../ops/context';
import { ControlError } from './errors';
import type { ControlPlane } from './plane';

export interface AgentCliTools {
  out(line: string): void;
  err(line: string): void;
  /** Raise the process exit code. */
  fail(code: number): void;
  /** The loaded config and ops context of this invocation (loaded on first use). */
  context(cmd: Command): Promise<OpsContext>;
  configFile(cmd: Command): Promise<string | undefined>;
}

/** Usage-type refusals exit 2; a refused permission or a failed call exits 1. */
const exitFor = (e: ControlError): number => (['bad-params', 'unknown-capability', 'unknown-agent'].includes(e.kind) ? 2 : 1);

export function addAgentCommands(program: Command, t: AgentCliTools, planeFor?: (config: ZiggieConfig, ops: OpsContext) => ControlPlane): void {
  const plane = async (cmd: Command): Promise<ControlPlane> => {
    const ops = await t.context(cmd);
    if (planeFor) return planeFor(ops.config, ops);
    // Loaded on use: `ziggie gpu status` does not pay for the control plane's SDK clients.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { buildControlPlane } = require('./plane') as typeof import('./plane');
    return buildControlPlane(ops.config, { ops, configFile: await t.configFile(cmd) });
  };
  const agent = program.command('agent').description('the agent control plane: run a capability as an agent, manage agent tokens');

  agent.command('exec <capability>').description('run one capability as an agent through the control plane (JSON result)')
    .requiredOption('--agent <name>', 'the agent to act as (config agents:)')
    .option('--params <json>', 'the capability\'s parameters as a JSON object', '{}')
    .option('--dry-run', 'set the capability\'s dryRun parameter: show exactly what would change')
    .action(async (capability: string, o: { agent: string; params: string; dryRun?: boolean }, cmd: Command) => {
      let params: unknown;
      try {
        params = JSON.parse(o.params);
      } catch {
        t.err('ziggie: --params is not valid JSON (quote it: --params \'{"key":"value"}\')');
        t.fail(2);
        return;
      }
      if (!params || typeof params !== 'object' || Array.isArray(params)) {
        t.err('ziggie: --params must be a JSON object');
        t.fail(2);
        return;
      }
      if (o.dryRun) params = { ...params, dryRun: true };
      const p = await plane(cmd);
      try {
        const r = await p.pipeline.call({ agent: o.agent, capability, params, surface: 'cli' });
        t.out(JSON.stringify({ ok: true, agent: r.agent, capability: r.capability, durationMs: r.durationMs, result: r.result }, null, 2));
      } catch (err) {
        if (!(err instanceof ControlError)) throw err;
        t.out(JSON.stringify({ ok: false, agent: o.agent, capability, error: { kind: err.kind, message: err.message } }, null, 2));
        t.err(`ziggie: ${err.message}`);
        t.fail(exitFor(err));
      }
    });

  agent.command('list').description('agents, the capabilities each holds, and whether it has a token')
    .action(async (_: unknown, cmd: Command) => {
      const p = await plane(cmd);
      const tokens = new Map((p.tokens?.list() ?? []).map((x) => [x.agent, x]));
      const rows = Object.entries(p.ctx.config.agents).map(([name, a]) => ({
        agent: name, description: a.description, rateLimitPerMinute: a.rateLimitPerMinute,
        capabilities: a.capabilities, token: tokens.get(name) ? { hint: `${tokens.get(name)!.hint}…`, issuedAt: tokens.get(name)!.issuedAt } : null,
      }));
      t.out(JSON.stringify(rows, null, 2));
    });

  const token = agent.command('token').description('issue, rotate or revoke an agent\'s bearer token (stored hashed; shown once)');
  const tokenAction = (action: 'issue' | 'rotate' | 'revoke') => async (o: { agent: string }, cmd: Command) => {
    const p = await plane(cmd);
    if (!p.ctx.config.agents[o.agent]) {
      t.err(`ziggie: unknown agent "${o.agent}" (agents in the config: ${Object.keys(p.ctx.config.agents).join(', ') || 'none'})`);
      t.fail(2);
      return;
    }
    if (!p.tokens) {
      t.err('ziggie: the config has no controlCenter.tokenStore: set it first (docs/agents.md)');
      t.fail(2);
      return;
    }
    const store = p.tokens;
    try {
      const value = await p.ctx.ops.audit.run(`agent.token.${action}`, o.agent, async () => (action === 'revoke' ? store.revoke(o.agent) : store[action](o.agent)),
        (v) => ({ result: v === false ? 'no-change' : 'ok', detail: { agent: o.agent, store: store.file } }));
      if (action === 'revoke') {
        t.out(value ? `revoked ${o.agent}'s token: it stops working at the next request` : `${o.agent} had no token`);
        return;
      }
      t.err(`${action === 'issue' ? 'issued' : 'rotated'} a token for ${o.agent}; it is shown once, now — store it where the agent reads it${action === 'rotate' ? ' (the old one no longer works)' : ''}`);
      t.out(String(value));
    } catch (err) {
      // loaded here, not at the top: the token store brings zod, which `ziggie --help` does not need
      const { TokenStoreError } = await import('./tokens.js');
      if (!(err instanceof TokenStoreError)) throw err;
      t.err(`ziggie: ${err.message}`);
      t.fail(1);
    }
  };
  for (const action of ['issue', 'rotate', 'revoke'] as const) {
    token.command(action).description(`${action} the agent's token`).requiredOption('--agent <name>', 'the agent').action(tokenAction(action));
  }
}
