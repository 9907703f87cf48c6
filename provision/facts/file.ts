/**
 * File facts: a path's type, mode, owner, group, size, sha256 (regular files) and link target; a file's content.
 * Every path of a host is classified by shell builtins, then ONE stat, ONE sha256sum and ONE readlink loop.
 */
import { defineBatchFact, defineFact, need, type Need } from '../fact';
import { quote, sh } from '../shell';

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

const TYPE: Record<string, FileType> = { F: 'file', D: 'directory', L: 'link', O: 'other', '-': 'absent' };

function unescapeSum(name: string): string {
  return name.replace(/\\(\\|n|r)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

export const fileStatFact = defineBatchFact<string, FileState>({
  name: 'file',
  // hashing every managed file (a bundled app is megabytes) is the slowest read of a converged host; types, modes
  // and hashes are not secret
  concurrent: true,
  command(paths) {
    const set = `set -- ${paths.map(quote).join(' ')}`;
    return [
      `${set}; for p; do if [ -L "$p" ]; then printf L; elif [ -f "$p" ]; then printf F; elif [ -d "$p" ]; then printf D; elif [ -e "$p" ]; then printf O; else printf -; fi; done`,
      `${set}; n=$#; for p; do if [ -e "$p" ] || [ -L "$p" ]; then set -- "$@" "$p"; fi; done; shift $n; if [ $# -gt 0 ]; then stat -c '%a\t%U\t%G\t%s' -- "$@" 2>/dev/null; fi`,
      `${set}; n=$#; for p; do if [ -f "$p" ] && [ ! -L "$p" ]; then set -- "$@" "$p"; fi; done; shift $n; if [ $# -gt 0 ]; then sha256sum -- "$@" 2>/dev/null; fi`,
      `${set}; for p; do if [ -L "$p" ]; then readlink -- "$p"; fi; done`,
    ];
  },
  parse([types, stat, sums, links], paths) {
    const latin = (s: { out: Buffer }): string => s.out.toString('latin1');
    const statLines = latin(stat!).split('\n').filter(Boolean);
    const sumsByName = new Map<string, string>();
    for (const l of latin(sums!).split('\n')) {
      if (!l) continue;
      const esc = l.startsWith('\\');
      const body = esc ? l.slice(1) : l;
      const name = body.slice(66);
      sumsByName.set(esc ? unescapeSum(name) : name, body.slice(0, 64));
    }
    const linkLines = latin(links!).split('\n');
    const typeChars = latin(types!);
    let si = 0;
    let li = 0;
    return paths.map((p, i) => {
      const type = TYPE[typeChars[i] ?? '-'] ?? 'absent';
      const st: FileState = { path: p, type };
      if (type !== 'absent') {
        const f = (statLines[si++] ?? '').split('\t');
        if (f.length >= 4) {
          st.mode = f[0]!.padStart(4, '0');
          st.owner = f[1];
          st.group = f[2];
          st.size = Number(f[3]);
        }
      }
      if (type === 'file') st.sha256 = sumsByName.get(Buffer.from(p, 'utf8').toString('latin1'));
      if (type === 'link') st.target = Buffer.from(linkLines[li++] ?? '', 'latin1').toString('utf8');
      return st;
    });
  },
});

/** Content of a regular file, or null when it is absent (or not readable). */
export const fileContentFact = defineFact<string, Buffer | null>({
  name: 'content',
  inline: true,
  command: (p) => sh`if [ -f ${p} ]; then cat -- ${p} 2>/dev/null; else false; fi`,
  parse: ([s]) => (s!.code === 0 ? s!.out : null),
});

export const fileStat = (path: string): Need<FileState> => need(fileStatFact, path);
export const fileContent = (path: string): Need<Buffer | null> => need(fileContentFact, path);
