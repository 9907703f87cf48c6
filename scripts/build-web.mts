// `npm run build:web` (also at install, after bin/build.mjs in `prepare`): bundle the cloud page into web/dist/.
import { cliProgram, exitWith, runProgram } from '../shared/cli.js';

const program = cliProgram('build:web', 'Bundle the cloud page (web/app) with esbuild into web/dist/: no CDN at run time')
  .action(async () => {
    const { buildWeb, WEB_DIST } = await import('../web/build.js');
    const files = await buildWeb();
    console.log(`cloud page: ${files.join(', ')} → ${WEB_DIST}`);
  });

let code: number;
try {
  code = await runProgram(program, process.argv);
} catch (e) {
  process.stderr.write(`build:web: ${String((e as Error)?.message ?? e).split('\n')[0]}\n`);
  code = 1;
}
await exitWith(code);
