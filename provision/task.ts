/**
 * The task contract (pyinfra's operations, Ansible's module contract):
 *
 *   facts   what the task reads, declared as data (provision/facts/*): gathered for every task of a host in one
 *           batched probe, before anything acts;
 *   plan()  pure: parsed facts in, a Plan out (changed? why? the diff; the steps). No I/O, no waiting, so every
 *           decision is unit-tested against fake facts;
 *   steps   what to do, as data (commands and file writes), run by the runner, never in check mode;
 *   apply   (rare) an act that must read its own results (staging + validation, changedWhen);
 *   wait    a read-only wait after the act (a service answering), skipped in check mode.
 */
import type { ExecOptions, ExecResult, Remote } from './connection';
import type { FactValues, Need, Needs } from './fact';
import type { Facts } from './facts/host';
import type { WriteOptions } from './files';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface HostView<V = Record<string, unknown>> {
  readonly name: string;
  readonly groups: readonly string[];
  readonly vars: V;
}

export interface WhenContext<V = Record<string, unknown>> extends HostView<V> {
  readonly facts: Facts;
  readonly check: boolean;
  /** Did the task of that name change something on this host during this run? */
  changed(taskName: string): boolean;
}

export type When = boolean | ((h: WhenContext<any>) => boolean | Promise<boolean>);

export interface DiffItem {
  /** what is diffed: a path, "packages", "unit state" ... */
  label: string;
  before: string;
  after: string;
}

/** One act, as data. */
export type Step =
  | { readonly run: string; readonly what: string; readonly timeoutMs?: number; readonly stdin?: string | Buffer }
  | { readonly write: string; readonly content: string | Buffer; readonly opts?: WriteOptions };

export interface Plan {
  changed: boolean;
  /** Short description of the change ("create", "mode 0644 -> 0600", "install nginx curl") */
  msg?: string;
  /** before/after for --diff; a function is only called in diff mode (it may read more from the host). */
  diff?: DiffItem[] | ((ctx: TaskContext) => Promise<DiffItem[]>);
  /** The change, run in order. Never run in check mode or when changed is false. */
  steps?: Step[];
  /** After the steps: an act that must read its own results. Returns an optional note. */
  apply?: (ctx: TaskContext) => Promise<string | void | ApplyResult>;
  /** Read-only and possibly slow (a service answering): runs after the act, changed or not, never in check mode. */
  wait?: (ctx: TaskContext) => Promise<string | void>;
  /** Report the task as skipped with this reason. */
  skipped?: string;
}

/** What apply() may return when the outcome is only known after acting (command's changedWhen). */
export interface ApplyResult {
  msg?: string;
  changed?: boolean;
}

/** What plan() knows besides the facts. */
export interface PlanEnv {
  readonly check: boolean;
  readonly host: HostView;
}

/** What apply(), wait() and diff functions act through. */
export interface TaskContext {
  readonly host: HostView;
  readonly check: boolean;
  readonly diff: boolean;
  /** sudo for this task (task.become ?? playbook become ?? inventory ansible_become) */
  readonly become: boolean;
  readonly remote: Remote;
  facts(): Promise<Facts>;
  /** exec with this task's become and timeout */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** exec, and throw a clear error unless it exits 0; returns stdout */
  run(script: string, what?: string, opts?: ExecOptions): Promise<string>;
}

export interface Task {
  readonly name: string;
  readonly module: string;
  readonly tags: readonly string[];
  readonly notify: readonly string[];
  readonly when?: When;
  readonly become?: boolean;
  readonly ignoreErrors?: boolean;
  readonly timeoutMs?: number;
  /** the facts plan() reads, by the name plan() knows them */
  readonly facts: Needs;
  /** pure: the facts' values (by name) in, the plan out */
  plan(facts: Record<string, unknown>, env: PlanEnv): Plan;
}

/** Options every module accepts. */
export interface TaskOptions {
  /** Shown in output and used by notify (handlers are looked up by name). */
  name?: string;
  tags?: string[];
  when?: When;
  notify?: string | string[];
  become?: boolean;
  /** A failure is reported but the host goes on. */
  ignoreErrors?: boolean;
  /** Per-command timeout for this task, in seconds. */
  timeout?: number;
}

export interface TaskImpl<N extends Needs> {
  facts?: N;
  plan(facts: FactValues<N>, env: PlanEnv): Plan;
}

export function defineTask<N extends Needs = {}>(module: string, defaultName: string, opts: TaskOptions, impl: TaskImpl<N>): Task {
  const notify = opts.notify === undefined ? [] : Array.isArray(opts.notify) ? opts.notify : [opts.notify];
  return {
    name: opts.name ?? defaultName,
    module,
    tags: opts.tags ?? [],
    notify,
    when: opts.when,
    become: opts.become,
    ignoreErrors: opts.ignoreErrors,
    timeoutMs: opts.timeout !== undefined ? opts.timeout * 1000 : undefined,
    facts: impl.facts ?? {},
    plan: (facts, env) => impl.plan(facts as FactValues<N>, env),
  };
}

/** The needs of a task, as a list. */
export function needsOf(task: Task): Need<unknown>[] {
  return Object.values(task.facts);
}

/** Plans for the common cases. */
export const unchanged = (msg?: string): Plan => ({ changed: false, msg });
export const run = (script: string, what: string, opts: { timeoutMs?: number; stdin?: string | Buffer } = {}): Step => ({ run: script, what, ...opts });
export const write = (path: string, content: string | Buffer, opts?: WriteOptions): Step => ({ write: path, content, opts });
