// `npm run ziggie -- <command>`: day-2 operations (gpu, secrets, cost, health, audit, vps, dns) and the agent
// control plane (`agent …`). See docs/ops.md.
import { addAgentCommands } from '../control/cli.js';
import { runCli } from '../ops/cli/program.js';
import { exitWith } from '../shared/cli.js';

// The SDK's "Node 22 from 2027" notice is for us to act on (engines), not for every operator at every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

await exitWith(await runCli(process.argv.slice(2), { extend: (program, tools) => addAgentCommands(program, tools) }));
