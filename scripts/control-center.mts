// `npm run control-center [-- --config file] [--port n]`: the agent HTTP API + MCP endpoint on 127.0.0.1. See docs/agents.md.
// Runs until SIGTERM/SIGINT; exit 2 when it refuses to start (one line per reason).
import { CommanderError } from 'commander';
import { cliProgram, exitWith, runProgram } from '../shared/cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let serving = false;
const program = cliProgram('control-center', 'Serve the agent control plane: HTTP API, OpenAPI document and MCP (streamable HTTP) on controlCenter.host:port')
  .option('-c, --config <file>', 'config file (default: $ZIGGIE_CONFIG or config/ziggie.example.yaml)')
  .option('--host <ip>', 'listen address (default: controlCenter.host)')
  .option('--port <n>', 'port (default: controlCenter.port; 0 = any free port)', (v) => {
    if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new CommanderError(2, 'usage', `--port must be 0-65535, not "${v}"`);
    return Number(v);
  })
  .action(async (o: { config?: string; host?: string; port?: number }) => {
    const { startControlCenter, StartRefused } = await import('../control/serve.js');
    try {
      const server = await startControlCenter(o, { stderr: process.stderr, env: process.env });
      const stop = () => { void server.close().then(() => process.exit(0)); };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      serving = true;
    } catch (e) {
      if (!(e instanceof StartRefused)) throw e;
      process.stderr.write(`control-center: ${e.message.split('\n').join('\ncontrol-center: ')}\n`);
      process.exitCode = 2;
    }
  });

let code: number;
try {
  code = await runProgram(program, process.argv);
} catch (e) {
  process.stderr.write(`control-center: ${String((e as Error)?.message ?? e)}\n`);
  code = 1;
}
if (!serving) await exitWith(code);
