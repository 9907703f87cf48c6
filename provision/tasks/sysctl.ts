/** sysctl: a kernel parameter, persisted in /etc/sysctl.d and applied at runtime when it differs. */
import * as z from 'zod/mini';
import { absolute, bool, common, parseOptions, str } from '../options';
import { fileContent } from '../facts/file';
import { sysctlValue } from '../facts/sysctl';
import { absPath } from '../files';
import { quote } from '../shell';
import { defineTask, run, write, type Plan, type Step, type Task, type TaskOptions } from '../task';
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

const schema = z.strictObject({
  ...common,
  key: str.check(z.regex(/^[a-z0-9_.\/-]+$/i, { error: 'expected a sysctl key such as vm.swappiness' })),
  value: z.union([z.string().check(z.refine((v) => !v.includes('\n'), { error: 'must be one line' })), z.number()]),
  file: z._default(absolute, '/etc/sysctl.d/99-provision.conf'),
  state: z._default(z.enum(['present', 'absent']), 'present'),
  apply: z._default(bool, true),
});

export function sysctl(opts: SysctlOptions): Task {
  const o = parseOptions('sysctl', schema, opts);
  const file = absPath(o.file, 'file');
  const value = norm(String(o.value));
  const state = o.state;
  const esc = o.key.replace(/[.]/g, '\\.');
  const regexp = new RegExp(`^\\s*${esc}\\s*=`);
  return defineTask('sysctl', `sysctl ${o.key}${state === 'present' ? ` = ${value}` : ' absent'}`, o, {
    facts: { persisted: fileContent(file), runtime: sysctlValue(o.key) },
    plan({ persisted, runtime }): Plan {
      const before = persisted === null ? '' : persisted.toString('utf8');
      const after = editLine(before, state === 'present' ? { line: `${o.key} = ${value}`, regexp } : { regexp, state: 'absent' });
      const fileChanged = after !== before && !(persisted === null && after === '');
      const runtimeChange = state === 'present' && o.apply !== false && runtime !== value;
      if (!fileChanged && !runtimeChange) return { changed: false };
      const steps: Step[] = [];
      if (fileChanged) steps.push(write(file, after, { mode: persisted === null ? '0644' : undefined }));
      if (runtimeChange) steps.push(run(`sysctl -q -w ${quote(`${o.key}=${value}`)}`, `sysctl -w ${o.key}`));
      return {
        changed: true,
        msg: [fileChanged ? `persist in ${file}` : '', runtimeChange ? `runtime ${runtime ?? '?'} -> ${value}` : ''].filter(Boolean).join(', '),
        diff: [
          ...(fileChanged ? [{ label: file, before, after }] : []),
          ...(runtimeChange ? [{ label: `${o.key} (running)`, before: `${runtime ?? '(unknown)'}\n`, after: `${value}\n` }] : []),
        ],
        steps,
      };
    },
  });
}
