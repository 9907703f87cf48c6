// `npm run provision:vps -- --inventory FILE [--check] [--diff] [--snapshot-first] [--yes] ...`: converge the
// Hostinger VPS (scripts/lib/provision-vps.ts, docs/vps.md). A run that can change the hosts asks first unless
// --yes; the snapshot wait shows a spinner. The provisioning library does the remote work over SSH.
import { exitWith } from '../shared/cli.js';
import { run } from './lib/provision-vps-main.js';

await exitWith(await run(process.argv));
