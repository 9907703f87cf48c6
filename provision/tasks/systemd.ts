/**
 * systemd: a unit's file content, enabled state and run state. daemon-reload runs only when a unit file
 * changed here (or systemd says NeedDaemonReload). A running unit whose file changed is restarted
 * (restartOnChange, default true); restarted / reloaded always act (use them as handlers).
 */
import { absPath, normalizeMode, readRemoteFile, sha256, writeFileAtomic, diffText } from '../files';
import { quote } from '../quote';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';

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

export function parseShow(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const l of out.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) r[l.slice(0, i)] = l.slice(i + 1).trim();
  }
  return r;
}

const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated']);
const ACTIVE = new Set(['active', 'activating', 'reloading']);

export function systemd(o: SystemdOptions): Task {
  if (!/^[\w@:.\\-]+\.(service|timer|socket|target|path|mount|slice|scope)$/.test(o.unit)) throw new Error(`systemd: invalid unit name ${JSON.stringify(o.unit)} (include the suffix, e.g. app.service)`);
  const path = absPath(`${o.dir ?? '/etc/systemd/system'}/${o.unit}`);
  normalizeMode('0644');
  const u = quote(o.unit);
  const script = `systemctl show -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- ${u} 2>/dev/null`;
  return defineTask('systemd', `systemd ${o.unit}${o.state ? ' ' + o.state : ''}`, o, {
    probe: { script, stat: o.content !== undefined ? [path] : [] },
    async plan(ctx, probe): Promise<Plan> {
      const s = parseShow(probe.out);
      const steps: string[] = [];
      const msgs: string[] = [];
      let contentChanged = false;
      if (o.content !== undefined) {
        const st = probe.stat(path);
        contentChanged = st.type !== 'file' || st.sha256 !== sha256(o.content);
        if (contentChanged) msgs.push(st.type === 'absent' ? 'create unit' : 'update unit');
      }
      const known = s.LoadState !== undefined && s.LoadState !== 'not-found';
      if (!known && !contentChanged && probe.code !== 0 && !ctx.check) throw new Error(`cannot query systemd (is this host running systemd?)`);
      if (!known && !contentChanged) {
        if (ctx.check) return { changed: true, msg: `unit ${o.unit} not found (check mode: assuming an earlier task creates it)` };
        throw new Error(`unit ${o.unit} not found`);
      }
      const reload = contentChanged || s.NeedDaemonReload === 'yes' || !!o.daemonReload;
      if (reload) steps.push('systemctl daemon-reload');
      const fileState = known && !contentChanged ? s.UnitFileState ?? '' : contentChanged && known ? s.UnitFileState ?? '' : '';
      if (o.enabled === true && !ENABLED.has(fileState)) steps.push(`systemctl enable -- ${u}`), msgs.push('enable');
      if (o.enabled === false && ENABLED.has(fileState) && fileState !== 'static') steps.push(`systemctl disable -- ${u}`), msgs.push('disable');
      const active = ACTIVE.has(s.ActiveState ?? '');
      if (o.state === 'started' && !active) steps.push(`systemctl start -- ${u}`), msgs.push('start');
      else if (o.state === 'started' && active && contentChanged && o.restartOnChange !== false) steps.push(`systemctl restart -- ${u}`), msgs.push('restart (unit changed)');
      if (o.state === 'stopped' && active) steps.push(`systemctl stop -- ${u}`), msgs.push('stop');
      if (o.state === 'restarted') steps.push(`systemctl restart -- ${u}`), msgs.push('restart');
      if (o.state === 'reloaded') steps.push(`systemctl reload-or-restart -- ${u}`), msgs.push('reload');
      if (!contentChanged && msgs.length === 0 && !(s.NeedDaemonReload === 'yes' || o.daemonReload)) return { changed: false };
      if (!msgs.length) msgs.push('daemon-reload');
      const before = `LoadState=${s.LoadState ?? '?'}\nUnitFileState=${s.UnitFileState ?? '?'}\nActiveState=${s.ActiveState ?? '?'}\n`;
      const after =
        `LoadState=loaded\nUnitFileState=${o.enabled === true ? 'enabled' : o.enabled === false ? 'disabled' : s.UnitFileState ?? '?'}\n` +
        `ActiveState=${o.state === 'stopped' ? 'inactive' : o.state ? 'active' : s.ActiveState ?? '?'}\n`;
      return {
        changed: true,
        msg: msgs.join(', '),
        diff: async () => {
          const items = [];
          if (contentChanged) items.push({ label: path, before: diffText(await readRemoteFile(ctx, path)), after: o.content! });
          items.push({ label: `${o.unit} state`, before, after });
          return items;
        },
        apply: async () => {
          if (contentChanged) await writeFileAtomic(ctx, path, o.content!, { mode: '0644', owner: 'root', group: 'root' });
          if (steps.length) await ctx.run(steps.join(' && '), `systemctl (${msgs.join(', ')})`);
        },
      };
    },
  });
}
