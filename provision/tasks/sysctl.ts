/** sysctl: a kernel parameter, persisted in /etc/sysctl.d and applied at runtime when it differs. */
import { absPath, writeFileAtomic } from '../files';
import { quote, sh } from '../quote';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';
import { editLine } from './lineinfile';

export interface SysctlOptions extends TaskOptions {
  key: string;
  value: string | number;
  /** default /etc/sysctl.d/99-provision.conf */
  file?: string;
  state?: 'present' | 'absent';
  /** also set the running value (default true) */
  apply?: boolean;
}

const norm = (v: string): string => v.trim().split(/\s+/).join(' ');

export function sysctl(o: SysctlOptions): Task {
  if (!/^[a-z0-9_.\/-]+$/i.test(o.key)) throw new Error(`sysctl: invalid key ${JSON.stringify(o.key)}`);
  const file = absPath(o.file ?? '/etc/sysctl.d/99-provision.conf', 'file');
  const value = norm(String(o.value));
  if (value.includes('\n')) throw new Error('sysctl: value must be one line');
  const state = o.state ?? 'present';
  const esc = o.key.replace(/[.]/g, '\\.');
  const regexp = new RegExp(`^\\s*${esc}\\s*=`);
  return defineTask('sysctl', `sysctl ${o.key}${state === 'present' ? ` = ${value}` : ' absent'}`, o, {
    probe: { read: [file], script: sh`sysctl -n ${o.key}` },
    async plan(ctx, probe): Promise<Plan> {
      const raw = probe.content(file);
      const before = raw === null ? '' : raw.toString('utf8');
      const after = editLine(before, state === 'present' ? { line: `${o.key} = ${value}`, regexp } : { regexp, state: 'absent' });
      const fileChanged = after !== before && !(raw === null && after === '');
      const runtime = probe.code === 0 ? norm(probe.out) : undefined;
      const runtimeChange = state === 'present' && o.apply !== false && runtime !== value;
      if (!fileChanged && !runtimeChange) return { changed: false };
      return {
        changed: true,
        msg: [fileChanged ? `persist in ${file}` : '', runtimeChange ? `runtime ${runtime ?? '?'} -> ${value}` : ''].filter(Boolean).join(', '),
        diff: [
          ...(fileChanged ? [{ label: file, before, after }] : []),
          ...(runtimeChange ? [{ label: `${o.key} (running)`, before: `${runtime ?? '(unknown)'}\n`, after: `${value}\n` }] : []),
        ],
        apply: async () => {
          if (fileChanged) await writeFileAtomic(ctx, file, after, { mode: raw === null ? '0644' : undefined });
          if (runtimeChange) await ctx.run(`sysctl -q -w ${quote(`${o.key}=${value}`)}`, `sysctl -w ${o.key}`);
        },
      };
    },
  });
}
