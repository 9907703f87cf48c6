/**
 * Option schemas, as Ansible's argument_spec: every module declares its options (types, choices, defaults),
 * which options exclude each other and which require others. A bad option is ONE error naming the module, the
 * task and the option, raised when the playbook builds its task list, before any host is contacted (exit 2).
 *
 * zod/mini (the tree-shakable build): the no-op run loads these schemas on every start. Import it as
 * `import * as z from 'zod/mini'` where it is used; re-exporting the namespace would pull all of zod into a bundle.
 */
import * as z from 'zod/mini';
import { ProvisionInputError } from './errors';
import { Secret } from './secret';
import type { When } from './task';


const fn = z.custom<(...a: any[]) => unknown>((v) => typeof v === 'function', { error: 'expected a function' });
const nonEmpty = z.string().check(z.minLength(1, { error: 'expected a non-empty string' }));

/** The options every module takes (name, tags, when, notify, become, ignoreErrors, timeout). */
export const common = {
  name: z.optional(nonEmpty),
  tags: z.optional(z.array(nonEmpty)),
  when: z.optional(z.custom<When>((v) => typeof v === 'boolean' || typeof v === 'function', { error: 'expected a boolean or a function' })),
  notify: z.optional(z.union([nonEmpty, z.array(nonEmpty)])),
  become: z.optional(z.boolean()),
  ignoreErrors: z.optional(z.boolean()),
  timeout: z.optional(z.number().check(z.positive({ error: 'expected seconds > 0' }))),
};

/** File attributes (mode as "0644", "644" or 0o644). */
export const attrs = {
  mode: z.optional(z.union([z.string().check(z.regex(/^[0-7]{3,4}$/, { error: 'expected octal such as "0644"' })), z.number().check(z.int(), z.nonnegative(), z.maximum(0o7777))])),
  owner: z.optional(nonEmpty),
  group: z.optional(nonEmpty),
};

export const str = nonEmpty;
export const anyString = z.string();
export const bool = z.boolean();
export const func = fn;
export const secretOr = <T extends z.core.SomeType>(t: T) => z.union([t, z.instanceof(Secret)]);
export const buffer = z.custom<Buffer>((v) => Buffer.isBuffer(v), { error: 'expected a Buffer' });
export const regexOr = z.union([z.string(), z.instanceof(RegExp)]);
export const absolute = z.string().check(z.regex(/^\//, { error: 'expected an absolute path' }), z.refine((p) => !p.includes('\0'), { error: 'contains a NUL byte' }));
export const posInt = z.number().check(z.int(), z.nonnegative());

export interface Rules<O> {
  /** at most one of each group */
  exclusive?: (keyof O)[][];
  /** exactly one of each group */
  oneOf?: (keyof O)[][];
  /** [option, value, required options]: when option has that value, these must be given */
  requiredIf?: [keyof O, unknown, (keyof O)[]][];
}

function describeIssue(i: z.core.$ZodIssue): string {
  switch (i.code) {
    case 'invalid_type':
      return `expected ${i.expected}`;
    case 'invalid_value':
      return `expected one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return 'unknown option';
    case 'too_small':
      return i.message !== 'Invalid input' ? i.message : `expected at least ${String(i.minimum)}`;
    case 'too_big':
      return i.message !== 'Invalid input' ? i.message : `expected at most ${String(i.maximum)}`;
    case 'invalid_union':
      return i.errors.flat().map(describeIssue).filter((m, k, a) => a.indexOf(m) === k).join(' or ');
    default:
      return i.message;
  }
}

/** One line naming the module, the task and the option. */
export function optionError(module: string, raw: object, option: string, why: string): never {
  return fail(module, raw as Record<string, unknown>, option, why);
}

function fail(module: string, raw: Record<string, unknown>, option: string, why: string): never {
  const task = typeof raw.name === 'string' ? ` (task "${raw.name}")` : '';
  throw new ProvisionInputError(`${module}${task}: option ${option}: ${why}`);
}

/** Validate a module's options against its schema and rules; returns them with defaults applied. */
export function parseOptions<S extends z.ZodMiniType>(module: string, schema: S, raw: unknown, rules: Rules<z.output<S>> = {}): z.output<S> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ProvisionInputError(`${module}: options must be an object`);
  const r = raw as Record<string, unknown>;
  const given = (k: PropertyKey): boolean => r[k as string] !== undefined;
  for (const group of rules.exclusive ?? []) {
    const set = group.filter(given);
    if (set.length > 1) fail(module, r, set.map(String).join(' and '), 'mutually exclusive: give one of them');
  }
  for (const group of rules.oneOf ?? []) {
    const set = group.filter(given);
    if (set.length !== 1) fail(module, r, group.map(String).join(' / '), set.length ? 'mutually exclusive: give exactly one of them' : 'give exactly one of them');
  }
  const res = schema.safeParse(raw);
  if (!res.success) {
    const i = res.error.issues[0]!;
    const option = i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.map(String).join('.') || '(options)';
    fail(module, r, option, describeIssue(i));
  }
  const out = res.data as Record<string, unknown>;
  for (const [k, v, needs] of rules.requiredIf ?? []) {
    if (out[k as string] !== v) continue;
    const missing = needs.filter((n) => out[n as string] === undefined);
    if (missing.length) fail(module, r, missing.map(String).join(', '), `required when ${String(k)} is ${JSON.stringify(v)}`);
  }
  return out as z.output<S>;
}
