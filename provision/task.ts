/**
 * The task model. A task is pyinfra-shaped: it declares what it needs to read (a probe, batched with every other
 * task's probe into one round trip), decides the change in plan(), and only plan().apply() acts. Check mode runs
 * the same probe and plan and never calls apply.
 */
import type { ExecOptions, ExecResult, Remote } from './connection';
import type { Facts } from './facts';
import type { FileState } from './files';

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

/** What a task reads before deciding. Everything here is read-only on the host. */
export interface ProbeSpec {
  /** stat these paths (and sha256 of regular files) */
  stat?: string[];
  /** read the full content of these files */
  read?: string[];
  /** read-only shell snippet (POSIX sh); its stdout and exit status reach plan() */
  script?: string;
}

export interface ProbeResult {
  stat(path: string): FileState;
  /** File content, or null if the file does not exist. */
  content(path: string): Buffer | null;
  /** stdout of the probe script */
  readonly out: string;
  readonly outBuf: Buffer;
  /** exit status of the probe script */
  readonly code: number;
}

export interface DiffItem {
  /** what is diffed: a path, "packages", "unit state" ... */
  label: string;
  before: string;
  after: string;
}

export interface Plan {
  changed: boolean;
  /** Short description of the change ("create", "mode 0644 -> 0600", "install nginx curl") */
  msg?: string;
  /** before/after for --diff; a function is only called in diff mode (it may read more from the host). */
  diff?: DiffItem[] | (() => Promise<DiffItem[]>);
  /** Make the change. Never called in check mode or when changed is false. Returns an optional note. */
  apply?: () => Promise<string | void | ApplyResult>;
  /** Report the task as skipped with this reason. */
  skipped?: string;
}

/** What apply() may return when the outcome is only known after acting (command's changedWhen). */
export interface ApplyResult {
  msg?: string;
  changed?: boolean;
}

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
  readonly probe?: ProbeSpec;
  plan(ctx: TaskContext, probe: ProbeResult): Promise<Plan>;
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

export interface TaskImpl {
  probe?: ProbeSpec;
  plan(ctx: TaskContext, probe: ProbeResult): Promise<Plan>;
}

export function defineTask(module: string, defaultName: string, opts: TaskOptions, impl: TaskImpl): Task {
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
    probe: impl.probe,
    plan: impl.plan,
  };
}

/** Plans for the common cases. */
export const unchanged = (msg?: string): Plan => ({ changed: false, msg });
