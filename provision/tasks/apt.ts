/**
 * apt: packages present / absent / latest, in ONE apt-get call per task. The package cache is refreshed only
 * when something must be installed (or state is latest) and it is older than cacheValidTime seconds.
 */
import { quote } from '../quote';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';

export interface AptOptions extends TaskOptions {
  /** package names, optionally "name=version" */
  packages: string | string[];
  state?: 'present' | 'absent' | 'latest';
  /** refresh the cache before installing when it is older than cacheValidTime (default true) */
  updateCache?: boolean;
  /** seconds; default 3600 */
  cacheValidTime?: number;
  installRecommends?: boolean;
  /** absent: also remove configuration files */
  purge?: boolean;
}

const STAMP = '/var/lib/apt/periodic/update-success-stamp';
const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

export interface PkgState {
  installed: boolean;
  version?: string;
  candidate?: string;
}

export function parseDpkgQuery(out: string): Map<string, PkgState> {
  const m = new Map<string, PkgState>();
  if (/^@grep$/m.test(out)) {
    // "Package: x" ... "Status: want ok state" (within 3 lines: Essential/Protected may come between) from
    // /var/lib/dpkg/status; a name may repeat, one stanza per architecture
    let cur = '';
    for (const l of out.split('\n')) {
      if (l.startsWith('Package: ')) cur = l.slice(9).trim();
      else if (l.startsWith('Status: ') && cur) {
        const installed = / installed$/.test(l) && / ok /.test(l) && !/^Status: (deinstall|purge) /.test(l);
        if (installed || !m.has(cur)) m.set(cur, { installed, version: undefined });
        cur = '';
      }
    }
    return m;
  }
  for (const l of out.split('\n')) {
    const [name, status, version] = l.split('\t');
    if (!name || name.startsWith('@')) continue;
    const base = name.split(':')[0]!;
    const installed = (status ?? '').startsWith('ii') || (status ?? '').startsWith('hi');
    m.set(base, { installed, version: installed ? version : undefined });
  }
  return m;
}

export function apt(o: AptOptions): Task {
  const pkgs = (Array.isArray(o.packages) ? o.packages : o.packages.split(/[\s,]+/)).filter(Boolean);
  if (!pkgs.length) throw new Error('apt: no packages given');
  for (const p of pkgs) if (!/^[a-z0-9][a-z0-9+.:~-]*(=[A-Za-z0-9.+:~-]+)?$/.test(p)) throw new Error(`apt: invalid package name ${JSON.stringify(p)}`);
  const state = o.state ?? 'present';
  const names = pkgs.map((p) => p.split('=')[0]!);
  const valid = o.cacheValidTime ?? 3600;
  // Fast path (plain names, no version pins, not "latest"): grep the Package/Status pairs out of dpkg's status
  // file (~1 ms) instead of dpkg-query (~4 ms: it loads the whole database). Exact unless dpkg has unmerged
  // journal entries in updates/, in which case dpkg-query runs as always.
  const fast = state !== 'latest' && pkgs.every((p) => !p.includes(':') && !p.includes('='));
  const dpkgQuery = `q=$(dpkg-query -W -f='\${Package}\\t\${db:Status-Abbrev}\\t\${Version}\\n' ${names.map(quote).join(' ')} 2>/dev/null); printf '%s\\n' "$q"`;
  const grepStatus = `q=$(grep -x -F -A3 ${names.map((n) => `-e ${quote(`Package: ${n}`)}`).join(' ')} /var/lib/dpkg/status 2>/dev/null); printf '@grep\\n%s\\n' "$q"`;
  const script = [
    fast ? `set -- /var/lib/dpkg/updates/[0-9]*; if [ ! -e "$1" ] && [ -r /var/lib/dpkg/status ]; then ${grepStatus}; else ${dpkgQuery}; fi` : dpkgQuery,
    // the cache's age matters only when something is to be installed: count installed packages with builtins
    `set -f; n=0; IFS='\n'; for l in $q; do case "$l" in *"\tii "*|*"\thi "*|"Status: install ok installed"|"Status: hold ok installed") n=$((n+1));; esac; done; unset IFS; set +f`,
    // one stat: the cache stamps, and "now" on the host (the mtime of this shell's /proc entry: its start time)
    `if [ "$n" -lt ${names.length} ] || [ ${state === 'latest' ? 1 : 0} = 1 ]; then stat -c '@mtime %Y %n' ${STAMP} /var/lib/apt/lists /proc/$$ 2>/dev/null; fi`,
    `set -- /var/lib/apt/lists/*_Packages*; [ -e "$1" ] && echo "@lists 1"`,
    state === 'latest' ? `apt-cache policy ${names.map(quote).join(' ')} 2>/dev/null | sed 's/^/@policy /'` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return defineTask('apt', `apt ${state} ${pkgs.join(' ')}`, o, {
    probe: { script },
    async plan(ctx, probe): Promise<Plan> {
      const have = parseDpkgQuery(probe.out);
      const meta = (k: string): string => new RegExp(`^@${k} (.*)$`, 'm').exec(probe.out)?.[1]?.trim() ?? '';
      const mtimes = [...probe.out.matchAll(/^@mtime (\d+) (.*)$/gm)].map((m) => ({ t: Number(m[1]), name: m[2]! }));
      const now = mtimes.find((m) => m.name.startsWith('/proc/'))?.t ?? Math.floor(Date.now() / 1000);
      const stamp = Math.max(0, ...mtimes.filter((m) => !m.name.startsWith('/proc/')).map((m) => m.t));
      const haveLists = Number(meta('lists')) > 0;
      const cacheStale = !haveLists || now - stamp > valid;
      if (state === 'absent') {
        const remove = names.filter((n) => have.get(n)?.installed);
        if (!remove.length) return { changed: false };
        return {
          changed: true,
          msg: `remove ${remove.join(' ')}`,
          diff: [{ label: 'packages', before: remove.map((p) => `${p} ${have.get(p)?.version ?? ''}\n`).join(''), after: '' }],
          apply: async () => void (await ctx.run(`${APT} ${o.purge ? 'purge' : 'remove'} ${remove.map(quote).join(' ')}`, 'apt-get remove')),
        };
      }
      let install = pkgs.filter((p) => {
        const [n, v] = p.split('=');
        const h = have.get(n!);
        return !h?.installed || (v !== undefined && h.version !== v);
      });
      if (state === 'latest') {
        const cand = new Map<string, string>();
        let cur = '';
        for (const l of probe.out.split('\n')) {
          const m = /^@policy (\S+):$/.exec(l);
          if (m) cur = m[1]!;
          const c = /^@policy\s+Candidate: (\S+)/.exec(l);
          if (c && cur) cand.set(cur, c[1]!);
        }
        const outdated = names.filter((n) => have.get(n)?.installed && cand.get(n) && cand.get(n) !== '(none)' && cand.get(n) !== have.get(n)?.version);
        install = [...new Set([...install, ...outdated])];
      }
      const refresh = o.updateCache !== false && cacheStale && (install.length > 0 || state === 'latest');
      if (!install.length && !refresh) return { changed: false };
      const msg = [refresh ? 'update cache' : '', install.length ? `install ${install.join(' ')}` : ''].filter(Boolean).join(', ');
      return {
        changed: true,
        msg,
        diff: [
          {
            label: 'packages',
            before: install.map((p) => `${p.split('=')[0]} ${have.get(p.split('=')[0]!)?.version ?? '(not installed)'}\n`).join(''),
            after: install.map((p) => `${p.split('=')[0]} ${p.split('=')[1] ?? (state === 'latest' ? '(latest)' : '(candidate)')}\n`).join(''),
          },
        ],
        apply: async () => {
          if (refresh) await ctx.run(`${APT} update && mkdir -p /var/lib/apt/periodic && touch ${STAMP}`, 'apt-get update');
          if (install.length) {
            const rec = o.installRecommends === undefined ? '' : o.installRecommends ? ' --install-recommends' : ' --no-install-recommends';
            await ctx.run(`${APT}${rec} install ${install.map(quote).join(' ')}`, 'apt-get install');
          }
        },
      };
    },
  });
}
