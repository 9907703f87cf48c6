// `npm run -s mcp -- --agent NAME`: MCP over stdio for one agent (token in ZIGGIE_AGENT_TOKEN). stdout is the protocol
// (help and usage errors go to stderr). See docs/agents.md.
import { cliProgram, exitWith, runProgram } from '../shared/cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = cliProgram('mcp', 'Serve one agent\'s capabilities as MCP tools over stdio (the agent\'s token in ZIGGIE_AGENT_TOKEN)',
  { out: (s) => process.stderr.write(s) })
  .requiredOption('--agent <name>', 'the agent (config agents:)')
  .option('-c, --config <file>', 'config file (default: $ZIGGIE_CONFIG or config/ziggie.example.yaml)')
  .action(async (o: { agent: string; config?: string }) => {
    const { startMcpStdio, StartRefused } = await import('../control/serve.js');
    try {
      const { closed } = await startMcpStdio(o, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
      await closed;
    } catch (e) {
      if (!(e instanceof StartRefused)) throw e;
      process.stderr.write(`mcp: ${e.message.split('\n').join('\nmcp: ')}\n`);
      process.exitCode = 2;
    }
  });

let code: number;
try {
  code = await runProgram(program, process.argv);
} catch (e) {
  process.stderr.write(`mcp: ${String((e as Error)?.message ?? e)}\n`);
  code = 1;
}
await exitWith(code);
