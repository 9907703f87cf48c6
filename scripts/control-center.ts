// `npm run control-center [-- --config file] [--port n]`: the agent HTTP API + MCP endpoint on 127.0.0.1. See docs/agents.md.
import { Command, CommanderError } from 'commander';
import { startControlCenter, StartRefused } from '../control/serve';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command('control-center')
  .description('Serve the agent control plane: HTTP API, OpenAPI document and MCP (streamable HTTP) on controlCenter.host:port')
  .option('-c, --config <file>', 'config file (default: $ZIGGIE_CONFIG or config/ziggie.example.yaml)')
  .option('--host <ip>', 'listen address (default: controlCenter.host)')
  .option('--port <n>', 'port (default: controlCenter.port; 0 = any free port)', (v) => {
    if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new CommanderError(2, 'usage', `--port must be 0-65535, not "${v}"`);
    return Number(v);
  })
  .exitOverride();

async function main(): Promise<number> {
  try {
    program.parse();
  } catch (e) {
    return e instanceof CommanderError && e.exitCode === 0 ? 0 : 2;
  }
  const o = program.opts<{ config?: string; host?: string; port?: number }>();
  try {
    const server = await startControlCenter(o, { stderr: process.stderr, env: process.env });
    const stop = () => { void server.close().then(() => process.exit(0)); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return -1;
  } catch (e) {
    if (!(e instanceof StartRefused)) throw e;
    process.stderr.write(`control-center: ${e.message.split('\n').join('\ncontrol-center: ')}\n`);
    return 2;
  }
}

main().then((code) => { if (code >= 0) process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`control-center: ${String((e as Error)?.message ?? e)}\n`);
  process.exitCode = 1;
});
