/**
 * The one way this library writes a file: into a temp file in the same directory, size + sha256 verified,
 * chmod/chown, optional validate command, then renamed over the target (shell.ts's atomicReplace). An
 * interrupted write never leaves a half-written target; leftover temp files are removed by the next write.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ExecOptions, ExecResult, Remote } from './connection';
import type { FileState } from './facts/file';
import { normalizeMode } from './mode';
import { atomicReplace, ownerSpec, quote, sh, type Attrs } from './shell';

export { normalizeMode };
export type { FileState };
export type FileAttrs = Attrs;

/** What writing and reading a remote file needs of a task's context. */
export interface HostIO {
  readonly remote: Pick<Remote, 'upload'>;
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  run(script: string, what?: string, opts?: ExecOptions): Promise<string>;
}

/** A Buffer's digest, kept while the Buffer lives: a playbook's content is hashed once (a 5 MB bundle takes ~10 ms). */
const bufferDigests = new WeakMap<Buffer, string>();

export function sha256(data: string | Buffer): string {
  if (typeof data === 'string') return createHash('sha256').update(data).digest('hex');
  let d = bufferDigests.get(data);
  if (d === undefined) bufferDigests.set(data, (d = createHash('sha256').update(data).digest('hex')));
  return d;
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

export interface WriteOptions extends FileAttrs {
  /** keep a timestamped copy of the previous content next to it */
  backup?: boolean;
  /** command that must exit 0 on the new file before it replaces the old one; %s = the temp file */
  validate?: string;
}

const STDIN_LIMIT = 4 * 1024 * 1024;

/** The script that installs `size` bytes with sha256 `hash`, read from stdin (or from `upload`), at path. */
export function writeScript(path: string, size: number, hash: string, opts: WriteOptions = {}, upload?: string): string {
  const mode = normalizeMode(opts.mode);
  const own = ownerSpec(opts.owner, opts.group);
  return atomicReplace({
    path,
    cleanup: upload ? [upload] : [],
    fill: [upload ? sh`cat -- ${upload} > "$t"; rm -f -- ${upload}` : 'cat > "$t"'],
    finish: [
      `s=$(wc -c < "$t"); [ "$s" -eq ${size} ] || { echo "incomplete write: $s of ${size} bytes arrived" >&2; exit 75; }`,
      `h=$(sha256sum < "$t"); [ "\${h%% *}" = ${hash} ] || { echo "checksum mismatch after upload" >&2; exit 75; }`,
      mode ? `chmod ${mode} "$t"` : 'if [ -f "$p" ]; then chmod --reference="$p" "$t"; else chmod 0644 "$t"; fi',
      own ? `chown ${quote(own)} "$t"` : 'if [ -f "$p" ]; then chown --reference="$p" "$t" 2>/dev/null || true; fi',
      ...(opts.validate
        ? [`${opts.validate.split('%s').join('"$t"')} >&2 || { echo "validation failed: ${opts.validate.replace(/[`"$\\]/g, '')}" >&2; exit 76; }`]
        : []),
      ...(opts.backup ? ['if [ -f "$p" ]; then cp -p -- "$p" "$p.$(date +%Y%m%dT%H%M%S).bak"; fi'] : []),
    ],
  });
}

/** Atomically write content to path on the host (temp in the same dir + verify + rename). */
export async function writeFileAtomic(io: HostIO, path: string, content: Buffer | string, opts: WriteOptions = {}): Promise<void> {
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  let upload: string | undefined;
  if (data.length > STDIN_LIMIT && io.remote.upload) {
    upload = `/tmp/.provision-upload-${randomBytes(8).toString('hex')}`;
    await io.remote.upload(upload, data);
  }
  const script = writeScript(path, data.length, sha256(data), opts, upload);
  await io.run(script, `write ${path}`, { stdin: upload ? undefined : data, retryable: true });
}

/** Read a remote file (null if absent). */
export async function readRemoteFile(io: HostIO, path: string): Promise<Buffer | null> {
  const r = await io.exec(sh`if [ -f ${path} ]; then cat -- ${path}; else exit 3; fi`, { retryable: true });
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
