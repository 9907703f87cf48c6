/**
 * POSIX shell quoting for remote commands.
 *
 * zx's `quote` emits bash's `$'...'` form for strings with special characters, which dash (Debian's /bin/sh)
 * does not understand; we run every remote command under /bin/sh, so we use plain single quotes, which every
 * POSIX shell (and bash, zsh, fish) reads literally. A quoted value can never break out of its argument.
 */

/** One shell word. NUL cannot be passed in an argument, so it is refused rather than silently truncated. */
export function quote(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new Error('cannot pass a NUL byte in a shell argument');
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A fragment that `sh` inserts verbatim (a trusted piece of shell, never user data). */
export class Raw {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}
export function raw(text: string): Raw {
  return new Raw(text);
}

type ShValue = string | number | Raw | ReadonlyArray<string | number | Raw>;

function word(v: ShValue): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return v.map((x) => word(x as ShValue)).join(' ');
  if (typeof v === 'string' || typeof v === 'number') return quote(v);
  throw new Error(`sh: cannot interpolate a ${typeof v} (${Object.prototype.toString.call(v)}); pass a string, number, array or raw()`);
}

/**
 * Tagged template that quotes every interpolated value: sh`mkdir -p ${dir} && chmod ${mode} ${dir}`.
 * Arrays become several quoted words; raw(...) is inserted as is.
 */
export function sh(strings: TemplateStringsArray, ...values: ShValue[]): string {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += word(values[i] as ShValue) + (strings[i + 1] ?? '');
  return out;
}
