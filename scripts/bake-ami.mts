// `npm run bake-ami`: bake the ComfyUI AMI and publish its id (ami/cli.ts, docs/bake-ami.md).
// Exit codes: 0 baked and published (or swept); 1 failed (everything it created was removed); 2 bad input;
// 3 baked and published but cleanup left something (run --sweep); 130 interrupted (cleaned up).
import { runBakeCli } from '../ami/cli.js';
import { exitWith } from '../shared/cli.js';

let code: number;
try {
  code = await runBakeCli(process.argv.slice(2), {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  });
} catch (e) {
  process.stderr.write(`bake-ami: ${(e as Error)?.stack ?? String(e)}\n`);
  code = 1;
}
// ssh2 sockets or SDK keep-alive agents must not hold the process open after the answer is known
await exitWith(code);
