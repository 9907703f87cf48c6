/**
 * git: a checkout of repo at a ref (branch, tag or commit). The ref is resolved with `git ls-remote` (read
 * only); a fresh clone goes to a temp dir beside dest and is renamed into place, so dest is never half-cloned.
 * The work tree is left detached at the resolved commit.
 */
import { absPath } from '../files';
import { sh } from '../quote';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';

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

const ENV = `export GIT_TERMINAL_PROMPT=0 GIT_SSH_COMMAND='ssh -o BatchMode=yes'`;

/**
 * git runs as root on a checkout that `owner` may own; git ≥ 2.35.2 then refuses it as "dubious ownership".
 * Trust exactly this checkout, as command-scope config (GIT_CONFIG_*), without touching the host's gitconfig.
 */
function gitEnv(dest: string): string {
  return `${ENV}\n${sh`export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=${dest}`}`;
}

export function git(o: GitOptions): Task {
  const dest = absPath(o.dest, 'dest');
  const version = o.version ?? 'HEAD';
  const isSha = /^[0-9a-f]{40}$/.test(version);
  const env = gitEnv(dest);
  const script = [
    env,
    sh`if [ -d ${dest}/.git ]; then echo "@head $(git -C ${dest} rev-parse HEAD 2>/dev/null)"; echo "@url $(git -C ${dest} config --get remote.origin.url)"; echo "@dirty $(git -C ${dest} status --porcelain --untracked-files=no 2>/dev/null | head -c 200 | wc -l)"; elif [ -e ${dest} ]; then echo "@notgit"; fi`,
    isSha ? '' : sh`git ls-remote -- ${o.repo} ${version} ${'refs/tags/' + version + '^{}'} 2>&1 | sed 's/^/@ref /'; echo "@lsrc $?"`,
  ]
    .filter(Boolean)
    .join('\n');
  return defineTask('git', `git ${o.repo} @ ${version} -> ${dest}`, o, {
    probe: { script },
    async plan(ctx, probe): Promise<Plan> {
      const out = probe.out;
      const get = (k: string): string | undefined => new RegExp(`^@${k} ?(.*)$`, 'm').exec(out)?.[1]?.trim();
      if (/^@notgit/m.test(out)) throw new Error(`${dest} exists and is not a git checkout`);
      let target = isSha ? version : undefined;
      if (!isSha) {
        const refs = [...out.matchAll(/^@ref ([0-9a-f]{40})\s+(\S+)$/gm)].map((m) => ({ sha: m[1]!, ref: m[2]! }));
        const peeled = refs.find((r) => r.ref.endsWith('^{}'));
        const exact = refs.find((r) => r.ref === version || r.ref === `refs/heads/${version}` || r.ref === `refs/tags/${version}`);
        target = peeled?.sha ?? exact?.sha ?? refs[0]?.sha;
        if (!target) {
          const err = [...out.matchAll(/^@ref (.*)$/gm)].map((m) => m[1]).join(' ').trim();
          throw new Error(`cannot resolve ${version} in ${o.repo}${err ? `: ${err}` : ''}`);
        }
      }
      const head = get('head');
      const own = o.owner || o.group ? `${o.owner ?? ''}${o.group ? ':' + o.group : ''}` : '';
      if (!head) {
        return {
          changed: true,
          msg: `clone at ${target!.slice(0, 12)}`,
          diff: [{ label: dest, before: '(absent)\n', after: `${o.repo} @ ${target}\n` }],
          apply: async () => {
            await ctx.run(
              [
                env,
                'set -e',
                sh`d=${dest}; p=$(dirname -- "$d"); mkdir -p -- "$p"`,
                'rm -rf -- "$d".ptmp.* 2>/dev/null || true',
                't=$(mktemp -d "$d.ptmp.XXXXXX")',
                `trap 'rm -rf -- "$t"' EXIT; trap 'exit 129' HUP INT TERM; trap '' PIPE`,
                sh`git clone -q --no-checkout -- ${o.repo} "$t"`,
                sh`git -C "$t" checkout -q --detach ${target!}`,
                own ? sh`chown -R ${own} "$t"` : '',
                'chmod 0755 "$t"',
                'mv -T -- "$t" "$d"',
                'trap - EXIT',
              ]
                .filter(Boolean)
                .join('\n'),
              `git clone ${o.repo}`,
            );
          },
        };
      }
      const url = get('url');
      const dirty = Number(get('dirty') ?? 0) > 0;
      if (head === target && url === o.repo && !(dirty && o.force)) return { changed: false };
      if (dirty && !o.force) throw new Error(`${dest} has local modifications; set force: true to discard them`);
      return {
        changed: true,
        msg: head === target ? (url !== o.repo ? 'set origin url' : 'discard local changes') : `${head.slice(0, 12)} -> ${target!.slice(0, 12)}`,
        diff: [{ label: dest, before: `${url} @ ${head}\n`, after: `${o.repo} @ ${target}\n` }],
        apply: async () => {
          await ctx.run(
            [
              env,
              'set -e',
              url !== o.repo ? sh`git -C ${dest} remote set-url origin ${o.repo}` : '',
              sh`git -C ${dest} cat-file -e ${target! + '^{commit}'} 2>/dev/null || git -C ${dest} fetch -q --tags origin`,
              sh`git -C ${dest} cat-file -e ${target! + '^{commit}'} 2>/dev/null || git -C ${dest} fetch -q origin ${target!}`,
              sh`git -C ${dest} checkout -q ${o.force ? ['-f'] : []} --detach ${target!}`,
              own ? sh`chown -R ${own} ${dest}` : '',
            ]
              .filter(Boolean)
              .join('\n'),
            `git checkout ${version}`,
          );
        },
      };
    },
  });
}
