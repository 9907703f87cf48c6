// `npm run ziggie -- <command>`: day-2 operations (gpu, secrets, cost, health, audit, vps, dns). See docs/ops.md.
import { addAgentCommands } from '../control/cli';
import { runCli } from '../ops/cli/program';

// The SDK's "Node 22 from 2027" notice is for us to act on (engines), not for every operator at every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runCli(process.argv.slice(2), { extend: (program, tools) => addAgentCommands(program, tools) }).then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  process.stderr.write(`ziggie: ${String((err as Error)?.message ?? err)}\n`);
  process.exitCode = 1;
});
