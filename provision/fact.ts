/**
 * Facts: what a task reads from a host, declared as data (pyinfra's facts). A fact names the read-only POSIX sh
 * that gathers it and the parser of that command's output; it never runs anything itself. Tasks ask for facts
 * (`need(fact, arg)`), the runner gathers every task's needs in ONE remote script (provision/probe.ts), equal
 * needs once, and plan() receives the parsed values.
 *
 * Two shapes:
 *   - per argument (`defineFact`): one command per argument (a file's content, `sysctl -n key`);
 *   - batched (`defineBatchFact`): one command for all arguments of that fact on the host (one `stat` for every
 *     path, one read of /etc/passwd for every user, one `systemctl show` for every unit).
 * A command may print several sections (an array of snippets); each reaches the parser as its own output and
 * exit status, so no fact invents markers of its own.
 */

/** One snippet's output, as the parser sees it. */
export interface Section {
  readonly out: Buffer;
  /** `out` as UTF-8 */
  readonly text: string;
  readonly code: number;
}

interface FactBase<A> {
  readonly name: string;
  /** identity of an argument: needs with equal keys are gathered once */
  key(arg: A): string;
  /**
   * Run the snippets in the probe's own shell instead of a subshell (saves a fork). Only for the library's own
   * facts whose snippets neither exit nor leave state behind other than positional parameters.
   */
  readonly inline?: boolean;
  /**
   * Start the snippets at the top of the probe, beside everything else (their output goes to a private temporary
   * directory, on tmpfs where there is one). For slow external commands (the docker CLI, Python tools) whose
   * output is never secret. They run in their own subshell: `inline` does not apply.
   */
  readonly concurrent?: boolean;
}

export interface ArgFact<A, T> extends FactBase<A> {
  readonly per: 'arg';
  command(arg: A): string | string[];
  parse(sections: Section[], arg: A): T;
}

export interface BatchFact<A, T> extends FactBase<A> {
  readonly per: 'batch';
  command(args: readonly A[]): string | string[];
  /** one value per argument, in order */
  parse(sections: Section[], args: readonly A[]): T[];
}

export type Fact<A, T> = ArgFact<A, T> | BatchFact<A, T>;

/** A task's request for one fact about one argument. */
export interface Need<T> {
  readonly fact: Fact<any, T>;
  readonly arg: unknown;
  /** fact name + argument key: the cache and dedupe key */
  readonly id: string;
}

export type Needs = Record<string, Need<unknown>>;

/** The parsed values plan() receives for a task's needs. */
export type FactValues<N extends Needs> = { readonly [K in keyof N]: N[K] extends Need<infer T> ? T : never };

const stringKey = (a: unknown): string => (typeof a === 'string' ? a : JSON.stringify(a));

export function defineFact<A, T>(def: Omit<ArgFact<A, T>, 'per' | 'key'> & { key?: (arg: A) => string }): ArgFact<A, T> {
  return Object.freeze({ ...def, per: 'arg' as const, key: def.key ?? stringKey });
}

export function defineBatchFact<A, T>(def: Omit<BatchFact<A, T>, 'per' | 'key'> & { key?: (arg: A) => string }): BatchFact<A, T> {
  return Object.freeze({ ...def, per: 'batch' as const, key: def.key ?? stringKey });
}

export function need<A, T>(fact: Fact<A, T>, arg: A): Need<T> {
  return Object.freeze({ fact, arg, id: `${fact.name}\0${fact.key(arg)}` });
}

export function commandsOf(c: string | string[]): string[] {
  return typeof c === 'string' ? [c] : c;
}
