/**
 * Account facts: passwd entries (with the primary group's name), groups, a user's group list, and a digest of
 * the password hash. Local accounts come from /etc/passwd and /etc/group read by shell builtins (no process);
 * NSS (getent) only for names not found there.
 */
import { defineBatchFact, defineFact, need, type Need } from '../fact';
import { quote } from '../shell';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  /** name of the primary group (its number when the group is not in /etc/group) */
  group: string;
  comment: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export const ACCOUNT_NAME = /^[a-z_][a-z0-9_.-]*\$?$/i;

function checkName(n: string): string {
  if (!ACCOUNT_NAME.test(n)) throw new Error(`invalid account name ${JSON.stringify(n)}`);
  return n;
}

/** `name:x:uid:gid:comment:home:shell` → entry (group filled in by the caller). */
export function parsePasswd(line: string): Omit<PasswdEntry, 'group'> | undefined {
  const f = line.trim().split(':');
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), comment: f[4]!, home: f[5]!, shell: f[6]! };
}

export function parseGroup(line: string): GroupEntry | undefined {
  const f = line.trim().split(':');
  if (f.length < 4) return undefined;
  return { name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) };
}

/** Lines of `file` whose first field is one of `names`, then getent for the names not found. */
function lookup(file: string, db: string, names: readonly string[]): string {
  const cases = names.map((n) => quote(`${n}:`) + '*').join('|');
  return [
    `f=' '; while IFS= read -r l; do case "$l" in ${cases}) printf '%s\\n' "$l"; f="$f\${l%%:*} ";; esac; done < ${file}`,
    `for n in ${names.map(quote).join(' ')}; do case "$f" in *" $n "*) ;; *) getent ${db} "$n";; esac; done; true`,
  ].join('\n');
}

export const passwdFact = defineBatchFact<string, PasswdEntry | undefined>({
  name: 'passwd',
  inline: true,
  key: checkName,
  command: (users) => [
    lookup('/etc/passwd', 'passwd', users),
    // the primary groups' names: /etc/group lines whose gid is one of the users' gids
    `G=:; while IFS= read -r l; do r=\${l#*:*:*:}; G="$G\${r%%:*}:"; done < /etc/passwd; ` +
      `while IFS= read -r l; do r=\${l#*:*:}; case "$G" in *":\${r%%:*}:"*) printf '%s\\n' "$l";; esac; done < /etc/group; true`,
  ],
  parse([pw, gr], users) {
    const groups = new Map<number, string>();
    for (const l of gr!.text.split('\n')) {
      const g = parseGroup(l);
      if (g && !groups.has(g.gid)) groups.set(g.gid, g.name);
    }
    const entries = new Map<string, PasswdEntry>();
    for (const l of pw!.text.split('\n')) {
      const e = parsePasswd(l);
      if (e && !entries.has(e.name)) entries.set(e.name, { ...e, group: groups.get(e.gid) ?? String(e.gid) });
    }
    return users.map((u) => entries.get(u));
  },
});

export const groupFact = defineBatchFact<string, GroupEntry | undefined>({
  name: 'group',
  inline: true,
  key: checkName,
  command: (names) => lookup('/etc/group', 'group', names),
  parse([s], names) {
    const entries = new Map<string, GroupEntry>();
    for (const l of s!.text.split('\n')) {
      const g = parseGroup(l);
      if (g && !entries.has(g.name)) entries.set(g.name, g);
    }
    return names.map((n) => entries.get(n));
  },
});

/** The user's groups, primary first (`id -Gn`); empty when the user does not exist. */
export const userGroupsFact = defineFact<string, string[]>({
  name: 'user-groups',
  key: checkName,
  command: (u) => `id -Gn ${quote(u)}`,
  parse: ([s]) => (s!.code === 0 ? s!.text.trim().split(/\s+/).filter(Boolean) : []),
});

/** sha256 of the user's password hash field + "\n" (the hash itself never leaves the host). */
export const shadowDigestFact = defineFact<string, string>({
  name: 'shadow-digest',
  key: checkName,
  command: (u) => `getent shadow ${quote(u)} | cut -d: -f2 | sha256sum | cut -c1-64`,
  parse: ([s]) => s!.text.trim(),
});

export const passwd = (user: string): Need<PasswdEntry | undefined> => need(passwdFact, user);
export const group = (name: string): Need<GroupEntry | undefined> => need(groupFact, name);
export const userGroups = (user: string): Need<string[]> => need(userGroupsFact, user);
export const shadowDigest = (user: string): Need<string> => need(shadowDigestFact, user);

export interface HomeFileArg {
  user: string;
  /** path relative to the user's home directory */
  rel: string;
}

/** Content of a file in a user's home directory (the shell resolves ~user), or null when absent. */
export const homeFileFact = defineFact<HomeFileArg, Buffer | null>({
  name: 'home-file',
  inline: true,
  key: (a) => `${checkName(a.user)}/${a.rel}`,
  command({ user, rel }) {
    if (user.includes('$')) throw new Error(`home-file: unsupported account name ${JSON.stringify(user)}`);
    const p = `~${user}/${quote(rel)}`;
    return `if [ -f ${p} ]; then cat -- ${p} 2>/dev/null; else false; fi`;
  },
  parse: ([s]) => (s!.code === 0 ? s!.out : null),
});

export const homeFile = (user: string, rel: string): Need<Buffer | null> => need(homeFileFact, { user, rel });
