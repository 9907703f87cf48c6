/**
 * apt: packages present / absent / latest, in ONE apt-get call per task. The package cache is refreshed only
 * when something must be installed (or state is latest) and it is older than cacheValidTime seconds.
 */
import { APT_UPDATE_STAMP, aptCache, aptCandidate, pkg, type AptCache, type PkgState } from '../facts/package';
import { quote } from '../shell';
import * as z from 'zod/mini';
import { bool, common, optionError, parseOptions, posInt, str } from '../options';
import type { Needs } from '../fact';
import { defineTask, run, type Plan, type Task, type TaskOptions } from '../task';

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

const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

interface Wanted {
  name: string;
  version?: string;
}

const spec = (w: Wanted): string => (w.version !== undefined ? `${w.name}=${w.version}` : w.name);

const schema = z.strictObject({
  ...common,
  packages: z.union([str, z.array(str).check(z.minLength(1, { error: 'expected at least one package' }))]),
  state: z._default(z.enum(['present', 'absent', 'latest']), 'present'),
  updateCache: z._default(bool, true),
  cacheValidTime: z._default(posInt, 3600),
  installRecommends: z.optional(bool),
  purge: z.optional(bool),
});

export function apt(opts: AptOptions): Task {
  const o = parseOptions('apt', schema, opts);
  const pkgs = (Array.isArray(o.packages) ? o.packages : o.packages.split(/[\s,]+/)).filter(Boolean);
  if (!pkgs.length) optionError('apt', opts, 'packages', 'no packages given');
  for (const p of pkgs) if (!/^[a-z0-9][a-z0-9+.:~-]*(=[A-Za-z0-9.+:~-]+)?$/.test(p)) optionError('apt', opts, 'packages', `invalid package name ${JSON.stringify(p)}`);
  const state = o.state;
  const wanted: Wanted[] = pkgs.map((p) => ({ name: p.split('=')[0]!, version: p.split('=')[1] }));
  // the version matters for a pin and for latest; an arch-qualified name needs dpkg-query too
  const exact = (w: Wanted): boolean => state === 'latest' || w.version !== undefined || w.name.includes(':');
  const valid = o.cacheValidTime;
  const facts: Needs = {
    cache: aptCache(),
    ...Object.fromEntries(wanted.map((w) => [`pkg:${w.name}`, pkg(w.name, exact(w))])),
    ...(state === 'latest' ? Object.fromEntries(wanted.map((w) => [`candidate:${w.name}`, aptCandidate(w.name)])) : {}),
  };
  return defineTask('apt', `apt ${state} ${pkgs.join(' ')}`, o, {
    facts,
    plan(f): Plan {
      const have = (n: string): PkgState => f[`pkg:${n}`] as PkgState;
      const cache = f.cache as AptCache;
      if (state === 'absent') {
        const remove = wanted.map((w) => w.name).filter((n) => have(n).installed);
        if (!remove.length) return { changed: false };
        return {
          changed: true,
          msg: `remove ${remove.join(' ')}`,
          diff: [{ label: 'packages', before: remove.map((p) => `${p} ${have(p).version ?? ''}\n`).join(''), after: '' }],
          steps: [run(`${APT} ${o.purge ? 'purge' : 'remove'} ${remove.map(quote).join(' ')}`, 'apt-get remove')],
        };
      }
      const install = wanted.filter((w) => {
        const h = have(w.name);
        if (!h.installed) return true;
        if (w.version !== undefined) return h.version !== w.version;
        if (state !== 'latest') return false;
        const c = f[`candidate:${w.name}`] as string | undefined;
        return !!c && c !== '(none)' && c !== h.version;
      });
      const cacheStale = !cache.lists || cache.ageSeconds > valid;
      const refresh = o.updateCache !== false && cacheStale && (install.length > 0 || state === 'latest');
      if (!install.length && !refresh) return { changed: false };
      const rec = o.installRecommends === undefined ? '' : o.installRecommends ? ' --install-recommends' : ' --no-install-recommends';
      const before = (w: Wanted): string => have(w.name).version ?? (have(w.name).installed ? '(installed)' : '(not installed)');
      return {
        changed: true,
        msg: [refresh ? 'update cache' : '', install.length ? `install ${install.map(spec).join(' ')}` : ''].filter(Boolean).join(', '),
        diff: [
          {
            label: 'packages',
            before: install.map((w) => `${w.name} ${before(w)}\n`).join(''),
            after: install.map((w) => `${w.name} ${w.version ?? (state === 'latest' ? '(latest)' : '(candidate)')}\n`).join(''),
          },
        ],
        steps: [
          ...(refresh ? [run(`${APT} update && mkdir -p /var/lib/apt/periodic && touch ${APT_UPDATE_STAMP}`, 'apt-get update')] : []),
          ...(install.length ? [run(`${APT}${rec} install ${install.map(spec).map(quote).join(' ')}`, 'apt-get install')] : []),
        ],
      };
    },
  });
}
