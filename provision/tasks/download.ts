/**
 * download: url -> dest on the host, verified against a sha256 before it is moved into place (temp + rename).
 * A dest that already has that sha256 is left alone without any network access.
 */
import { absPath, attrChanges, attrScript, normalizeMode, type FileAttrs } from '../files';
import { sh } from '../quote';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';

export interface DownloadOptions extends TaskOptions, FileAttrs {
  url: string;
  dest: string;
  /** expected sha256 (hex); required */
  sha256: string;
}

export function download(o: DownloadOptions): Task {
  const dest = absPath(o.dest, 'dest');
  normalizeMode(o.mode);
  const want = o.sha256.toLowerCase().replace(/^sha256:/, '');
  if (!/^[0-9a-f]{64}$/.test(want)) throw new Error(`download ${dest}: sha256 must be 64 hex characters`);
  if (!/^(https?|ftp|file):\/\//.test(o.url)) throw new Error(`download ${dest}: unsupported url ${JSON.stringify(o.url)}`);
  return defineTask('download', `download ${dest}`, o, {
    probe: { stat: [dest] },
    async plan(ctx, probe): Promise<Plan> {
      const st = probe.stat(dest);
      if (st.type !== 'absent' && st.type !== 'file') throw new Error(`${dest} exists and is a ${st.type}`);
      if (st.type === 'file' && st.sha256 === want) {
        const attrs = attrChanges(st, o);
        if (!attrs.length) return { changed: false };
        return { changed: true, msg: attrs.join(', '), apply: async () => void (await ctx.run(attrScript(dest, o), `chmod/chown ${dest}`)) };
      }
      const mode = normalizeMode(o.mode) ?? '0644';
      const own = o.owner || o.group ? `${o.owner ?? ''}${o.group ? ':' + o.group : ''}` : '';
      return {
        changed: true,
        msg: st.type === 'absent' ? `fetch ${o.url}` : `replace (sha256 ${st.sha256?.slice(0, 12)}… != ${want.slice(0, 12)}…)`,
        diff: [{ label: dest, before: st.type === 'absent' ? '' : `sha256 ${st.sha256}\n`, after: `sha256 ${want}\n` }],
        apply: async () => {
          await ctx.run(
            [
              'set -e',
              sh`p=${dest}; u=${o.url}; d=$(dirname -- "$p"); b=$(basename -- "$p")`,
              'rm -f -- "$d/.$b.ptmp."* 2>/dev/null || true',
              't=$(mktemp "$d/.$b.ptmp.XXXXXX")',
              `trap 'rm -f -- "$t"' EXIT; trap 'exit 129' HUP INT TERM; trap '' PIPE`,
              'if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 2 -o "$t" -- "$u"',
              'elif command -v wget >/dev/null 2>&1; then wget -q -O "$t" -- "$u"',
              `elif command -v python3 >/dev/null 2>&1; then python3 -c 'import sys,urllib.request,shutil; shutil.copyfileobj(urllib.request.urlopen(sys.argv[1], timeout=60), open(sys.argv[2], "wb"))' "$u" "$t"`,
              'else echo "no curl, wget or python3 on the host" >&2; exit 69; fi',
              `h=$(sha256sum < "$t"); h=\${h%% *}; [ "$h" = ${want} ] || { echo "sha256 mismatch: got $h, expected ${want}" >&2; exit 76; }`,
              `chmod ${mode} "$t"`,
              own ? sh`chown ${own} "$t"` : '',
              'mv -f -- "$t" "$p"',
              'trap - EXIT',
            ]
              .filter(Boolean)
              .join('\n'),
            `download ${o.url}`,
          );
        },
      };
    },
  });
}
