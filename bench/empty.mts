// The empty playbook's command line (bench/empty-playbook.ts): connect and disconnect.
import { run } from './empty-playbook.js';
import { exitWith } from '../shared/cli.js';

await exitWith(await run(process.argv));
