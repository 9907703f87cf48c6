// `npm run provision:vps -- --inventory FILE [--check] [--diff] [--snapshot-first] [--yes] ...`: converge the
// Hostinger VPS (scripts/lib/provision-vps.ts, docs/vps.md). A run that can change the hosts asks first unless
// --yes; the snapshot wait shows a spinner. The provisioning library does the remote work over SSH.
import { options } from './lib/provision-vps-args.js'; // first: --help, --version and usage errors end here
import { question, spinner } from 'zx';
import { exitWith } from '../shared/cli.js';
import { runProvisionVps } from './lib/provision-vps.js';

const code = await runProvisionVps(options, {
  confirm: process.stdin.isTTY ? async (q) => /^y(es)?$/i.test((await question(q)).trim()) : undefined,
  during: <T,>(title: string, work: () => Promise<T>) => (process.stderr.isTTY ? spinner(title, work) as Promise<unknown> as Promise<T> : work()),
});
await exitWith(code);
