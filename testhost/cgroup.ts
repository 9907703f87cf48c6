/**
 * One cgroup per test host, in every hierarchy, nested under the caller's own cgroup.
 *
 * Why: systemd-nspawn --keep-unit puts its `payload`/`supervisor` cgroups below its *current* cgroup, so two hosts
 * started from the same cgroup would share them (and each guest's systemd would manage the other's units).
 * nspawn gives the guest a cgroup namespace rooted at its own cgroup, so the guest's docker (cgroupfs driver)
 * also lands under the host's subtree. Stopping a host = removing that subtree: nothing is left behind, and
 * memory stays accounted to the caller's cgroup.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const GROUP = 'ziggie-testhost';

interface Hierarchy {
  mountPoint: string;
  /** This process's cgroup in that hierarchy. */
  current: string;
  cpuset: boolean;
}

function hierarchies(): Hierarchy[] {
  const mine = new Map<string, string>(); // controllers ('cpu', 'name=systemd', '' for v2) -> path
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, controllers, p] = line.split(/:(.*?):/);
    mine.set(controllers, p);
  }
  const out: Hierarchy[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')) {
    const [pre, post] = line.split(' - ');
    const [fstype, , superOpts] = post.split(' ');
    const [, , , root, mountPoint] = pre.split(' ');
    if ((fstype !== 'cgroup' && fstype !== 'cgroup2') || root !== '/') continue;
    let key = '';
    if (fstype === 'cgroup') {
      const known = new Set(['rw', 'ro', 'xattr', 'clone_children', 'noprefix', 'cpuset_v2_mode']);
      key = superOpts.split(',').filter((o) => !known.has(o) && !o.startsWith('release_agent=')).join(',');
    }
    const current = mine.get(key);
    if (current === undefined || out.some((h) => h.mountPoint === mountPoint)) continue;
    out.push({ mountPoint, current, cpuset: key.split(',').includes('cpuset') });
  }
  return out;
}

/**
 * Create the host's cgroup in every hierarchy. Returns its directories; a process joins them by writing its PID
 * to `<dir>/cgroup.procs` (done by the host's start wrapper before it execs systemd-nspawn).
 */
export function createHostCgroups(name: string): string[] {
  const dirs: string[] = [];
  for (const h of hierarchies()) {
    const parent = path.join(h.mountPoint, h.current);
    const group = path.join(parent, GROUP);
    const dir = path.join(group, name);
    mkdirSync(dir, { recursive: true });
    if (h.cpuset) {
      // a new v1 cpuset starts with no CPUs or memory nodes, and a process cannot join it until they are set
      for (const d of [group, dir]) {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          const src = path.join(path.dirname(d), f);
          if (!readFileSync(path.join(d, f), 'utf8').trim()) writeFileSync(path.join(d, f), readFileSync(src, 'utf8'));
        }
      }
    }
    dirs.push(dir);
  }
  return dirs;
}

/** PIDs still in a cgroup subtree. */
export function cgroupPids(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const pids = readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean).map(Number);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) pids.push(...cgroupPids(path.join(dir, e.name)));
  }
  return pids;
}

/** Remove a host's cgroup subtrees (they must be empty of processes), and the shared parent if now unused. */
export function removeHostCgroups(dirs: string[]): string[] {
  const failed: string[] = [];
  const rmTree = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTree(path.join(dir, e.name));
    try {
      rmdirSync(dir);
    } catch {
      failed.push(dir);
    }
  };
  for (const dir of dirs) {
    rmTree(dir);
    try {
      rmdirSync(path.dirname(dir)); // the per-caller `ziggie-testhost` group, if no other host uses it
    } catch {
      /* still in use */
    }
  }
  return failed;
}

/** Command line that runs `argv` inside the given cgroups: a shell joins them, then execs (keeping its PID). */
export function inCgroups(dirs: string[], argv: string[]): [string, string[]] {
  const join = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs"; shift; n=$((n-1)); done; exec "$@"';
  return ['/bin/sh', ['-ec', join, 'sh', String(dirs.length), ...dirs, ...argv]];
}

/** Cgroup dirs named like `name` (below any `ziggie-testhost` group, in any hierarchy). */
export function findCgroups(name: string | RegExp): string[] {
  const found: string[] = [];
  const match = (n: string): boolean => (typeof name === 'string' ? n === name : name.test(n));
  const walk = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const sub = path.join(dir, e.name);
      if (e.name === GROUP) {
        for (const h of readdirSync(sub, { withFileTypes: true })) {
          if (h.isDirectory() && match(h.name)) found.push(path.join(sub, h.name));
        }
      } else if (depth > 0) walk(sub, depth - 1);
    }
  };
  for (const h of hierarchies()) walk(h.mountPoint, 4);
  return found;
}

/** Cgroup dirs of a host still present in any hierarchy (for tests: none after stop). */
export const cgroupLeftovers = (name: string): string[] => findCgroups(name);

/** SIGKILL whatever still runs in these cgroups, then remove them. */
export async function killCgroups(dirs: string[]): Promise<string[]> {
  for (let i = 0; i < 250; i++) {
    const pids = dirs.flatMap(cgroupPids);
    if (!pids.length) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return removeHostCgroups(dirs);
}

/** CPU time a host has used so far, in ms (cgroup v1 cpuacct.usage or v2 cpu.stat), or undefined when unreadable. */
export function hostCpuMs(name: string): number | undefined {
  for (const dir of findCgroups(name)) {
    try {
      return Number(readFileSync(path.join(dir, 'cpuacct.usage'), 'utf8')) / 1e6;
    } catch {
      /* not the cpuacct hierarchy */
    }
    try {
      const usec = /^usage_usec (\d+)$/m.exec(readFileSync(path.join(dir, 'cpu.stat'), 'utf8'))?.[1];
      if (usec) return Number(usec) / 1e3;
    } catch {
      /* no cpu controller here */
    }
  }
  return undefined;
}
