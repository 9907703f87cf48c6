// `npm run bench:cli`: how long each entry point takes to answer `--help`, and `npm start`, as a user runs them
// (`npm run <script> -- --help`), next to the floor measured in the same run: `npm run` of a script that is only
// `node -e 0` (npm's own start-up plus node's). Interleaved, medians. Ends with
//   RESULT cli_help_over_floor=<worst entry point> start_over_floor=<x>
// where start_over_floor = npm start's wall time / (the synth time it reports + the floor).
// Also checks that --help did nothing: exit 0, usage on stdout, no file of the repository changed.
import { options } from './lib/bench-cli-args.js'; // first: --help, --version and usage errors end here
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exitWith } from '../shared/cli.js';
import { REPO_ROOT } from './lib/paths.js';

// zx after the command line is parsed: --help does not pay for loading it
const { $, spinner } = await import('zx');

const reps = Number(options.reps);
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
/** Every package.json script that starts an entry point through the launcher (synth is the CDKTF app: no options). */
const ENTRY_POINTS = Object.keys(pkg.scripts).filter((name) => /^node bin\/run\.mjs \S+$/.test(pkg.scripts[name]!) && name !== 'synth');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number): string => `${Math.round(x)} ms`;
/** zx's spinner while `work` runs, on a terminal (a log gets no spinner frames). */
const during = <T,>(title: string, work: () => Promise<T>): Promise<T> =>
  process.stderr.isTTY ? spinner(title, work) as Promise<unknown> as Promise<T> : work();

async function timed(cwd: string, args: string[]): Promise<{ ms: number; stdout: string; code: number | null }> {
  const t0 = performance.now();
  const r = await $({ cwd, quiet: true, nothrow: true })`npm ${args}`;
  return { ms: performance.now() - t0, stdout: r.stdout + r.stderr, code: r.exitCode };
}

/** The repository's state as git sees it, to prove that --help changed nothing. */
const repoState = async (): Promise<string> => (await $({ cwd: REPO_ROOT, quiet: true })`git status --porcelain --untracked-files=all`).stdout;

// the floor: the same package.json, its scripts replaced by one that starts node and does nothing
const floorDir = mkdtempSync(path.join(os.tmpdir(), 'bench-cli-floor-'));
writeFileSync(path.join(floorDir, 'package.json'), JSON.stringify({ ...pkg, scripts: { floor: 'node -e 0' } }, null, 2));
const before = await repoState();
// build first, outside the timings (a user's first start after `npm ci` finds it built by `prepare`)
await $({ cwd: REPO_ROOT, quiet: true })`node bin/build.mjs`;
const t = { floor: [] as number[], start: [] as number[], synth: [] as number[] };
const help: Record<string, number[]> = {};
try {
  for (let rep = 1; rep <= reps; rep++) {
    await during(`round ${rep}/${reps}`, async () => {
      t.floor.push((await timed(floorDir, ['run', '-s', 'floor'])).ms);
      for (const name of ENTRY_POINTS) {
        const r = await timed(REPO_ROOT, ['run', '-s', name, '--', '--help']);
        if (r.code !== 0 || !/^Usage: /m.test(r.stdout)) throw new Error(`npm run ${name} -- --help: exit ${r.code}, no usage printed`);
        (help[name] ??= []).push(r.ms);
      }
      const s = await timed(REPO_ROOT, ['start', '-s']);
      const synth = /\(synth (\d+) ms\)/.exec(s.stdout);
      if (s.code !== 0 || !synth) throw new Error(`npm start: exit ${s.code}, no synth time in its output`);
      t.start.push(s.ms);
      t.synth.push(Number(synth[1]));
    });
  }
} catch (e) {
  console.error(`bench:cli: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  rmSync(floorDir, { recursive: true, force: true });
}
if (process.exitCode) await exitWith(1);
const after = await repoState();
if (after !== before) {
  console.error(`bench:cli: --help changed the repository:\n${after}`);
  await exitWith(1);
}

const floor = median(t.floor);
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`\n${reps} rounds, medians; load avg ${load}; floor = npm run of \`node -e 0\`: ${ms(floor)}`);
console.log('| command | wall | over floor |');
console.log('|---|---|---|');
let worst = { name: '', ratio: 0 };
for (const name of ENTRY_POINTS) {
  const ratio = median(help[name]!) / floor;
  if (ratio > worst.ratio) worst = { name, ratio };
  console.log(`| npm run ${name} -- --help | ${ms(median(help[name]!))} | ${ratio.toFixed(2)}x |`);
}
const start = median(t.start);
const synth = median(t.synth);
const startRatio = start / (synth + floor);
console.log(`| npm start (reports synth ${ms(synth)}) | ${ms(start)} | ${startRatio.toFixed(2)}x of synth + floor |`);
console.log(`\nworst --help: ${worst.name}`);
console.log(`RESULT cli_help_over_floor=${worst.ratio.toFixed(2)} start_over_floor=${startRatio.toFixed(2)}`);
await exitWith(0);
