/** user and group: local accounts (useradd / usermod / userdel, groupadd / groupmod / groupdel). */
import { createHash } from 'node:crypto';
import { quote } from '../quote';
import { reveal, type Secret } from '../secret';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';

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

const NAME = /^[a-z_][a-z0-9_.-]*\$?$/i;

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

export function parsePasswd(line: string): PasswdEntry | undefined {
  const f = line.trim().split(':');
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), comment: f[4]!, home: f[5]!, shell: f[6]! };
}

export function user(o: UserOptions): Task {
  if (!NAME.test(o.user)) throw new Error(`user: invalid name ${JSON.stringify(o.user)}`);
  const state = o.state ?? 'present';
  const u = quote(o.user);
  // as few processes as possible: the groups only when asked about, no command substitutions
  const script = [
    // local accounts straight from /etc/passwd with shell builtins (no process); NSS (getent) only if not there
    `f=; while IFS= read -r l; do case "$l" in ${quote(o.user + ':')}*) printf '@passwd %s\\n' "$l"; f=1; break;; esac; done < /etc/passwd`,
    `[ -n "$f" ] || { printf '@passwd '; getent passwd ${u} || echo; }`,
    o.group || o.groups ? `printf '@groups '; id -Gn ${u} 2>/dev/null || echo` : '',
    o.passwordHash !== undefined ? `echo "@shadow $(getent shadow ${u} | cut -d: -f2 | sha256sum | cut -c1-64)"` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return defineTask('user', `user ${o.user}`, o, {
    probe: { script },
    async plan(ctx, probe): Promise<Plan> {
      const get = (k: string): string => new RegExp(`^@${k} ?(.*)$`, 'm').exec(probe.out)?.[1]?.trim() ?? '';
      const pw = parsePasswd(get('passwd'));
      const allGroups = get('groups').split(/\s+/).filter(Boolean);
      const primary = allGroups[0] ?? '';
      if (state === 'absent') {
        if (!pw) return { changed: false };
        return {
          changed: true,
          msg: 'remove',
          diff: [{ label: `user ${o.user}`, before: `${get('passwd')}\n`, after: '' }],
          apply: async () => void (await ctx.run(`userdel ${o.remove ? '-r ' : ''}${u}`, 'userdel')),
        };
      }
      const flags: string[] = [];
      const changes: string[] = [];
      const hashWanted = o.passwordHash !== undefined ? reveal(o.passwordHash) : undefined;
      if (!pw) {
        if (o.uid !== undefined) flags.push(`-u ${o.uid}`);
        if (o.group) flags.push(`-g ${quote(o.group)}`);
        if (o.groups?.length) flags.push(`-G ${quote(o.groups.join(','))}`);
        if (o.shell) flags.push(`-s ${quote(o.shell)}`);
        if (o.home) flags.push(`-d ${quote(o.home)}`);
        if (o.comment !== undefined) flags.push(`-c ${quote(o.comment)}`);
        if (o.system) flags.push('-r');
        flags.push(o.createHome === false ? '-M' : '-m');
        if (hashWanted !== undefined) flags.push(`-p ${quote(hashWanted)}`);
        return {
          changed: true,
          msg: 'create',
          diff: [{ label: `user ${o.user}`, before: '', after: `${o.user} uid=${o.uid ?? 'auto'} shell=${o.shell ?? 'default'} groups=${(o.groups ?? []).join(',')}\n` }],
          apply: async () => {
            // like useradd's USERGROUPS_ENAB, but also fine when a group of that name already exists
            const grp = o.group ? '' : `$(if getent group ${u} >/dev/null; then echo -g ${u}; else echo -U; fi) `;
            await ctx.run(`useradd ${grp}${flags.join(' ')} ${u}`, 'useradd');
          },
        };
      }
      if (o.uid !== undefined && pw.uid !== o.uid) flags.push(`-u ${o.uid}`), changes.push(`uid ${pw.uid} -> ${o.uid}`);
      if (o.group && primary !== o.group) flags.push(`-g ${quote(o.group)}`), changes.push(`group ${primary} -> ${o.group}`);
      const current = allGroups;
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
      if (hashWanted !== undefined) {
        const want = createHash('sha256').update(hashWanted + '\n').digest('hex');
        if (get('shadow') !== want) flags.push(`-p ${quote(hashWanted)}`), changes.push('password');
      }
      if (!flags.length) return { changed: false };
      return {
        changed: true,
        msg: changes.join(', '),
        diff: [{ label: `user ${o.user}`, before: changes.map((c) => c.split(' -> ')[0]).join('\n') + '\n', after: changes.map((c) => c.replace(/ .* -> /, ' ')).join('\n') + '\n' }],
        apply: async () => void (await ctx.run(`usermod ${flags.join(' ')} ${u}`, 'usermod')),
      };
    },
  });
}

export interface GroupOptions extends TaskOptions {
  group: string;
  state?: 'present' | 'absent';
  gid?: number;
  system?: boolean;
}

export function group(o: GroupOptions): Task {
  if (!NAME.test(o.group)) throw new Error(`group: invalid name ${JSON.stringify(o.group)}`);
  const g = quote(o.group);
  return defineTask('group', `group ${o.group}`, o, {
    probe: { script: `getent group ${g}` },
    async plan(ctx, probe): Promise<Plan> {
      const f = probe.out.trim().split(':');
      const exists = probe.code === 0 && f.length >= 3;
      if ((o.state ?? 'present') === 'absent') {
        if (!exists) return { changed: false };
        return { changed: true, msg: 'remove', diff: [{ label: `group ${o.group}`, before: probe.out, after: '' }], apply: async () => void (await ctx.run(`groupdel ${g}`, 'groupdel')) };
      }
      if (!exists) {
        const flags = [o.gid !== undefined ? `-g ${o.gid}` : '', o.system ? '-r' : ''].filter(Boolean).join(' ');
        return {
          changed: true,
          msg: 'create',
          diff: [{ label: `group ${o.group}`, before: '', after: `${o.group} gid=${o.gid ?? 'auto'}\n` }],
          apply: async () => void (await ctx.run(`groupadd ${flags} ${g}`, 'groupadd')),
        };
      }
      if (o.gid !== undefined && Number(f[2]) !== o.gid)
        return {
          changed: true,
          msg: `gid ${f[2]} -> ${o.gid}`,
          diff: [{ label: `group ${o.group}`, before: `gid=${f[2]}\n`, after: `gid=${o.gid}\n` }],
          apply: async () => void (await ctx.run(`groupmod -g ${o.gid} ${g}`, 'groupmod')),
        };
      return { changed: false };
    },
  });
}
