/**
 * The playbook API:
 *
 *   export default definePlaybook<{ app_port: number }>({
 *     name: 'web',
 *     hosts: 'web',
 *     vars: { app_port: 8080 },
 *     tasks: (host) => [
 *       directory({ path: '/srv/app', mode: '0755' }),
 *       copy({ dest: '/srv/app/app.env', content: `PORT=${host.vars.app_port}\n`, notify: 'restart app' }),
 *       host.vars.app_port > 1024 && lineInFile({ path: '/etc/hosts', line: '127.0.0.1 app' }),
 *     ],
 *     handlers: () => [systemd({ name: 'restart app', unit: 'app.service', state: 'restarted' })],
 *   });
 */
import type { HostView, Task, TaskOptions, When } from './task';

export type TaskList = ReadonlyArray<Task | TaskList | false | null | undefined>;

export interface PlaybookDef<V = Record<string, unknown>> {
  name: string;
  /** Host pattern (Ansible style: "all", "web", "web,db", "!db", "gpu*"). Default "all". */
  hosts?: string;
  /** Defaults for vars; inventory vars override them, --extra-vars override both. */
  vars?: Partial<V>;
  /** sudo for every task (overridable per task). Default: the inventory's ansible_become. */
  become?: boolean;
  /**
   * Facts: "auto" (default) gathers them on first use (a `when` function or a module that needs them);
   * true gathers them at the start of every host (and puts them in the report); false never (a task that asks
   * for them fails).
   */
  gatherFacts?: boolean | 'auto';
  /** The tasks for one host, in order. Falsy entries are dropped; nested arrays are flattened. */
  tasks: (host: HostView<V>) => TaskList;
  /** Handlers, by name: run once after the tasks, only if a changed task notified them. */
  handlers?: (host: HostView<V>) => TaskList;
}

export interface Playbook<V = Record<string, unknown>> extends Readonly<PlaybookDef<V>> {
  readonly kind: 'playbook';
}

export function definePlaybook<V = Record<string, unknown>>(def: PlaybookDef<V>): Playbook<V> {
  if (!def || typeof def.name !== 'string' || !def.name) throw new Error('definePlaybook: name is required');
  if (typeof def.tasks !== 'function') throw new Error(`definePlaybook(${def.name}): tasks must be a function (host) => Task[]`);
  return Object.freeze({ ...def, kind: 'playbook' as const });
}

export function flattenTasks(list: TaskList): Task[] {
  const out: Task[] = [];
  const walk = (l: TaskList): void => {
    for (const t of l) {
      if (!t) continue;
      if (Array.isArray(t)) walk(t as TaskList);
      else out.push(t as Task);
    }
  };
  walk(list);
  return out;
}

/**
 * Apply common options to a group of tasks (Ansible's block): tags are added, `when` is AND-ed, become and
 * notify are defaults.
 */
export function block(opts: Pick<TaskOptions, 'tags' | 'when' | 'become' | 'notify' | 'ignoreErrors'>, tasks: TaskList): Task[] {
  const extraNotify = opts.notify === undefined ? [] : Array.isArray(opts.notify) ? opts.notify : [opts.notify];
  return flattenTasks(tasks).map((t) => {
    let when: When | undefined = t.when;
    if (opts.when !== undefined) {
      const a = opts.when;
      const b = t.when;
      when =
        b === undefined
          ? a
          : async (h) => (typeof a === 'function' ? await a(h) : a) && (typeof b === 'function' ? await b(h) : b);
    }
    return {
      ...t,
      plan: t.plan,
      tags: [...new Set([...(opts.tags ?? []), ...t.tags])],
      notify: [...new Set([...t.notify, ...extraNotify])],
      when,
      become: t.become ?? opts.become,
      ignoreErrors: t.ignoreErrors ?? opts.ignoreErrors,
    };
  });
}
