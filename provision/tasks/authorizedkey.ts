/** authorizedKey: one public key line in ~user/.ssh/authorized_keys (dir 0700, file 0600, owned by the user). */
import { sh } from '../quote';
import { writeFileAtomic } from '../files';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';

export interface AuthorizedKeyOptions extends TaskOptions {
  user: string;
  /** "ssh-ed25519 AAAA... comment" */
  key: string;
  state?: 'present' | 'absent';
  /** remove every other key */
  exclusive?: boolean;
}

/** The identity of a key line: its type and base64 blob (options and comments do not count). */
export function keyId(line: string): string | undefined {
  const m = /(?:^|\s)((?:ssh|ecdsa|sk)-[\w@.-]+)\s+([A-Za-z0-9+/]+=*)/.exec(line);
  return m ? `${m[1]} ${m[2]}` : undefined;
}

export function editAuthorizedKeys(content: string, key: string, state: 'present' | 'absent', exclusive = false): string {
  const id = keyId(key);
  if (!id) throw new Error(`authorizedKey: not an SSH public key: ${key.slice(0, 40)}…`);
  const lines = content.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
  let out: string[];
  if (state === 'absent') out = lines.filter((l) => keyId(l) !== id);
  else if (exclusive) out = [key.trim()];
  else {
    const i = lines.findIndex((l) => keyId(l) === id);
    if (i >= 0) {
      if (lines[i] === key.trim()) return content;
      out = [...lines];
      out[i] = key.trim();
    } else out = [...lines, key.trim()];
  }
  const r = out.length ? out.join('\n') + '\n' : '';
  return r === content ? content : r;
}

export function authorizedKey(o: AuthorizedKeyOptions): Task {
  const state = o.state ?? 'present';
  if (!keyId(o.key)) throw new Error(`authorizedKey ${o.user}: not an SSH public key`);
  const script = sh`e=$(getent passwd ${o.user}) || exit 3; h=$(echo "$e" | cut -d: -f6); g=$(id -gn ${o.user}); echo "$h"; echo "$g"; f="$h/.ssh/authorized_keys"; if [ -f "$f" ]; then echo present; cat -- "$f"; else echo absent; fi`;
  return defineTask('authorized_key', `authorized key for ${o.user}`, o, {
    probe: { script },
    async plan(ctx, probe): Promise<Plan> {
      if (probe.code === 3) {
        if (ctx.check) return { changed: true, msg: `user ${o.user} does not exist yet (check mode: assuming an earlier task creates it)` };
        throw new Error(`user ${o.user} does not exist`);
      }
      const out = probe.out;
      const [home, grp, exists] = out.split('\n', 3);
      const content = exists === 'present' ? out.split('\n').slice(3).join('\n') : '';
      const after = editAuthorizedKeys(content, o.key, state, o.exclusive);
      if (after === content && (exists === 'present' || state === 'absent')) return { changed: false };
      const path = `${home}/.ssh/authorized_keys`;
      return {
        changed: true,
        msg: state === 'absent' ? 'remove key' : exists === 'present' ? 'add key' : 'create authorized_keys',
        diff: [{ label: path, before: content, after }],
        apply: async () => {
          await ctx.run(sh`install -d -m 0700 -o ${o.user} -g ${grp!} -- ${home + '/.ssh'}`, 'mkdir ~/.ssh');
          await writeFileAtomic(ctx, path, after, { mode: '0600', owner: o.user, group: grp });
        },
      };
    },
  });
}
