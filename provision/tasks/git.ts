/**
 * git: a checkout of repo at a ref (branch, tag or commit). The ref is resolved with `git ls-remote` (a
 * read-only fact); a fresh clone goes to a temp dir beside dest and is renamed into place, so dest is never
 * half-cloned. The work tree is left detached at the resolved commit.
 */
import * as z from 'zod/mini';
import { absolute, bool, common, parseOptions, str } from '../options';
import { gitCheckout, gitEnv, remoteRef, type GitCheckout, type RemoteRef } from '../facts/git';
import { absPath } from '../files';
import { atomicReplace, ownerSpec, sh } from '../shell';
import { defineTask, run, type Plan, type Task, type TaskOptions } from '../task';

export interface GitOptions extends TaskOptions {
  repo: string;
  dest: string;
  /** branch, tag, or commit sha (default HEAD) */
  version?: string;
  /** discard local modifications (default false: a dirty checkout is an error) */
  force?: boolean;
  /** owner of the checkout (runs git as root, then chown -R) */
  owner?: string;
  group?: string;
}

const isSha = (v: string): boolean => /^[0-9a-f]{40}$/.test(v);

export function planGit(o: GitOptions & { dest: string; version: string }, cur: GitCheckout, ref: RemoteRef | undefined): Plan {
  const { dest, version } = o;
  if (cur.kind === 'other') throw new Error(`${dest} exists and is not a git checkout`);
  let target = version;
  if (!isSha(version)) {
    if (!ref || 'error' in ref) {
      const err = ref && 'error' in ref ? ref.error : '';
      throw new Error(`cannot resolve ${version} in ${o.repo}${err ? `: ${err}` : ''}`);
    }
    target = ref.sha;
  }
  const env = gitEnv(dest);
  const own = ownerSpec(o.owner, o.group);
  if (cur.kind === 'absent' || !cur.head) {
    const clone = atomicReplace({
      path: dest,
      dir: true,
      makeParent: true,
      fill: [sh`git clone -q --no-checkout -- ${o.repo} "$t"`, sh`git -C "$t" checkout -q --detach ${target}`],
      finish: [...(own ? [sh`chown -R ${own} "$t"`] : []), 'chmod 0755 "$t"'],
    });
    return {
      changed: true,
      msg: `clone at ${target.slice(0, 12)}`,
      diff: [{ label: dest, before: '(absent)\n', after: `${o.repo} @ ${target}\n` }],
      steps: [run(`${env}\n${clone}`, `git clone ${o.repo}`)],
    };
  }
  const { head, url, dirty } = cur;
  if (head === target && url === o.repo && !(dirty && o.force)) return { changed: false };
  if (dirty && !o.force) throw new Error(`${dest} has local modifications; set force: true to discard them`);
  const script = [
    env,
    'set -e',
    url !== o.repo ? sh`git -C ${dest} remote set-url origin ${o.repo}` : '',
    sh`git -C ${dest} cat-file -e ${target + '^{commit}'} 2>/dev/null || git -C ${dest} fetch -q --tags origin`,
    sh`git -C ${dest} cat-file -e ${target + '^{commit}'} 2>/dev/null || git -C ${dest} fetch -q origin ${target}`,
    sh`git -C ${dest} checkout -q ${o.force ? ['-f'] : []} --detach ${target}`,
    own ? sh`chown -R ${own} ${dest}` : '',
  ];
  return {
    changed: true,
    msg: head === target ? (url !== o.repo ? 'set origin url' : 'discard local changes') : `${head.slice(0, 12)} -> ${target.slice(0, 12)}`,
    diff: [{ label: dest, before: `${url} @ ${head}\n`, after: `${o.repo} @ ${target}\n` }],
    steps: [run(script.filter(Boolean).join('\n'), `git checkout ${version}`)],
  };
}

const schema = z.strictObject({
  ...common,
  repo: str,
  dest: absolute,
  version: z._default(str.check(z.regex(/^[^\s-][^\s]*$/, { error: 'expected a branch, tag or commit (no spaces, not starting with -)' })), 'HEAD'),
  force: z.optional(bool),
  owner: z.optional(str),
  group: z.optional(str),
});

export function git(opts: GitOptions): Task {
  const o = parseOptions('git', schema, opts);
  const dest = absPath(o.dest, 'dest');
  const version = o.version;
  return defineTask('git', `git ${o.repo} @ ${version} -> ${dest}`, o, {
    facts: { cur: gitCheckout(dest), ...(isSha(version) ? {} : { ref: remoteRef(o.repo, version) }) },
    plan: (f) => planGit({ ...o, dest, version }, f.cur as GitCheckout, f.ref as RemoteRef | undefined),
  });
}
