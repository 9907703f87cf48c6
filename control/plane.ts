/**
 * The control plane assembled from a config: context, registry, pipeline and token store. Every entry point
 * (agent exec, control-center, mcp) builds it here, so they all refuse the same bad configs the same way.
 */
import path from 'node:path';
import { ConfigError } from '../config/load';
import type { ZiggieConfig } from '../config/schema';
import { controlContext, type ControlContext, type ControlContextOptions } from './context';
import { Pipeline } from './pipeline';
import { Registry } from './registry';
import { resolveStorePath, TokenStore } from './tokens';

export interface ControlPlane {
  ctx: ControlContext;
  registry: Registry;
  pipeline: Pipeline;
  /** Undefined when the config names no token store. */
  tokens?: TokenStore;
}

export function buildControlPlane(config: ZiggieConfig, opts: ControlContextOptions & { configFile?: string; registry?: Registry } = {}): ControlPlane {
  const registry = opts.registry ?? new Registry();
  const problems = registry.checkGrants(config);
  if (problems.length) throw new ConfigError(opts.configFile ?? '<config>', problems);
  const ctx = controlContext(config, opts);
  const store = config.controlCenter?.tokenStore;
  const tokens = store ? new TokenStore(resolveStorePath(store, path.dirname(opts.configFile ?? path.join(process.cwd(), 'x')))) : undefined;
  return { ctx, registry, pipeline: new Pipeline(ctx, registry), tokens };
}

/** Why a server cannot start on this config (one line), or undefined. */
export function serverRefusal(plane: ControlPlane): string | undefined {
  if (Object.keys(plane.ctx.config.agents).length === 0) return 'the config has no agents: add an `agents:` section (docs/agents.md)';
  if (!plane.tokens) return 'the config has no token store: set controlCenter.tokenStore (docs/agents.md)';
  try {
    plane.tokens.refresh();
  } catch (err) {
    return (err as Error).message;
  }
  if (!plane.tokens.exists()) return `no token store at ${plane.tokens.file}: issue a token first (npm run ziggie -- agent token issue --agent NAME)`;
  return undefined;
}
