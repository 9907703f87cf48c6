/**
 * Remote file state and the one way this library writes a file: into a temp file in the same directory,
 * size + sha256 verified, chmod/chown, then rename over the target. An interrupted write never leaves a
 * half-written target; leftover temp files (".<name>.ptmp.XXXXXX") are removed by the next write.
 */
import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { quote, sh } from './quote';
import type { TaskContext } from './task';

export type FileType = 'file' | 'directory' | 'link' | 'other' | 'absent';

export interface FileState {
  path: string;
  type: FileType;
  /** 4-digit octal, e.g. "0644" */
  mode?: string;
  owner?: string;
  group?: string;
  size?: number;
  /** sha256 hex of a regular file's content */
  sha256?: string;
  /** target of a symlink */
  target?: string;
}

export interface FileAttrs {
  /** octal: "0644", "644" or 0o644 */
  mode?: string | number;
  owner?: string;
  group?: string;
}

export function normalizeMode(mode: string | number | undefined): string | undefined {
  if (mode === undefined) return undefined;
  const s = typeof mode === 'number' ? mode.toString(8) : mode.trim();
  if (!/^[0-7]{3,4}$/.test(s)) throw new Error(`invalid mode ${JSON.stringify(mode)}: use octal like "0644" (as a string, or 0o644)`);
  return s.padStart(4, '0');
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function absPath(p: string, what = 'path'): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw new Error(`${what} must be an absolute path, got ${JSON.stringify(p)}`);
  if (p.includes('\0')) throw new Error(`${what} contains a NUL byte`);
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** Which attributes differ, as "mode 0644 -> 0600" parts. */
export function attrChanges(st: FileState, want: FileAttrs): string[] {
  const out: string[] = [];
  const m = normalizeMode(want.mode);
  if (m && st.mode !== m) out.push(`mode ${st.mode ?? '?'} -> ${m}`);
  if (want.owner && st.owner !== want.owner) out.push(`owner ${st.owner ?? '?'} -> ${want.owner}`);
  if (want.group && st.group !== want.group) out.push(`group ${st.group ?? '?'} -> ${want.group}`);
  return out;
}

/** chmod/chown a path to the wanted attributes (no-op parts omitted). */
export function attrScript(path: string, want: FileAttrs, opts: { noDeref?: boolean } = {}): string {
  const parts: string[] = [];
  const m = normalizeMode(want.mode);
  if (m) parts.push(sh`chmod ${m} -- ${path}`);
  if (want.owner || want.group) {
    const spec = `${want.owner ?? ''}${want.group ? ':' + want.group : ''}`;
    parts.push(opts.noDeref ? sh`chown -h ${spec} -- ${path}` : sh`chown ${spec} -- ${path}`);
  }
  return parts.join(' && ');
}

export interface WriteOptions extends FileAttrs {
  /** keep a timestamped copy of the previous content next to it */
  backup?: boolean;
  /** command that must exit 0 on the new file before it replaces the old one; %s = the temp file */
  validate?: string;
}

const STDIN_LIMIT = 4 * 1024 * 1024;

/** Atomically write content to path on the host (temp in the same dir + verify + rename). */
export async function writeFileAtomic(ctx: TaskContext, path: string, content: Buffer | string, opts: WriteOptions = {}): Promise<void> {
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const dir = posix.dirname(path);
  const base = posix.basename(path);
  const mode = normalizeMode(opts.mode);
  const hash = sha256(data);
  let upload: string | undefined;
  if (data.length > STDIN_LIMIT && ctx.remote.upload) {
    upload = `/tmp/.provision-upload-${randomBytes(8).toString('hex')}`;
    await ctx.remote.upload(upload, data);
  }
  const own = opts.owner || opts.group ? `${opts.owner ?? ''}${opts.group ? ':' + opts.group : ''}` : undefined;
  const script = [
    'set -e',
    sh`p=${path}; d=${dir}; b=${base}`,
    '[ -d "$d" ] || { echo "directory $d does not exist" >&2; exit 74; }',
    'rm -f -- "$d/.$b.ptmp."* 2>/dev/null || true',
    't=$(mktemp "$d/.$b.ptmp.XXXXXX")',
    // a dropped connection must not leave the temp file: exit (running the EXIT trap) on HUP/INT/TERM, and
    // ignore SIGPIPE so that writing an error to a closed channel cannot kill the shell before its trap runs
    `trap 'rm -f -- "$t"${upload ? ` ${upload}` : ''}' EXIT; trap 'exit 129' HUP INT TERM; trap '' PIPE`,
    upload ? sh`cat -- ${upload} > "$t"; rm -f -- ${upload}` : 'cat > "$t"',
    `s=$(wc -c < "$t"); [ "$s" -eq ${data.length} ] || { echo "incomplete write: $s of ${data.length} bytes arrived" >&2; exit 75; }`,
    `h=$(sha256sum < "$t"); [ "\${h%% *}" = ${hash} ] || { echo "checksum mismatch after upload" >&2; exit 75; }`,
    mode ? `chmod ${mode} "$t"` : 'if [ -f "$p" ]; then chmod --reference="$p" "$t"; else chmod 0644 "$t"; fi',
    own ? `chown ${quote(own)} "$t"` : 'if [ -f "$p" ]; then chown --reference="$p" "$t" 2>/dev/null || true; fi',
    opts.validate ? `${opts.validate.split('%s').join('"$t"')} >&2 || { echo "validation failed: ${opts.validate.replace(/[`"$\\]/g, '')}" >&2; exit 76; }` : '',
    opts.backup ? 'if [ -f "$p" ]; then cp -p -- "$p" "$p.$(date +%Y%m%dT%H%M%S).bak"; fi' : '',
    'mv -f -- "$t" "$p"',
    'trap - EXIT',
  ]
    .filter(Boolean)
    .join('\n');
  await ctx.run(script, `write ${path}`, { stdin: upload ? undefined : data, retryable: true });
}

/** Read a remote file (null if absent). */
export async function readRemoteFile(ctx: TaskContext, path: string): Promise<Buffer | null> {
  const r = await ctx.exec(sh`if [ -f ${path} ]; then cat -- ${path}; else exit 3; fi`, { retryable: true });
  if (r.code === 3) return null;
  if (r.code !== 0) throw new Error(`cannot read ${path}: ${r.stderr.toString().trim()}`);
  return r.stdout;
}

/** Text for a diff: binary or huge content is summarised. */
export function diffText(data: Buffer | string | null, max = 256 * 1024): string {
  if (data === null) return '';
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  if (b.length > max) return `(${b.length} bytes, sha256 ${sha256(b).slice(0, 16)}…, too large to diff)\n`;
  if (b.subarray(0, 8000).includes(0)) return `(binary, ${b.length} bytes, sha256 ${sha256(b).slice(0, 16)}…)\n`;
  return b.toString('utf8');
}
