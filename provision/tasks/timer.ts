/** Scheduled jobs: a systemd timer (+ its oneshot service), or a cron.d entry. */
import * as z from 'zod/mini';
import { anyString, bool, common, parseOptions, posInt, str } from '../options';
import { quote } from '../shell';
import type { Task, TaskOptions } from '../task';
import { copy } from './copy';
import { systemd } from './systemd';

export interface TimerOptions extends TaskOptions {
  /** unit base name: <name>.service + <name>.timer */
  unit: string;
  /** systemd OnCalendar= ("daily", "*-*-* 03:00:00", "hourly") */
  onCalendar: string;
  /** argv (quoted for you) or a shell command line (run with /bin/sh -c) */
  command: string[] | string;
  user?: string;
  description?: string;
  persistent?: boolean;
  randomizedDelaySec?: number;
  /** false: stop and disable the timer */
  enabled?: boolean;
}

/** systemd quoting for ExecStart: double quotes, with \ " $ % escaped. */
function sdQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;
}

/** The `.timer` half alone, for a caller whose service needs more than a plain oneshot. */
export function timerUnit(o: Pick<TimerOptions, 'unit' | 'onCalendar' | 'description' | 'persistent' | 'randomizedDelaySec'>): string {
  return [
    '[Unit]',
    `Description=${o.description ?? o.unit} (timer)`,
    '',
    '[Timer]',
    `OnCalendar=${o.onCalendar}`,
    ...(o.persistent !== false ? ['Persistent=true'] : []),
    ...(o.randomizedDelaySec ? [`RandomizedDelaySec=${o.randomizedDelaySec}`] : []),
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

export function timerUnits(o: TimerOptions): { service: string; timer: string } {
  const exec = Array.isArray(o.command) ? o.command.map(sdQuote).join(' ') : `/bin/sh -c ${sdQuote(o.command)}`;
  const service = [
    '[Unit]',
    `Description=${o.description ?? o.unit}`,
    '',
    '[Service]',
    'Type=oneshot',
    ...(o.user ? [`User=${o.user}`] : []),
    `ExecStart=${exec}`,
    '',
  ].join('\n');
  return { service, timer: timerUnit(o) };
}

const commandLine = z.union([str.check(z.refine((c) => !c.includes('\n'), { error: 'must be one line' })), z.array(anyString).check(z.minLength(1))]);

const timerSchema = z.strictObject({
  ...common,
  unit: str.check(z.regex(/^[\w@:.-]+$/, { error: 'expected a unit base name (without .service/.timer)' })),
  onCalendar: str,
  command: commandLine,
  user: z.optional(str),
  description: z.optional(str),
  persistent: z.optional(bool),
  randomizedDelaySec: z.optional(posInt),
  enabled: z.optional(bool),
});

/** The options every module takes, picked out of a wrapper's own (for the tasks it builds on). */
function commonOf(o: TaskOptions): TaskOptions {
  return { tags: o.tags, when: o.when, become: o.become, ignoreErrors: o.ignoreErrors, timeout: o.timeout };
}

export function timer(opts: TimerOptions): Task[] {
  const o = parseOptions('timer', timerSchema, opts);
  const { service, timer: t } = timerUnits(o);
  const on = o.enabled !== false;
  const common = commonOf(o);
  return [
    systemd({ ...common, name: `${o.name ?? `timer ${o.unit}`}: service`, unit: `${o.unit}.service`, content: service }),
    systemd({
      ...common,
      notify: o.notify,
      name: o.name ?? `timer ${o.unit}`,
      unit: `${o.unit}.timer`,
      content: t,
      enabled: on,
      state: on ? 'started' : 'stopped',
    }),
  ];
}

export interface CronOptions extends TaskOptions {
  /** file name under /etc/cron.d ([A-Za-z0-9_-]) */
  cronName: string;
  /** "m h dom mon dow" or @daily etc. */
  schedule: string;
  /** argv (quoted for you) or a shell command line */
  command: string[] | string;
  user?: string;
  state?: 'present' | 'absent';
}

const cronSchema = z.strictObject({
  ...common,
  cronName: str.check(z.regex(/^[A-Za-z0-9_-]+$/, { error: 'expected [A-Za-z0-9_-] (cron.d ignores other file names)' })),
  schedule: str.check(z.regex(/^\s*(@(reboot|yearly|annually|monthly|weekly|daily|hourly)|(\S+\s+){4}\S+)\s*$/, { error: 'expected "m h dom mon dow" or @daily, @hourly, …' })),
  command: commandLine,
  user: z.optional(str),
  state: z._default(z.enum(['present', 'absent']), 'present'),
});

export function cron(opts: CronOptions): Task {
  const o = parseOptions('cron', cronSchema, opts);
  const cmd = (Array.isArray(o.command) ? o.command.map(quote).join(' ') : o.command).replace(/%/g, '\\%');
  const dest = `/etc/cron.d/${o.cronName}`;
  if (o.state === 'absent') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { absent } = require('./file') as typeof import('./file');
    return absent({ ...commonOf(o), notify: o.notify, name: o.name ?? `cron ${o.cronName} absent`, path: dest });
  }
  const content = `# managed by provision\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n${o.schedule.trim()} ${o.user ?? 'root'} ${cmd}\n`;
  return copy({ ...commonOf(o), notify: o.notify, name: o.name ?? `cron ${o.cronName}`, dest, content, mode: '0644', owner: 'root', group: 'root' });
}
