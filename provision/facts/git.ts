/**
 * git facts: the state of a checkout (HEAD, origin url, local modifications) and what a ref of a remote
 * resolves to (`git ls-remote`, read-only; the one fact that reads the network).
 */
import { defineFact, need, type Need } from '../fact';
import { sh } from '../shell';

export type GitCheckout =
  | { kind: 'absent' }
  | { kind: 'other' }
  | { kind: 'git'; head?: string; url?: string; dirty: boolean };

const BASE_ENV = `export GIT_TERMINAL_PROMPT=0 GIT_SSH_COMMAND='ssh -o BatchMode=yes'`;

/**
 * git runs as root on a checkout that another user may own; git ≥ 2.35.2 then refuses it as "dubious ownership".
 * Trust exactly this checkout, as command-scope config (GIT_CONFIG_*), without touching the host's gitconfig.
 */
export function gitEnv(dest: string): string {
  return `${BASE_ENV}\n${sh`export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=${dest}`}`;
}

export const gitCheckoutFact = defineFact<string, GitCheckout>({
  name: 'git-checkout',
  command: (dest) => [
    gitEnv(dest),
    sh`if [ -d ${dest}/.git ]; then`,
    sh`  printf 'git\\n%s\\n%s\\n%s\\n' "$(git -C ${dest} rev-parse HEAD 2>/dev/null)" "$(git -C ${dest} config --get remote.origin.url)" "$(git -C ${dest} status --porcelain --untracked-files=no 2>/dev/null | head -c 200 | wc -l)"`,
    sh`elif [ -e ${dest} ]; then echo other; else echo absent; fi`,
  ].join('\n'),
  parse([s]) {
    const [kind, head, url, dirty] = s!.text.split('\n');
    if (kind === 'git') return { kind, head: head || undefined, url: url || undefined, dirty: Number(dirty) > 0 };
    return { kind: kind === 'other' ? 'other' : 'absent' };
  },
});

export interface RemoteRefArg {
  repo: string;
  version: string;
}

export type RemoteRef = { sha: string } | { error: string };

/** The commit a branch or tag of repo points at (an annotated tag peeled). */
export const remoteRefFact = defineFact<RemoteRefArg, RemoteRef>({
  name: 'git-ls-remote',
  command: ({ repo, version }) => `${BASE_ENV}\n${sh`git ls-remote -- ${repo} ${version} ${'refs/tags/' + version + '^{}'} 2>&1`}`,
  parse([s], { version }) {
    const refs = [...s!.text.matchAll(/^([0-9a-f]{40})\s+(\S+)$/gm)].map((m) => ({ sha: m[1]!, ref: m[2]! }));
    const peeled = refs.find((r) => r.ref.endsWith('^{}'));
    const exact = refs.find((r) => r.ref === version || r.ref === `refs/heads/${version}` || r.ref === `refs/tags/${version}`);
    const sha = peeled?.sha ?? exact?.sha ?? refs[0]?.sha;
    return sha ? { sha } : { error: s!.text.trim().split('\n').join(' ') };
  },
});

export const gitCheckout = (dest: string): Need<GitCheckout> => need(gitCheckoutFact, dest);
export const remoteRef = (repo: string, version: string): Need<RemoteRef> => need(remoteRefFact, { repo, version });
