/** Small process helpers: run a command, start a detached daemon, and tell live processes from zombies. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Run a command to completion; never rejects for a non-zero exit (see `runOk`). */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stderr = Buffer.concat(err).toString() + (signal ? `\n[killed by ${signal}]` : '');
      resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString(), stderr });
    });
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** Run a command and throw with its output tail when it exits non-zero. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const tail = (r.stderr + r.stdout).trim().split('\n').slice(-25).join('\n');
    throw new Error(`${cmd} ${args.join(' ').slice(0, 200)} exited ${r.code}:\n${tail}`);
  }
  return r;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fields of /proc/PID/stat after the command name (which may contain spaces): [state, ppid, ...]. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Start time in clock ticks since boot: (pid, startTime) names a process even after its PID is reused. */
export function startTime(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[19]) : undefined;
}

/**
 * Alive means: exists and is not a zombie (a zombie still answers kill -0; PID 1 of this machine may reap late).
 * With `start`, the PID must also still belong to the process that had that start time.
 */
export function alive(pid: number | undefined, start?: number): boolean {
  if (!pid) return false;
  const f = statFields(pid);
  if (!f || f[0] === 'Z' || f[0] === 'X') return false;
  return start === undefined || Number(f[19]) === start;
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no CONFIG_PROC_CHILDREN: scan /proc for the parent PID
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => statFields(p)?.[1] === String(pid));
  }
}

export function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Start a daemon in its own session (so its process group can be signalled as a whole), output to a log file. */
export function spawnDetached(cmd: string, args: string[], logFile: string): { pid: number; start: number } {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
    if (!child.pid) throw new Error(`could not start ${cmd}`);
    child.unref();
    return { pid: child.pid, start: startTime(child.pid) ?? 0 };
  } finally {
    closeSync(fd);
  }
}

/** Send a signal, ignoring processes that are already gone. Negative pid = process group. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** Poll until `fn` returns a truthy value or the deadline passes (then undefined). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs: number, everyMs = 20): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}
