/**
 * Secret values: wrap with secret(v). A Secret prints as *** everywhere (toString, JSON, util.inspect), and its
 * plain value is registered so that every line the library prints, every diff and the JSON report are scrubbed
 * of it, even when a task put the value into a file's content or a command.
 */
const registry = new Set<string>();
let pattern: RegExp | undefined;

export const REDACTED = '***';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    if (typeof value !== 'string') throw new Error('secret() takes a string');
    this.#value = value;
    registerSecret(value);
  }
  /** The plain value, for the one place that must use it (a file's content, stdin of a command). */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${REDACTED})`;
  }
}

export function secret(value: string): Secret {
  return new Secret(value);
}

export function isSecret(v: unknown): v is Secret {
  return v instanceof Secret;
}

/** The plain value of a string or Secret. */
export function reveal(v: string | Secret): string {
  return v instanceof Secret ? v.reveal() : v;
}

/** Remember a value that must never be printed (also used for values of vars marked secret in an inventory). */
export function registerSecret(value: string): void {
  if (!value) return;
  if (!registry.has(value)) {
    registry.add(value);
    pattern = undefined;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Replace every registered secret value (longest first) in a string. */
export function redact(text: string): string {
  if (registry.size === 0 || !text) return text;
  if (!pattern) {
    const parts = [...registry].sort((a, b) => b.length - a.length).map(escapeRe);
    pattern = new RegExp(parts.join('|'), 'g');
  }
  return text.replace(pattern, REDACTED);
}

/** Deep-redact a JSON-able value (strings are scrubbed, Secrets become ***). */
export function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (value instanceof Secret) return REDACTED;
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out;
  }
  return value;
}

/** For tests only. */
export function _clearSecretsForTest(): void {
  registry.clear();
  pattern = undefined;
}
