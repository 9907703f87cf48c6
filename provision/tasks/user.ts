/** user and group: local accounts (useradd / usermod / userdel, groupadd / groupmod / groupdel). */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { absolute, bool, common, parseOptions, posInt, secretOr, str } from '../options';
import { ACCOUNT_NAME, group as groupEntry, passwd, shadowDigest, userGroups, type GroupEntry, type PasswdEntry } from '../facts/account';
import { reveal, type Secret } from '../secret';
import { quote } from '../shell';
import { defineTask, run, type Plan, type Task, type TaskOptions } from '../task';

export { parsePasswd, type PasswdEntry } from '../facts/account';

export interface UserOptions extends TaskOptions {
  user: string;
  state?: 'present' | 'absent';
  uid?: number;
  /** primary group (must exist) */
  group?: string;
  /** supplementary groups; with append (default true) others are kept */
  groups?: string[];
  append?: boolean;
  shell?: string;
  home?: string;
  createHome?: boolean;
  system?: boolean;
  comment?: string;
  /** crypt(3) hash for /etc/shadow (e.g. from mkpasswd); compared, never printed */
  passwordHash?: string | Secret;
  /** absent: also remove the home directory */
  remove?: boolean;
}

const line = (pw: PasswdEntry): string => `${pw.name}:x:${pw.uid}:${pw.gid}:${pw.comment}:${pw.home}:${pw.shell}\n`;

function planCreate(o: UserOptions, hash: string | undefined): Plan {
  const u = quote(o.user);
  const flags: string[] = [];
  if (o.uid !== undefined) flags.push(`-u ${o.uid}`);
  if (o.group) flags.push(`-g ${quote(o.group)}`);
  if (o.groups?.length) flags.push(`-G ${quote(o.groups.join(','))}`);
  if (o.shell) flags.push(`-s ${quote(o.shell)}`);
  if (o.home) flags.push(`-d ${quote(o.home)}`);
  if (o.comment !== undefined) flags.push(`-c ${quote(o.comment)}`);
  if (o.system) flags.push('-r');
  flags.push(o.createHome === false ? '-M' : '-m');
  if (hash !== undefined) flags.push(`-p ${quote(hash)}`);
  // like useradd's USERGROUPS_ENAB, but also fine when a group of that name already exists
  const grp = o.group ? '' : `$(if getent group ${u} >/dev/null; then echo -g ${u}; else echo -U; fi) `;
  return {
    changed: true,
    msg: 'create',
    diff: [{ label: `user ${o.user}`, before: '', after: `${o.user} uid=${o.uid ?? 'auto'} shell=${o.shell ?? 'default'} groups=${(o.groups ?? []).join(',')}\n` }],
    steps: [run(`useradd ${grp}${flags.join(' ')} ${u}`, 'useradd')],
  };
}

function planModify(o: UserOptions, pw: PasswdEntry, current: string[], shadow: string | undefined, hash: string | undefined): Plan {
  const flags: string[] = [];
  const changes: string[] = [];
  const primary = current[0] ?? pw.group;
  if (o.uid !== undefined && pw.uid !== o.uid) flags.push(`-u ${o.uid}`), changes.push(`uid ${pw.uid} -> ${o.uid}`);
  if (o.group && primary !== o.group) flags.push(`-g ${quote(o.group)}`), changes.push(`group ${primary} -> ${o.group}`);
  if (o.groups) {
    const append = o.append ?? true;
    const missing = o.groups.filter((g) => !current.includes(g));
    const extra = append ? [] : current.filter((g) => g !== primary && !o.groups!.includes(g));
    if (missing.length || extra.length) {
      flags.push(append ? `-a -G ${quote(missing.join(','))}` : `-G ${quote(o.groups.join(','))}`);
      changes.push(`groups ${current.join(',')} -> ${append ? [...current, ...missing].join(',') : [primary, ...o.groups].join(',')}`);
    }
  }
  if (o.shell && pw.shell !== o.shell) flags.push(`-s ${quote(o.shell)}`), changes.push(`shell ${pw.shell} -> ${o.shell}`);
  if (o.home && pw.home !== o.home) flags.push(`-d ${quote(o.home)} -m`), changes.push(`home ${pw.home} -> ${o.home}`);
  if (o.comment !== undefined && pw.comment !== o.comment) flags.push(`-c ${quote(o.comment)}`), changes.push('comment');
  if (hash !== undefined && shadow !== createHash('sha256').update(hash + '\n').digest('hex')) flags.push(`-p ${quote(hash)}`), changes.push('password');
  if (!flags.length) return { changed: false };
  return {
    changed: true,
    msg: changes.join(', '),
    diff: [{ label: `user ${o.user}`, before: changes.map((c) => c.split(' -> ')[0]).join('\n') + '\n', after: changes.map((c) => c.replace(/ .* -> /, ' ')).join('\n') + '\n' }],
    steps: [run(`usermod ${flags.join(' ')} ${quote(o.user)}`, 'usermod')],
  };
}

const accountName = str.check(z.regex(ACCOUNT_NAME, { error: 'expected an account name such as "app"' }));

const userSchema = z.strictObject({
  ...common,
  user: accountName,
  state: z._default(z.enum(['present', 'absent']), 'present'),
  uid: z.optional(posInt),
  group: z.optional(accountName),
  groups: z.optional(z.array(accountName)),
  append: z.optional(bool),
  shell: z.optional(absolute),
  home: z.optional(absolute),
  createHome: z.optional(bool),
  system: z.optional(bool),
  comment: z.optional(z.string().check(z.refine((c) => !/[:\n]/.test(c), { error: 'must not contain ":" or a newline' }))),
  passwordHash: z.optional(secretOr(str)),
  remove: z.optional(bool),
});

export function user(opts: UserOptions): Task {
  const o = parseOptions('user', userSchema, opts);
  const state = o.state;
  const hash = o.passwordHash !== undefined ? reveal(o.passwordHash) : undefined;
  return defineTask('user', `user ${o.user}`, o, {
    facts: {
      pw: passwd(o.user),
      // the groups and the password only when asked about: each costs a process on the host
      ...(o.group || o.groups ? { groups: userGroups(o.user) } : {}),
      ...(hash !== undefined ? { shadow: shadowDigest(o.user) } : {}),
    },
    plan(f): Plan {
      const pw = f.pw as PasswdEntry | undefined;
      if (state === 'absent') {
        if (!pw) return { changed: false };
        return { changed: true, msg: 'remove', diff: [{ label: `user ${o.user}`, before: line(pw), after: '' }], steps: [run(`userdel ${o.remove ? '-r ' : ''}${quote(o.user)}`, 'userdel')] };
      }
      if (!pw) return planCreate(o, hash);
      return planModify(o, pw, (f.groups as string[] | undefined) ?? [pw.group], f.shadow as string | undefined, hash);
    },
  });
}

export interface GroupOptions extends TaskOptions {
  group: string;
  state?: 'present' | 'absent';
  gid?: number;
  system?: boolean;
}

const groupSchema = z.strictObject({
  ...common,
  group: accountName,
  state: z._default(z.enum(['present', 'absent']), 'present'),
  gid: z.optional(posInt),
  system: z.optional(bool),
});

export function group(opts: GroupOptions): Task {
  const o = parseOptions('group', groupSchema, opts);
  const g = quote(o.group);
  return defineTask('group', `group ${o.group}`, o, {
    facts: { entry: groupEntry(o.group) },
    plan({ entry }: { entry: GroupEntry | undefined }): Plan {
      if (o.state === 'absent') {
        if (!entry) return { changed: false };
        return { changed: true, msg: 'remove', diff: [{ label: `group ${o.group}`, before: `${o.group} gid=${entry.gid}\n`, after: '' }], steps: [run(`groupdel ${g}`, 'groupdel')] };
      }
      if (!entry) {
        const flags = [o.gid !== undefined ? `-g ${o.gid}` : '', o.system ? '-r' : ''].filter(Boolean).join(' ');
        return {
          changed: true,
          msg: 'create',
          diff: [{ label: `group ${o.group}`, before: '', after: `${o.group} gid=${o.gid ?? 'auto'}\n` }],
          steps: [run(`groupadd ${flags} ${g}`, 'groupadd')],
        };
      }
      if (o.gid !== undefined && entry.gid !== o.gid)
        return {
          changed: true,
          msg: `gid ${entry.gid} -> ${o.gid}`,
          diff: [{ label: `group ${o.group}`, before: `gid=${entry.gid}\n`, after: `gid=${o.gid}\n` }],
          steps: [run(`groupmod -g ${o.gid} ${g}`, 'groupmod')],
        };
      return { changed: false };
    },
  });
}
