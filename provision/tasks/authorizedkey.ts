/** authorizedKey: one public key line in ~user/.ssh/authorized_keys (dir 0700, file 0600, owned by the user). */
import * as z from 'zod/mini';
import { bool, common, parseOptions, str } from '../options';
import { ACCOUNT_NAME, homeFile, passwd } from '../facts/account';
import { sh } from '../shell';
import { defineTask, run, write, type Plan, type Task, type TaskOptions } from '../task';

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

const FILE = '.ssh/authorized_keys';

const schema = z.strictObject({
  ...common,
  user: str.check(z.regex(ACCOUNT_NAME, { error: 'expected an account name' })),
  key: str.check(z.refine((k) => !!keyId(k), { error: 'not an SSH public key ("ssh-ed25519 AAAA… comment")' })),
  state: z._default(z.enum(['present', 'absent']), 'present'),
  exclusive: z.optional(bool),
});

export function authorizedKey(opts: AuthorizedKeyOptions): Task {
  const o = parseOptions('authorizedKey', schema, opts);
  const state = o.state;
  return defineTask('authorized_key', `authorized key for ${o.user}`, o, {
    facts: { pw: passwd(o.user), keys: homeFile(o.user, FILE) },
    plan({ pw, keys }, env): Plan {
      if (!pw) {
        if (env.check) return { changed: true, msg: `user ${o.user} does not exist yet (check mode: assuming an earlier task creates it)` };
        throw new Error(`user ${o.user} does not exist`);
      }
      const content = keys?.toString('utf8') ?? '';
      const after = editAuthorizedKeys(content, o.key, state, o.exclusive);
      if (after === content && (keys !== null || state === 'absent')) return { changed: false };
      const path = `${pw.home}/${FILE}`;
      return {
        changed: true,
        msg: state === 'absent' ? 'remove key' : keys !== null ? 'add key' : 'create authorized_keys',
        diff: [{ label: path, before: content, after }],
        steps: [
          run(sh`install -d -m 0700 -o ${o.user} -g ${pw.group} -- ${pw.home + '/.ssh'}`, 'mkdir ~/.ssh'),
          write(path, after, { mode: '0600', owner: o.user, group: pw.group }),
        ],
      };
    },
  });
}
