/**
 * download: url -> dest on the host, verified against a sha256 before it is moved into place (temp + rename).
 * A dest that already has that sha256 is left alone without any network access.
 */
import * as z from 'zod/mini';
import { absolute, attrs, common, parseOptions, str } from '../options';
import { fileStat, type FileState } from '../facts/file';
import { absPath, attrChanges, normalizeMode, type FileAttrs } from '../files';
import { atomicReplace, attrScript, ownerSpec, sh } from '../shell';
import { defineTask, run, type Plan, type Task, type TaskOptions } from '../task';

export interface DownloadOptions extends TaskOptions, FileAttrs {
  url: string;
  dest: string;
  /** expected sha256 (hex); required */
  sha256: string;
}

const schema = z.strictObject({
  ...common,
  ...attrs,
  url: str.check(z.regex(/^(https?|ftp|file):\/\//, { error: 'expected an http(s)://, ftp:// or file:// URL' })),
  dest: absolute,
  sha256: str.check(z.regex(/^(sha256:)?[0-9a-fA-F]{64}$/, { error: 'expected 64 hex characters' })),
});

export function download(opts: DownloadOptions): Task {
  const o = parseOptions('download', schema, opts);
  const dest = absPath(o.dest, 'dest');
  const want = o.sha256.toLowerCase().replace(/^sha256:/, '');
  return defineTask('download', `download ${dest}`, o, {
    facts: { st: fileStat(dest) },
    plan: ({ st }) => planDownload(o, dest, want, st),
  });
}

export function planDownload(o: DownloadOptions, dest: string, want: string, st: FileState): Plan {
  if (st.type !== 'absent' && st.type !== 'file') throw new Error(`${dest} exists and is a ${st.type}`);
  if (st.type === 'file' && st.sha256 === want) {
    const attrs = attrChanges(st, o);
    if (!attrs.length) return { changed: false };
    return { changed: true, msg: attrs.join(', '), steps: [run(attrScript(dest, o), `chmod/chown ${dest}`)] };
  }
  const own = ownerSpec(o.owner, o.group);
  const script = atomicReplace({
    path: dest,
    fill: [
      sh`u=${o.url}`,
      'if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 2 --connect-timeout 30 -o "$t" -- "$u"',
      'elif command -v wget >/dev/null 2>&1; then wget -q -T 60 -O "$t" -- "$u"',
      `elif command -v python3 >/dev/null 2>&1; then python3 -c 'import sys,urllib.request,shutil; shutil.copyfileobj(urllib.request.urlopen(sys.argv[1], timeout=60), open(sys.argv[2], "wb"))' "$u" "$t"`,
      'else echo "no curl, wget or python3 on the host" >&2; exit 69; fi',
    ],
    finish: [
      `h=$(sha256sum < "$t"); h=\${h%% *}; [ "$h" = ${want} ] || { echo "sha256 mismatch: got $h, expected ${want}" >&2; exit 76; }`,
      `chmod ${normalizeMode(o.mode) ?? '0644'} "$t"`,
      ...(own ? [sh`chown ${own} "$t"`] : []),
    ],
  });
  return {
    changed: true,
    msg: st.type === 'absent' ? `fetch ${o.url}` : `replace (sha256 ${st.sha256?.slice(0, 12)}… != ${want.slice(0, 12)}…)`,
    diff: [{ label: dest, before: st.type === 'absent' ? '' : `sha256 ${st.sha256}\n`, after: `sha256 ${want}\n` }],
    steps: [run(script, `download ${o.url}`)],
  };
}
