// The benchmark playbook's command line (bench/bench-playbook.ts):
//   sh bin/start.sh bench/playbook.mts -i inventory.yml [--check] [--diff] ...   (as package.json scripts start entry points)
import { run } from './bench-playbook.js';
import { exitWith } from '../shared/cli.js';

await exitWith(await run(process.argv));
