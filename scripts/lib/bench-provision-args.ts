// The command line of `npm run bench:provision` (scripts/bench-provision.mts), parsed on import: --help,
// --version and usage errors end the process here, before the script loads zx.
import { cliProgram, parseOrExit } from '../../shared/cli';

const positive = (name: string, v: string): string | undefined => (/^[1-9]\d*$/.test(v) ? undefined : `--${name}: expected a positive integer, got "${v}"`);

export const options = parseOrExit<{ reps: string; noops: string; vpsNoops: string; keepReports?: string; vps: boolean }>(
  cliProgram('bench:provision', 'Benchmark the provisioning library against ansible-playbook on fresh Debian test hosts (docs/provision.md)')
    .option('--reps <n>', 'fresh host pairs', '3')
    .option('--noops <n>', 'no-op runs per host pair (and per 10-host round)', '5')
    .option('--vps-noops <n>', 'timed VPS playbook no-op runs (after one untimed run while the first run\'s containers settle)', '7')
    .option('--keep-reports <dir>', 'keep inventories and reports in this directory')
    .option('--no-vps', 'skip the VPS playbook no-op (needs the Docker layer of the test host cache)'),
  process.argv,
  (o) => positive('reps', o.reps) ?? positive('noops', o.noops) ?? positive('vps-noops', o.vpsNoops),
);
