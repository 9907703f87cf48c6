// `npm run bench:provision`: the same 10-task playbook (bench/playbook.mts and bench/ansible/playbook.yml) run by
// ansible-playbook and by this library against fresh Debian test hosts: first run, no-op re-run (several times
// each, interleaved), the no-op run on 10 hosts at once next to OpenSSH's own 1-vs-10 ratio on the same hosts, and
// the VPS playbook's no-op (what `npm run provision:vps` runs) on a Docker test host. Ends with
//   RESULT noop_speedup=<x> first_speedup=<y> parallel10_over_single=<z> ssh_parallel10_over_single=<s> vps_noop_s=<v>
// Wall times are of the CLI process as a user starts it: `sh bin/start.sh bench/playbook.mts` (the launcher
// `npm run provision:vps` uses: the entry point's startup snapshot, bin/snapshot.mjs, or compiled JavaScript when
// there is none; either is rebuilt when a source changed) and `ansible-playbook` (pipelining + ControlPersist).
import { options } from './lib/bench-provision-args.js'; // first: --help, --version and usage errors end here
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exitWith } from '../shared/cli.js';
import { REPO_ROOT } from './lib/paths.js';

// zx after the command line is parsed: --help does not pay for loading it
const { $, spinner } = await import('zx');

const harness = () => import('../testhost/index.js');
type TestHost = Awaited<ReturnType<Awaited<ReturnType<typeof harness>>['bootHost']>>;

const LAUNCHER = path.join(REPO_ROOT, 'bin', 'start.sh');
const PLAYBOOK = path.join(REPO_ROOT, 'bench', 'playbook.mts');
const ANSIBLE_DIR = path.join(REPO_ROOT, 'bench', 'ansible');

interface Timed { ms: number; code: number | null; out: string }

const IDLE_PERCENT = 5;
const IDLE_WINDOW_MS = 2000;

/**
 * Waits (at most two minutes) until the test host's own CPU use (its cgroup) stayed under IDLE_PERCENT of one core
 * for a window: after a first run its services are still starting. Returns the ms waited.
 */
async function untilIdle(name: string): Promise<number> {
  const { hostCpuMs } = await harness();
  const t0 = Date.now();
  while (Date.now() - t0 < 120_000) {
    const a = hostCpuMs(name);
    await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
    const b = hostCpuMs(name);
    if (a === undefined || b === undefined) throw new Error(`no CPU accounting for test host ${name} (its cgroup)`);
    if (((b - a) / IDLE_WINDOW_MS) * 100 < IDLE_PERCENT) break;
  }
  return Date.now() - t0;
}

/** zx's spinner while `work` runs, on a terminal (a log gets no spinner frames). */
const during = <T,>(title: string, work: () => Promise<T>): Promise<T> =>
  process.stderr.isTTY ? spinner(title, work) as Promise<unknown> as Promise<T> : work();

/**
 * Runs `cmd` (no shell in between) and times it from spawn to exit: the wall time of the command as a user starts
 * it. Output is kept for the checks; a background child that keeps a pipe open (ssh's ControlPersist master) is not
 * waited for.
 */
function timed(cmd: string[], env?: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const out: Buffer[] = [];
    const p = spawn(cmd[0]!, cmd.slice(1), { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => out.push(c));
    p.on('error', (e) => resolve({ ms: performance.now() - t0, code: 127, out: e.message }));
    p.on('exit', (code) => {
      const ms = performance.now() - t0;
      let ended = 0;
      const done = (): void => resolve({ ms, code, out: Buffer.concat(out).toString() });
      const grace = setTimeout(done, 200);
      for (const s of [p.stdout, p.stderr]) s.on('end', () => ++ended === 2 && (clearTimeout(grace), done()));
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

async function libInventory(dir: string, hosts: TestHost[]): Promise<string> {
  const file = path.join(dir, `lib-${hosts.length}-${hosts[0]!.port}.yml`);
  writeFileSync(file, (await harness()).inventoryYaml(hosts));
  return file;
}

/** The same helper's inventory, for Ansible: its ssh checks a known_hosts file holding these hosts' keys. */
async function ansibleInventory(dir: string, hosts: TestHost[]): Promise<string> {
  const { inventoryYaml, writeKnownHosts } = await harness();
  const kh = writeKnownHosts(path.join(dir, `known_hosts-${hosts[0]!.port}`), hosts);
  const file = path.join(dir, `ansible-${hosts[0]!.port}.yml`);
  writeFileSync(file, inventoryYaml(hosts, { knownHostsFile: kh, ansible: true }));
  return file;
}

function check(what: string, r: Timed, changed: 'zero' | 'some'): void {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.out.slice(-3000)}`);
  const counts = [...r.out.matchAll(/changed=(\d+)/g)].map((m) => Number(m[1]));
  if (!counts.length) throw new Error(`${what}: no recap in output:\n${r.out.slice(-2000)}`);
  if (changed === 'zero' && counts.some((c) => c !== 0)) throw new Error(`${what}: expected changed=0 everywhere:\n${r.out.slice(-3000)}`);
  if (changed === 'some' && counts.some((c) => c === 0)) throw new Error(`${what}: expected changes on a fresh host:\n${r.out.slice(-3000)}`);
}

async function bench(o: typeof options, reps: number, noops: number): Promise<number> {
  const { bootHost, cacheReady, ensureCache, stopOwnHosts, testhostUnavailableReason, vpsTestbed } = await harness();
  const why = testhostUnavailableReason();
  if (why) {
    console.error(`bench:provision: test hosts cannot run here: ${why}`);
    return 1;
  }
  if ((await $({ quiet: true, nothrow: true })`ansible-playbook --version`).exitCode !== 0) {
    console.error('bench:provision: ansible-playbook not found: apt-get install -y --no-install-recommends ansible-core');
    return 1;
  }
  if (!cacheReady()) await during('building the test host cache (once)', () => ensureCache({ docker: o.vps }));
  const dir = o.keepReports ? path.resolve(o.keepReports) : mkdtempSync(path.join(tmpdir(), 'bench-provision-'));
  mkdirSync(dir, { recursive: true });
  const ansibleEnv = {
    ...process.env,
    ANSIBLE_CONFIG: path.join(ANSIBLE_DIR, 'ansible.cfg'),
    ANSIBLE_LOCAL_TEMP: path.join(dir, 'ansible-tmp'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(dir, 'cp'),
    ANSIBLE_NOCOLOR: '1',
  };
  const lib = (inv: string): Promise<Timed> => timed(['sh', LAUNCHER, PLAYBOOK, '-i', inv]);
  const ansible = (inv: string): Promise<Timed> => timed(['ansible-playbook', '-i', inv, path.join(ANSIBLE_DIR, 'playbook.yml')], ansibleEnv);
  const boot = (n: number): Promise<TestHost[]> =>
    during(`booting ${n} test host(s)`, () => Promise.all(Array.from({ length: n }, () => bootHost({ withDocker: false, waitForSystem: true }))));

  // compile outside the timings (a user's first start after `npm ci` finds it built by `prepare`)
  const warm = await timed(['sh', LAUNCHER, PLAYBOOK, '--help']);
  if (warm.code !== 0) throw new Error(`building the playbook failed:\n${warm.out}`);

  const t: Record<string, number[]> = { ansFirst: [], ansNoop: [], libFirst: [], libNoop: [], single: [], par10: [], ssh1: [], ssh10: [], vps: [], vpsSsh: [] };
  try {
    for (let rep = 1; rep <= reps; rep++) {
      const [ha, hl] = await boot(2);
      const invA = await ansibleInventory(dir, [ha!]);
      const invL = await libInventory(dir, [hl!]);
      const a1 = await ansible(invA);
      check('ansible first run', a1, 'some');
      const l1 = await lib(invL);
      check('library first run', l1, 'some');
      t.ansFirst!.push(a1.ms);
      t.libFirst!.push(l1.ms);
      for (let i = 0; i < noops; i++) {
        const a = await ansible(invA);
        check('ansible no-op run', a, 'zero');
        const l = await lib(invL);
        check('library no-op run', l, 'zero');
        t.ansNoop!.push(a.ms);
        t.libNoop!.push(l.ms);
      }
      process.stderr.write(`rep ${rep}/${reps}: ansible first ${fmt(a1.ms)} no-op ${fmt(median(t.ansNoop!.slice(-noops)))} | library first ${fmt(l1.ms)} no-op ${fmt(median(t.libNoop!.slice(-noops)))}\n`);
      await Promise.all([ha!.stop(), hl!.stop()]);
    }

    const hosts = await boot(10);
    const inv10 = await libInventory(dir, hosts);
    const inv1 = await libInventory(dir, [hosts[0]!]);
    check('library first run on 10 hosts', await lib(inv10), 'some');
    // OpenSSH's own client running `true` on 1 host vs on all 10 at once, same hosts, interleaved with the library
    const kh = (await harness()).writeKnownHosts(path.join(dir, 'known_hosts-all'), hosts);
    const sshAll = (n: number): string[] => ['sh', '-c', hosts.slice(0, n)
      .map((h) => `ssh -i ${h.privateKeyPath} -p ${h.port} -o UserKnownHostsFile=${kh} -o BatchMode=yes -o ControlMaster=no root@127.0.0.1 true &`)
      .join('\n') + '\nwait'];
    for (let i = 0; i < noops; i++) {
      const s = await lib(inv1);
      check('library no-op (1 host)', s, 'zero');
      const p = await lib(inv10);
      check('library no-op (10 hosts)', p, 'zero');
      t.single!.push(s.ms);
      t.par10!.push(p.ms);
      t.ssh1!.push((await timed(sshAll(1))).ms);
      t.ssh10!.push((await timed(sshAll(10))).ms);
    }
    await Promise.all(hosts.map((h) => h.stop()));

    if (o.vps) {
      // the VPS playbook (eight services as busybox stand-ins, secrets from a local Secrets Manager stand-in)
      const bed = await during('booting the VPS test bed (Docker host)', () => vpsTestbed({ dir }));
      try {
        const vps = (): Promise<Timed> => timed(['sh', LAUNCHER, path.join(REPO_ROOT, 'scripts/provision-vps.mts'), '-i', bed.inventory, '--yes'], bed.env);
        check('provision:vps first run', await during('provision:vps first run', vps), 'some');
        // untimed: the containers the first run started are still starting (the control center parses its bundle);
        // then the machine settles, as a VPS between deploys does
        check('provision:vps no-op run (settling)', await vps(), 'zero');
        const waited = await untilIdle(bed.host.name);
        process.stderr.write(`VPS test bed settled after ${fmt(waited)} (the host under ${IDLE_PERCENT}% of a core for ${IDLE_WINDOW_MS} ms)\n`);
        const sshTrue = ['ssh', ...bed.host.sshArgs().slice(0, -1), '-o', 'BatchMode=yes', '-o', 'ControlMaster=no', bed.host.sshArgs().at(-1)!, 'true'];
        for (let i = 0; i < Number(o.vpsNoops); i++) {
          const r = await vps();
          check('provision:vps no-op run', r, 'zero');
          t.vps!.push(r.ms);
          t.vpsSsh!.push((await timed(sshTrue)).ms);
        }
      } finally {
        await bed.stop();
      }
    }
  } finally {
    await stopOwnHosts();
    if (!o.keepReports) rmSync(dir, { recursive: true, force: true });
  }

  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`\n10-task playbook (2 directories, 5 files, 1 line, 1 user, 1 apt package); ${reps} fresh host pairs, ${noops} no-op runs each; load avg ${load}`);
  console.log(`SSH path: loopback -> the harness's socat forwarder (TCP_NODELAY) -> guest sshd, for both tools`);
  console.log('| run | ansible-playbook 2.14 (median) | this library (median) | speedup | runs |');
  console.log('|---|---|---|---|---|');
  for (const [name, a, l] of [['first run (fresh host)', t.ansFirst!, t.libFirst!], ['no-op re-run', t.ansNoop!, t.libNoop!]] as const) {
    console.log(`| ${name} | ${fmt(median(a))} | ${fmt(median(l))} | ${(median(a) / median(l)).toFixed(1)}x | ${a.length} + ${l.length} |`);
  }
  const par = median(t.par10!) / median(t.single!);
  const sshPar = median(t.ssh10!) / median(t.ssh1!);
  console.log(`| library no-op, 1 host / 10 hosts in parallel | | ${fmt(median(t.single!))} / ${fmt(median(t.par10!))} | ratio ${par.toFixed(2)} | ${t.single!.length} + ${t.par10!.length} |`);
  console.log(`| OpenSSH \`ssh host true\`, 1 host / 10 hosts in parallel | | ${fmt(median(t.ssh1!))} / ${fmt(median(t.ssh10!))} | ratio ${sshPar.toFixed(2)} | ${t.ssh1!.length} + ${t.ssh10!.length} |`);
  const result = [
    `noop_speedup=${(median(t.ansNoop!) / median(t.libNoop!)).toFixed(1)}`,
    `first_speedup=${(median(t.ansFirst!) / median(t.libFirst!)).toFixed(1)}`,
    `parallel10_over_single=${par.toFixed(2)}`,
    `ssh_parallel10_over_single=${sshPar.toFixed(2)}`,
  ];
  if (t.vps!.length) {
    const vps = median(t.vps!);
    console.log(`| VPS playbook no-op (provision:vps, 8 services + control center, host settled) | | ${fmt(vps)} | ${(vps / median(t.libNoop!)).toFixed(2)}x the 10-task no-op | ${t.vps!.length} |`);
    console.log(`| OpenSSH \`ssh host true\` on the VPS test host, between those runs | | ${fmt(median(t.vpsSsh!))} | | ${t.vpsSsh!.length} |`);
    result.push(`vps_noop_s=${(vps / 1000).toFixed(2)}`);
  }
  console.log(`\nRESULT ${result.join(' ')}`);
  return 0;
}

let code: number;
try {
  code = await bench(options, Number(options.reps), Number(options.noops));
} catch (e) {
  console.error(`bench:provision failed: ${(e as Error).message}`);
  await (await harness()).stopOwnHosts().catch(() => undefined);
  code = 1;
}
await exitWith(code);
