/**
 * The shell helpers every task builds its commands from: quoting (re-exported from ./quote), `owner:group`
 * specs, chmod/chown, and the one atomic-replace pattern (temp beside the target + trap + rename).
 */
import { posix } from 'node:path';
import { normalizeMode } from './mode';
import { quote, raw, sh } from './quote';

export { quote, raw, sh };

/** "owner:group", "owner", ":group" or "" (nothing to change). */
export function ownerSpec(owner?: string, group?: string): string {
  if (!owner && !group) return '';
  return `${owner ?? ''}${group ? ':' + group : ''}`;
}

export interface Attrs {
  /** octal: "0644", "644" or 0o644 */
  mode?: string | number;
  owner?: string;
  group?: string;
}

/** chmod/chown a path to the wanted attributes (parts with nothing to set are left out); "" when none. */
export function attrScript(path: string, want: Attrs, opts: { noDeref?: boolean; recursive?: boolean } = {}): string {
  const parts: string[] = [];
  const r = opts.recursive ? ' -R' : '';
  const m = normalizeMode(want.mode);
  if (m) parts.push(`chmod${r} ${m} -- ${quote(path)}`);
  const own = ownerSpec(want.owner, want.group);
  if (own) parts.push(`chown${opts.noDeref ? ' -h' : ''}${r} ${quote(own)} -- ${quote(path)}`);
  return parts.join(' && ');
}

export interface AtomicReplace {
  /** the target */
  path: string;
  /** a directory tree (mktemp -d) instead of a file */
  dir?: boolean;
  /** create the target's parent directory if missing (default: a missing parent is an error) */
  makeParent?: boolean;
  /** commands that fill the temp path "$t" */
  fill: string[];
  /** commands run on "$t" after filling and before the rename (checks, chmod, chown) */
  finish?: string[];
  /** more paths the trap removes (e.g. an uploaded staging file) */
  cleanup?: string[];
}

/**
 * A script that builds the new version in a temp path beside the target (".<name>.ptmp.XXXXXX", same
 * filesystem) and renames it over the target, so the target is always either the old or the new version.
 * Leftover temps of an earlier interrupted run are removed first. A dropped connection (HUP), INT or TERM exits
 * through the EXIT trap, which removes the temp; SIGPIPE is ignored so that writing an error to a closed channel
 * cannot kill the shell before its trap runs.
 */
export function atomicReplace(o: AtomicReplace): string {
  const extra = (o.cleanup ?? []).map((c) => ` ${quote(c)}`).join('');
  return [
    'set -e',
    sh`p=${o.path}; d=${posix.dirname(o.path)}; b=${posix.basename(o.path)}`,
    o.makeParent ? 'mkdir -p -- "$d"' : '[ -d "$d" ] || { echo "directory $d does not exist" >&2; exit 74; }',
    'rm -rf -- "$d/.$b.ptmp."* 2>/dev/null || true',
    `t=$(mktemp ${o.dir ? '-d ' : ''}"$d/.$b.ptmp.XXXXXX")`,
    `trap 'rm -rf -- "$t"${extra.replace(/'/g, `'\\''`)}' EXIT; trap 'exit 129' HUP INT TERM; trap '' PIPE`,
    ...o.fill,
    ...(o.finish ?? []),
    'mv -fT -- "$t" "$p"',
    'trap - EXIT',
  ].join('\n');
}
