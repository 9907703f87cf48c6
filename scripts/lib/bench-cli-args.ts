// The command line of `npm run bench:cli` (scripts/bench-cli.mts), parsed on import: --help, --version and usage
// errors end the process here, before the script loads zx.
import { cliProgram, parseOrExit } from '../../shared/cli';

export interface BenchCliOptions { reps: number }

export const options = parseOrExit<{ reps: string }>(
  cliProgram('bench:cli', 'Time --help of every entry point and npm start against the floor (npm run of `node -e 0`)')
    .option('--reps <n>', 'rounds (each times the floor, every --help and npm start once)', '5'),
  process.argv,
  (o) => (/^[1-9]\d*$/.test(o.reps) ? undefined : `--reps: expected a positive integer, got "${o.reps}"`),
);
