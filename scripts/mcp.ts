// `npm run -s mcp -- --agent NAME`: MCP over stdio for one agent (token in ZIGGIE_AGENT_TOKEN). stdout is the protocol. See docs/agents.md.
import { Command, CommanderError } from 'commander';
import { startMcpStdio, StartRefused } from '../control/serve';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command('mcp')
  .description('Serve one agent\'s capabilities as MCP tools over stdio (the agent\'s token in ZIGGIE_AGENT_TOKEN)')
  .requiredOption('--agent <name>', 'the agent (config agents:)')
  .option('-c, --config <file>', 'config file (default: $ZIGGIE_CONFIG or config/ziggie.example.yaml)')
  // commander prints usage errors to stderr: stdout stays the protocol's
  .configureOutput({ writeOut: (s) => process.stderr.write(s), writeErr: (s) => process.stderr.write(s) })
  .exitOverride();

async function main(): Promise<number> {
  try {
    program.parse();
  } catch (e) {
    return e instanceof CommanderError && e.exitCode === 0 ? 0 : 2;
  }
  const o = program.opts<{ agent: string; config?: string }>();
  try {
    const { closed } = await startMcpStdio(o, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
    await closed;
    return 0;
  } catch (e) {
    if (!(e instanceof StartRefused)) throw e;
    process.stderr.write(`mcp: ${e.message.split('\n').join('\nmcp: ')}\n`);
    return 2;
  }
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`mcp: ${String((e as Error)?.message ?? e)}\n`);
  process.exitCode = 1;
});
