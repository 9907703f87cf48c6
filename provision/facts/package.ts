/**
 * Debian package facts: installed state (and version) of packages, the apt cache's age, apt's candidate versions.
 */
import { defineBatchFact, defineFact, need, type Need } from '../fact';
import { quote } from '../shell';

export interface PkgState {
  installed: boolean;
  version?: string;
}

export interface PkgArg {
  name: string;
  /** the version matters (a pin, state latest): ask dpkg-query, which knows it */
  exact: boolean;
}

/** dpkg-query -W lines ("name\tii \tversion") or Package/Status/Version lines of /var/lib/dpkg/status. */
export function parseDpkg(out: string): Map<string, PkgState> {
  const m = new Map<string, PkgState>();
  let cur = '';
  for (const l of out.split('\n')) {
    if (l.startsWith('Package: ')) cur = l.slice(9).trim();
    else if (l.startsWith('Status: ') && cur) {
      const installed = / installed$/.test(l) && / ok /.test(l) && !/^Status: (deinstall|purge) /.test(l);
      // a name may repeat, one stanza per architecture: installed wins
      if (installed || !m.get(cur)?.installed) m.set(cur, { installed });
    } else if (l === '' || l === '--') cur = '';
    else if (l.includes('\t')) {
      const [name, status, version] = l.split('\t');
      if (!name) continue;
      const installed = (status ?? '').startsWith('ii') || (status ?? '').startsWith('hi');
      m.set(name.split(':')[0]!, { installed, version: installed ? version : undefined });
    }
  }
  return m;
}

const dpkgQuery = (names: string[]): string =>
  `dpkg-query -W -f='\${Package}\\t\${db:Status-Abbrev}\\t\${Version}\\n' ${names.map(quote).join(' ')} 2>/dev/null; true`;

/**
 * Plain names are grepped out of dpkg's status file (~1 ms) instead of asking dpkg-query (~4 ms: it loads the
 * whole database); exact unless dpkg has unmerged journal entries in updates/, when dpkg-query answers for all.
 */
export const packageFact = defineBatchFact<PkgArg, PkgState>({
  name: 'package',
  key: (a) => `${a.name}${a.exact ? '=' : ''}`,
  inline: true,
  command(args) {
    const fast = [...new Set(args.filter((a) => !a.exact).map((a) => a.name))];
    const exact = [...new Set(args.filter((a) => a.exact).map((a) => a.name))];
    const grep = `grep -x -F -A3 ${fast.map((n) => `-e ${quote(`Package: ${n}`)}`).join(' ')} /var/lib/dpkg/status 2>/dev/null`;
    return [
      fast.length ? `set -- /var/lib/dpkg/updates/[0-9]*; if [ ! -e "$1" ] && [ -r /var/lib/dpkg/status ]; then ${grep}; else ${dpkgQuery(fast)}; fi; true` : 'true',
      exact.length ? dpkgQuery(exact) : 'true',
    ];
  },
  parse([fast, exact], args) {
    const f = parseDpkg(fast!.text);
    const e = parseDpkg(exact!.text);
    return args.map((a) => (a.exact ? e : f).get(a.name.split(':')[0]!) ?? { installed: false });
  },
});

export interface AptCache {
  /** any package list downloaded at all */
  lists: boolean;
  /** seconds since the last successful `apt-get update` (or the lists' mtime), measured on the host */
  ageSeconds: number;
}

export const APT_UPDATE_STAMP = '/var/lib/apt/periodic/update-success-stamp';

/** "now" on the host is the probe shell's start time: the mtime of its /proc entry. */
export const aptCacheFact = defineFact<'apt', AptCache>({
  name: 'apt-cache',
  inline: true,
  command: () => [`stat -c '%Y %n' ${APT_UPDATE_STAMP} /var/lib/apt/lists /proc/$$ 2>/dev/null; true`, `set -- /var/lib/apt/lists/*_Packages*; [ -e "$1" ]`],
  parse([times, lists]) {
    const mtimes = times!.text.split('\n').filter(Boolean).map((l) => ({ t: Number(l.split(' ')[0]), name: l.slice(l.indexOf(' ') + 1) }));
    const now = mtimes.find((m) => m.name.startsWith('/proc/'))?.t;
    const stamp = Math.max(0, ...mtimes.filter((m) => !m.name.startsWith('/proc/')).map((m) => m.t));
    return { lists: lists!.code === 0, ageSeconds: now === undefined ? Infinity : now - stamp };
  },
});

/** apt's candidate version per package ("(none)" when apt knows no candidate). */
export const aptCandidateFact = defineBatchFact<string, string | undefined>({
  name: 'apt-candidate',
  command: (names) => `apt-cache policy ${names.map(quote).join(' ')} 2>/dev/null`,
  parse([s], names) {
    const cand = new Map<string, string>();
    let cur = '';
    for (const l of s!.text.split('\n')) {
      const m = /^(\S+):$/.exec(l);
      if (m) cur = m[1]!;
      const c = /^\s+Candidate: (\S+)/.exec(l);
      if (c && cur) cand.set(cur, c[1]!);
    }
    return names.map((n) => cand.get(n));
  },
});

export const pkg = (name: string, exact = false): Need<PkgState> => need(packageFact, { name, exact });
export const aptCache = (): Need<AptCache> => need(aptCacheFact, 'apt');
export const aptCandidate = (name: string): Need<string | undefined> => need(aptCandidateFact, name);
