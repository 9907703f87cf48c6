/**
 * Runs a playbook over the selected hosts (--forks at a time). Per host: connect, batch every task's probe into
 * one round trip, then task by task: when -> plan -> (diff) -> apply unless --check. A changed task notifies
 * handlers, which run once each after the tasks. A failure stops that host; other hosts go on.
 */
import { SshConnection, run as runCmd, type ExecOptions, type Remote } from './connection';
import { BecomeError, ConnectionLostError, ProvisionInputError, UnreachableError } from './errors';
import type { Need } from './fact';
import { hostFacts, type Facts } from './facts/host';
import { letHandshakesMove } from './preconnect';
import { writeFileAtomic } from './files';
import { selectHosts, type Inventory, type InventoryHost } from './inventory';
import { ConsoleOutput, type HostStats, type Output } from './output';
import { flattenTasks, type Playbook } from './playbook';
import { composeBatch } from './probe';
import { redact } from './secret';
import { trace } from './trace';
import { needsOf, type DiffItem, type HostView, type Plan, type Task, type TaskContext, type TaskStatus, type WhenContext } from './task';

export interface RunOptions {
  check?: boolean;
  diff?: boolean;
  /** Ansible host pattern further restricting the playbook's hosts. */
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  /** Hosts in parallel (default 10). */
  forks?: number;
  trustNewHostKey?: boolean;
  extraVars?: Record<string, unknown>;
  output?: Output;
  /** How to reach a host (default: SshConnection). Unit tests pass a fake. */
  connect?: (host: InventoryHost, notice: (msg: string) => void) => Promise<Remote>;
  /** Fault-injection hook: called before each task (index into the host's task list) with the live remote. */
  beforeTask?: (host: string, index: number, remote: Remote) => void | Promise<void>;
}

export interface TaskReport {
  name: string;
  module: string;
  status: TaskStatus;
  changed: boolean;
  durationMs: number;
  msg?: string;
  handler?: boolean;
  diff?: string[];
}

export interface HostReport {
  name: string;
  status: 'ok' | 'failed' | 'unreachable';
  error?: string;
  durationMs: number;
  stats: HostStats;
  tasks: TaskReport[];
  facts?: Facts;
}

export interface RunReport {
  playbook: string;
  startedAt: string;
  durationMs: number;
  check: boolean;
  diff: boolean;
  ok: boolean;
  hosts: HostReport[];
}

/** Ansible's tag rules: --tags selects (plus "always"), --skip-tags removes; "never" runs only when asked. */
export function tagSelected(taskTags: readonly string[], tags?: string[], skipTags?: string[]): boolean {
  const want = tags && tags.length && !tags.includes('all') ? tags : undefined;
  if (skipTags?.some((t) => taskTags.includes(t))) return false;
  if (taskTags.includes('never') && !(want && want.some((t) => taskTags.includes(t)))) return false;
  if (!want) return true;
  if (taskTags.includes('always')) return true;
  if (want.includes('tagged') && taskTags.length) return true;
  if (want.includes('untagged') && !taskTags.length) return true;
  return want.some((t) => taskTags.includes(t));
}

/** How the runner reaches a host unless RunOptions.connect says otherwise: an SSH connection from its inventory settings. */
export function defaultConnect(trustNewHostKey: boolean | undefined) {
  return (h: InventoryHost, notice: (msg: string) => void): Promise<Remote> =>
    SshConnection.open({ ...h.ssh, name: h.name, trustNewHostKey, onNotice: notice });
}

const now = (): number => performance.now();

export async function runPlaybook(pb: Playbook<any>, inventory: Inventory, opts: RunOptions = {}): Promise<RunReport> {
  const started = now();
  const startedAt = new Date().toISOString();
  const out = opts.output ?? new ConsoleOutput();
  const check = !!opts.check;
  const diffMode = !!opts.diff;
  let hosts = selectHosts(inventory, pb.hosts ?? 'all');
  if (opts.limit) hosts = selectHosts(inventory, opts.limit, hosts.map((h) => h.name));
  if (!hosts.length) throw new ProvisionInputError(`no hosts matched: playbook hosts "${pb.hosts ?? 'all'}"${opts.limit ? `, --limit "${opts.limit}"` : ''} in ${inventory.file}`);

  // Build every host's task list before any task runs: a playbook bug fails fast, not half-way. (Connections the
  // script opened early, provision/preconnect.ts, take their next handshake step first.)
  await letHandshakesMove();
  const plans = hosts.map((h) => {
    const vars = { ...(pb.vars ?? {}), ...h.vars, ...(opts.extraVars ?? {}) };
    const view: HostView = Object.freeze({ name: h.name, groups: h.groups, vars });
    const tasks = flattenTasks(pb.tasks(view as never)).filter((t) => tagSelected(t.tags, opts.tags, opts.skipTags));
    const handlers = flattenTasks(pb.handlers?.(view as never) ?? []);
    const names = new Set<string>();
    for (const hd of handlers) {
      if (names.has(hd.name)) throw new ProvisionInputError(`playbook ${pb.name}: two handlers named "${hd.name}"`);
      names.add(hd.name);
    }
    for (const t of [...tasks, ...handlers])
      for (const n of t.notify)
        if (!names.has(n)) throw new ProvisionInputError(`playbook ${pb.name}: task "${t.name}" notifies "${n}", but there is no handler of that name`);
    return { host: h, view, tasks, handlers };
  });
  trace('tasks built');

  out.play(pb.name, hosts.map((h) => h.name), { check, diff: diffMode });
  const connect = opts.connect ?? defaultConnect(opts.trustNewHostKey);
  const reports: HostReport[] = new Array(plans.length);
  const forks = Math.max(1, opts.forks ?? 10);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plans.length) {
      const i = next++;
      const p = plans[i]!;
      reports[i] = await runHost(pb, p.host, p.view, p.tasks, p.handlers, { ...opts, check, diff: diffMode }, out, connect);
    }
  };
  await Promise.all(Array.from({ length: Math.min(forks, plans.length) }, worker));

  const durationMs = Math.round(now() - started);
  const stats = new Map(reports.map((r) => [r.name, { ...r.stats, ms: r.durationMs }]));
  out.recap(stats, durationMs);
  return {
    playbook: pb.name,
    startedAt,
    durationMs,
    check,
    diff: diffMode,
    ok: reports.every((r) => r.status === 'ok'),
    hosts: reports,
  };
}

async function runHost(
  pb: Playbook<any>,
  h: InventoryHost,
  view: HostView,
  tasks: Task[],
  handlers: Task[],
  opts: RunOptions & { check: boolean; diff: boolean },
  out: Output,
  connect: (host: InventoryHost, notice: (msg: string) => void) => Promise<Remote>,
): Promise<HostReport> {
  const t0 = now();
  const stats: HostStats = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
  const report: HostReport = { name: h.name, status: 'ok', durationMs: 0, stats, tasks: [] };
  const finish = (): HostReport => {
    report.durationMs = Math.round(now() - t0);
    return report;
  };
  let remote: Remote;
  try {
    remote = await connect(h, (m) => out.notice(h.name, m));
  } catch (e) {
    const msg = redact((e as Error).message);
    stats.unreachable = 1;
    report.status = 'unreachable';
    report.error = msg;
    out.unreachable(h.name, msg);
    return finish();
  }

  const hostBecome = pb.become ?? h.ssh.become;
  const becomeOf = (t: Task): boolean => t.become ?? hostBecome;
  /** Gather needs in one remote script; values by need id. */
  const gather = async (needs: Need<unknown>[], become: boolean, timeoutMs?: number): Promise<Map<string, unknown>> => {
    const batch = composeBatch(needs);
    const r = await remote.exec(batch.script, { become, retryable: true, timeoutMs });
    if (r.code !== 0 && r.stdout.length === 0) throw new Error(`probe failed (exit ${r.code}): ${r.stderr.toString().trim().split('\n').slice(-3).join(' ')}`);
    return batch.parse(r.stdout);
  };

  let factsP: Promise<Facts> | undefined;
  const facts = (): Promise<Facts> => {
    if (pb.gatherFacts === false) return Promise.reject(new Error(`facts are disabled in playbook ${pb.name} (gatherFacts: false)`));
    const n = hostFacts();
    factsP ??= gather([n], false).then((v) => v.get(n.id) as Facts);
    return factsP;
  };
  if (pb.gatherFacts === true) facts().catch(() => undefined);
  let factsValue: Facts | undefined;
  const changedNames = new Set<string>();

  // Fact cache: one batch for every remaining task (same become); invalidated when something changed. Holds
  // promises, so a batch started early (see runTask) is awaited, not gathered twice.
  const factCache = new Map<Task, Promise<Record<string, unknown>>>();
  const factsFor = (task: Task, rest: Task[], withHostFacts = false): Promise<Record<string, unknown>> => {
    const hit = factCache.get(task);
    if (hit) return hit;
    const b = becomeOf(task);
    const group = [task, ...rest.filter((t) => t !== task && t.when !== false && becomeOf(t) === b && !factCache.has(t) && needsOf(t).length)];
    const needs = group.flatMap(needsOf);
    // the host facts a first condition reads travel in the same script (gathered without become, as facts() does)
    const host = withHostFacts && !b && !factsP && pb.gatherFacts !== false ? hostFacts() : undefined;
    if (host) needs.push(host);
    const batch = (async () => {
      if (!needs.length) return new Map<string, unknown>();
      trace(`${h.name}: probe batch of ${group.length} tasks`);
      const values = await gather(needs, b, task.timeoutMs);
      trace(`${h.name}: probe batch done`);
      return values;
    })();
    if (host) factsP = batch.then((v) => v.get(host.id) as Facts);
    for (const t of group) {
      const values = batch.then((v) => Object.fromEntries(Object.entries(t.facts).map(([k, n]) => [k, v.get(n.id)])));
      factCache.set(t, values);
      // a failed batch is not kept (the next task probes again) and is never an unhandled rejection
      values.catch(() => factCache.get(t) === values && factCache.delete(t));
    }
    return factCache.get(task)!;
  };

  const ctxFor = (task: Task): TaskContext => {
    const become = becomeOf(task);
    // a task with its own timeout also gets its remote commands killed when it passes
    const execOpts = (o?: ExecOptions): ExecOptions => ({ become, timeoutMs: task.timeoutMs, killOnTimeout: task.timeoutMs !== undefined, ...o });
    return {
      host: view,
      check: opts.check,
      diff: opts.diff,
      become,
      remote,
      facts,
      exec: (script, o) => remote.exec(script, execOpts(o)),
      run: (script, what, o) => runCmd(remote, script, { ...execOpts(o), what: what ?? task.module }),
    };
  };

  let stop = false;
  const runTask = async (task: Task, index: number, rest: Task[], handler: boolean): Promise<void> => {
    const ts = now();
    let status: TaskStatus = 'ok';
    let msg: string | undefined;
    const diffs: string[] = [];
    try {
      await opts.beforeTask?.(h.name, index, remote);
      let run = true;
      if (task.when !== undefined) {
        if (typeof task.when === 'function') {
          // the host facts the condition reads and the task's own probe batch travel at once, in one script
          if (!factsValue && needsOf(task).length) factsFor(task, rest, true).catch(() => undefined);
          factsValue ??= await facts();
          const wc: WhenContext = { ...view, facts: factsValue, check: opts.check, changed: (n) => changedNames.has(n) };
          run = !!(await task.when(wc));
        } else run = task.when;
      }
      if (!run) {
        status = 'skipped';
        msg = 'condition is false';
      } else {
        const plan: Plan = task.plan(await factsFor(task, rest), { check: opts.check, host: view });
        msg = plan.msg;
        const ctx = ctxFor(task);
        if (plan.skipped !== undefined) {
          status = 'skipped';
          msg = plan.skipped;
        } else if (plan.changed) {
          status = 'changed';
          if (opts.diff && plan.diff) {
            const items: DiffItem[] = typeof plan.diff === 'function' ? await plan.diff(ctx) : plan.diff;
            if (items.length) {
              // eslint-disable-next-line @typescript-eslint/no-var-requires
              const { unifiedDiff } = require('./diff') as typeof import('./diff');
              for (const it of items) {
                const d = unifiedDiff(it);
                if (d) diffs.push(d);
              }
            }
          }
          if (!opts.check && (plan.steps?.length || plan.apply)) {
            factCache.clear();
            for (const step of plan.steps ?? []) {
              if ('write' in step) await writeFileAtomic(ctx, step.write, step.content, step.opts);
              else await ctx.run(step.run, step.what, { ...(step.timeoutMs !== undefined && { timeoutMs: step.timeoutMs }), ...(step.stdin !== undefined && { stdin: step.stdin }) });
            }
            const res = plan.apply ? await plan.apply(ctx) : undefined;
            const note = typeof res === 'string' ? res : res?.msg;
            if (res && typeof res === 'object' && res.changed === false) status = 'ok';
            if (note) msg = msg ? `${msg} (${note})` : note;
          }
        }
        if (!opts.check && plan.wait && plan.skipped === undefined) {
          const note = await plan.wait(ctx);
          if (note) msg = msg ? `${msg} (${note})` : note;
        }
      }
    } catch (e) {
      const err = e as Error;
      msg = redact(err.message.replace(new RegExp(`^${h.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), ''));
      if (err instanceof UnreachableError || err instanceof ConnectionLostError) {
        if (err instanceof ConnectionLostError) msg += '; the task may be half-done: re-run to converge';
        stats.unreachable = 1;
        report.status = 'unreachable';
        report.error = `${task.name}: ${msg}`;
        status = 'failed';
        stop = true;
      } else {
        status = 'failed';
        if (err instanceof BecomeError || !task.ignoreErrors) {
          report.status = 'failed';
          report.error = `${task.name}: ${msg}`;
          stop = true;
        } else msg += ' (ignored)';
      }
    }
    const ms = Math.round(now() - ts);
    if (status === 'changed') {
      changedNames.add(task.name);
      stats.changed++;
      stats.ok++;
      for (const n of task.notify) notified.add(n);
    } else if (status === 'ok') stats.ok++;
    else if (status === 'skipped') stats.skipped++;
    else if (report.status !== 'unreachable') stats.failed++;
    if (report.status === 'unreachable' && status === 'failed') out.unreachable(h.name, `${task.name}: ${msg}`);
    else out.task(h.name, task.name, status, ms, msg, handler);
    for (const d of diffs) out.diff(h.name, d);
    report.tasks.push({
      name: task.name,
      module: task.module,
      status,
      changed: status === 'changed',
      durationMs: ms,
      ...(msg ? { msg: redact(msg) } : {}),
      ...(handler ? { handler: true } : {}),
      ...(diffs.length ? { diff: diffs.map(redact) } : {}),
    });
  };

  const notified = new Set<string>();
  try {
    for (let i = 0; i < tasks.length && !stop; i++) {
      // handlers are probed only once they are due: a no-op run never pays for them
      const rest = tasks.slice(i + 1);
      await runTask(tasks[i]!, i, rest, false);
    }
    // Handlers: in definition order, each at most once; a handler may notify a later (or earlier) one.
    const ran = new Set<string>();
    for (let pass = 0; !stop && pass < handlers.length + 1; pass++) {
      const due = handlers.filter((hd) => notified.has(hd.name) && !ran.has(hd.name));
      if (!due.length) break;
      for (const hd of due) {
        if (stop) break;
        ran.add(hd.name);
        await runTask(hd, tasks.length + handlers.indexOf(hd), due.filter((x) => !ran.has(x.name)), true);
      }
    }
    if (pb.gatherFacts === true && report.status !== 'unreachable') report.facts = await facts().catch(() => undefined);
  } finally {
    trace(`${h.name}: closing`);
    await remote.close().catch(() => undefined);
    trace(`${h.name}: closed`);
  }
  return finish();
}
