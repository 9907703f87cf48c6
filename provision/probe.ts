/**
 * Batches the probes of many tasks into one remote script (one round trip), and splits its output again.
 *
 * stat of every path: shell builtins classify them, then ONE stat, ONE sha256sum and a readlink per symlink;
 * file reads: one cat each; custom scripts: a subshell each. Sections are separated by marker lines that carry
 * a random nonce, so no file content can forge one.
 */
import { randomBytes } from 'node:crypto';
import type { FileState, FileType } from './files';
import { quote } from './quote';
import type { ProbeResult, ProbeSpec } from './task';

export interface Batch {
  script: string;
  parse(stdout: Buffer): ProbeResult[];
}

const TYPE: Record<string, FileType> = { F: 'file', D: 'directory', L: 'link', O: 'other', '-': 'absent' };

function unescapeSum(name: string): string {
  return name.replace(/\\(\\|n|r)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

export function composeBatch(specs: (ProbeSpec | undefined)[], nonce = randomBytes(8).toString('hex')): Batch {
  const paths: string[] = [];
  const seen = new Set<string>();
  const add = (p: string): void => {
    if (!seen.has(p)) {
      seen.add(p);
      paths.push(p);
    }
  };
  for (const s of specs) {
    s?.stat?.forEach(add);
    s?.read?.forEach(add);
  }
  const reads: string[] = [];
  const readSeen = new Set<string>();
  for (const s of specs) for (const p of s?.read ?? []) if (!readSeen.has(p)) readSeen.add(p), reads.push(p);

  const lines: string[] = [`N=${nonce}`, `m() { printf '\\n@@%s:%s:%s\\n' "$N" "$1" "$2"; }`];
  if (paths.length) {
    const set = `set -- ${paths.map(quote).join(' ')}`;
    lines.push(
      set,
      `for p; do if [ -L "$p" ]; then printf L; elif [ -f "$p" ]; then printf F; elif [ -d "$p" ]; then printf D; elif [ -e "$p" ]; then printf O; else printf -; fi; done; m types 0`,
      `n=$#; for p; do if [ -e "$p" ] || [ -L "$p" ]; then set -- "$@" "$p"; fi; done; shift $n; if [ $# -gt 0 ]; then stat -c '%a\t%U\t%G\t%s' -- "$@" 2>/dev/null; fi; m stat 0`,
      set,
      `n=$#; for p; do if [ -f "$p" ] && [ ! -L "$p" ]; then set -- "$@" "$p"; fi; done; shift $n; if [ $# -gt 0 ]; then sha256sum -- "$@" 2>/dev/null; fi; m sums 0`,
      set,
      `for p; do if [ -L "$p" ]; then readlink -- "$p"; fi; done; m links 0`,
    );
  }
  reads.forEach((p, i) => lines.push(`if [ -f ${quote(p)} ]; then cat -- ${quote(p)} 2>/dev/null; m r${i} 0; else m r${i} 1; fi`));
  specs.forEach((s, i) => {
    if (s?.script) lines.push(`( ${s.script}\n) </dev/null 2>/dev/null; m s${i} $?`);
  });
  const script = lines.join('\n') + '\n';

  const parse = (stdout: Buffer): ProbeResult[] => {
    const text = stdout.toString('latin1');
    const re = new RegExp(`\\n@@${nonce}:([a-z0-9]+):(\\d+)\\n`, 'g');
    const sections = new Map<string, { body: string; code: number }>();
    let last = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      sections.set(m[1]!, { body: text.slice(last, m.index), code: Number(m[2]) });
      last = m.index + m[0].length;
    }
    if (!sections.has('types') && paths.length) throw new Error('probe output was cut short (connection lost or remote shell failed)');
    const states = new Map<string, FileState>();
    if (paths.length) {
      const types = sections.get('types')!.body;
      const statLines = (sections.get('stat')?.body ?? '').split('\n').filter(Boolean);
      const sums = new Map<string, string>();
      for (const l of (sections.get('sums')?.body ?? '').split('\n')) {
        if (!l) continue;
        const esc = l.startsWith('\\');
        const body = esc ? l.slice(1) : l;
        const hash = body.slice(0, 64);
        const name = body.slice(66);
        sums.set(esc ? unescapeSum(name) : name, hash);
      }
      const links = (sections.get('links')?.body ?? '').split('\n');
      let si = 0;
      let li = 0;
      paths.forEach((p, i) => {
        const type = TYPE[types[i] ?? '-'] ?? 'absent';
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
        const pn = Buffer.from(p, 'utf8').toString('latin1');
        if (type === 'file') st.sha256 = sums.get(pn);
        if (type === 'link') st.target = Buffer.from(links[li++] ?? '', 'latin1').toString('utf8');
        states.set(p, st);
      });
    }
    const contents = new Map<string, Buffer | null>();
    reads.forEach((p, i) => {
      const s = sections.get(`r${i}`);
      contents.set(p, s && s.code === 0 ? Buffer.from(s.body, 'latin1') : null);
    });
    return specs.map((spec, i) => {
      const s = sections.get(`s${i}`);
      if (spec?.script && !s) throw new Error('probe output was cut short (connection lost or remote shell failed)');
      const outBuf = s ? Buffer.from(s.body, 'latin1') : Buffer.alloc(0);
      return {
        stat(path: string): FileState {
          const st = states.get(path);
          if (!st) throw new Error(`internal: ${path} was not probed (add it to probe.stat)`);
          return st;
        },
        content(path: string): Buffer | null {
          if (!contents.has(path)) throw new Error(`internal: ${path} was not read (add it to probe.read)`);
          return contents.get(path)!;
        },
        out: outBuf.toString('utf8'),
        outBuf,
        code: s?.code ?? 0,
      };
    });
  };
  return { script, parse };
}

export const EMPTY_PROBE: ProbeResult = composeBatch([undefined]).parse(Buffer.alloc(0))[0]!;
