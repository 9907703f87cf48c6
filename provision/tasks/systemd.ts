/**
 * systemd: a unit's file content, enabled state and run state. daemon-reload runs only when a unit file
 * changed here (or systemd says NeedDaemonReload). A running unit whose file changed is restarted
 * (restartOnChange, default true); restarted / reloaded always act (use them as handlers).
 */
import * as z from 'zod/mini';
import { absolute, anyString, bool, common, parseOptions, str } from '../options';
import { fileStat, type FileState } from '../facts/file';
import { unit as unitFact, type UnitState } from '../facts/unit';
import { absPath, diffText, readRemoteFile, sha256 } from '../files';
import { quote } from '../shell';
import { defineTask, run, write, type Plan, type Step, type Task, type TaskOptions } from '../task';

export { parseShow } from '../facts/unit';

export interface SystemdOptions extends TaskOptions {
  /** unit name with suffix: "app.service", "backup.timer" */
  unit: string;
  /** unit file content, written to /etc/systemd/system/<unit> */
  content?: string;
  enabled?: boolean;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  /** restart a running unit whose file changed (default true) */
  restartOnChange?: boolean;
  /** force a daemon-reload even if no unit changed */
  daemonReload?: boolean;
  /** directory for the unit file (default /etc/systemd/system) */
  dir?: string;
}

const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated']);
const ACTIVE = new Set(['active', 'activating', 'reloading']);

/** The decision, from the unit's state and (when content is managed) its file's state. */
export function planUnit(o: SystemdOptions, path: string, s: UnitState, file: FileState | undefined, check: boolean): Plan {
  const u = quote(o.unit);
  const msgs: string[] = [];
  const cmds: string[] = [];
  const contentChanged = o.content !== undefined && (file?.type !== 'file' || file.sha256 !== sha256(o.content));
  if (contentChanged) msgs.push(file?.type === 'absent' ? 'create unit' : 'update unit');
  const known = s.queried && s.load !== undefined && s.load !== 'not-found';
  if (!known && !contentChanged) {
    if (check) return { changed: true, msg: `unit ${o.unit} not found (check mode: assuming an earlier task creates it)` };
    if (!s.queried) throw new Error('cannot query systemd (is this host running systemd?)');
    throw new Error(`unit ${o.unit} not found`);
  }
  if (contentChanged || s.needDaemonReload || o.daemonReload) cmds.push('systemctl daemon-reload');
  const fileState = known ? s.fileState ?? '' : '';
  if (o.enabled === true && !ENABLED.has(fileState)) cmds.push(`systemctl enable -- ${u}`), msgs.push('enable');
  if (o.enabled === false && ENABLED.has(fileState) && fileState !== 'static') cmds.push(`systemctl disable -- ${u}`), msgs.push('disable');
  const active = ACTIVE.has(s.active ?? '');
  if (o.state === 'started' && !active) cmds.push(`systemctl start -- ${u}`), msgs.push('start');
  else if (o.state === 'started' && active && contentChanged && o.restartOnChange !== false) cmds.push(`systemctl restart -- ${u}`), msgs.push('restart (unit changed)');
  if (o.state === 'stopped' && active) cmds.push(`systemctl stop -- ${u}`), msgs.push('stop');
  if (o.state === 'restarted') cmds.push(`systemctl restart -- ${u}`), msgs.push('restart');
  if (o.state === 'reloaded') cmds.push(`systemctl reload-or-restart -- ${u}`), msgs.push('reload');
  if (!contentChanged && msgs.length === 0 && !(s.needDaemonReload || o.daemonReload)) return { changed: false };
  if (!msgs.length) msgs.push('daemon-reload');
  const before = `LoadState=${s.load ?? '?'}\nUnitFileState=${s.fileState ?? '?'}\nActiveState=${s.active ?? '?'}\n`;
  const after =
    `LoadState=loaded\nUnitFileState=${o.enabled === true ? 'enabled' : o.enabled === false ? 'disabled' : s.fileState ?? '?'}\n` +
    `ActiveState=${o.state === 'stopped' ? 'inactive' : o.state ? 'active' : s.active ?? '?'}\n`;
  const steps: Step[] = [];
  if (contentChanged) steps.push(write(path, o.content!, { mode: '0644', owner: 'root', group: 'root' }));
  if (cmds.length) steps.push(run(cmds.join(' && '), `systemctl (${msgs.join(', ')})`));
  return {
    changed: true,
    msg: msgs.join(', '),
    diff: async (ctx) => [
      ...(contentChanged ? [{ label: path, before: diffText(await readRemoteFile(ctx, path)), after: o.content! }] : []),
      { label: `${o.unit} state`, before, after },
    ],
    steps,
  };
}

const schema = z.strictObject({
  ...common,
  unit: str.check(z.regex(/^[\w@:.\\-]+\.(service|timer|socket|target|path|mount|slice|scope)$/, { error: 'expected a unit name with its suffix, e.g. app.service' })),
  content: z.optional(anyString),
  enabled: z.optional(bool),
  state: z.optional(z.enum(['started', 'stopped', 'restarted', 'reloaded'])),
  restartOnChange: z._default(bool, true),
  daemonReload: z.optional(bool),
  dir: z._default(absolute, '/etc/systemd/system'),
});

export function systemd(opts: SystemdOptions): Task {
  const o = parseOptions('systemd', schema, opts);
  const path = absPath(`${o.dir}/${o.unit}`);
  return defineTask('systemd', `systemd ${o.unit}${o.state ? ' ' + o.state : ''}`, o, {
    facts: { unit: unitFact(o.unit), ...(o.content !== undefined ? { file: fileStat(path) } : {}) },
    plan: (f, env) => planUnit(o, path, f.unit as UnitState, f.file as FileState | undefined, env.check),
  });
}
