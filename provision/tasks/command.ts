/**
 * command / shell: run something, guarded so a re-run does nothing: creates (skip if the path exists),
 * removes (skip if it does not), unless (skip if this read-only command succeeds), onlyIf (run only if it
 * succeeds). In check mode the guards are evaluated and the command is reported as "would run".
 */
import { quote, sh } from '../quote';
import { reveal, type Secret } from '../secret';
import { defineTask, type ApplyResult, type Plan, type Task, type TaskOptions } from '../task';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandOptions extends TaskOptions {
  /** argv (each word quoted) or a string split on whitespace (no shell features) */
  cmd: string[] | string;
  creates?: string;
  removes?: string;
  unless?: string;
  onlyIf?: string;
  chdir?: string;
  env?: Record<string, string | Secret>;
  /** stdin for the command (a Secret is fine: it never appears in argv) */
  stdin?: string | Secret;
  /** decide changed from the result (default: always changed when it ran) */
  changedWhen?: (r: CommandResult) => boolean;
  /** decide failure from the result (default: exit status != 0) */
  failedWhen?: (r: CommandResult) => boolean;
}

export interface ShellOptions extends Omit<CommandOptions, 'cmd'> {
  /** a shell command line, run with /bin/sh -c */
  cmd: string;
}

function build(line: string, o: Omit<CommandOptions, 'cmd'>): string {
  const env = Object.entries(o.env ?? {})
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name ${JSON.stringify(k)}`);
      return `${k}=${quote(reveal(v))}`;
    })
    .join(' ');
  return `${o.chdir ? sh`cd ${o.chdir} && ` : ''}${env ? `export ${env}; ` : ''}${line}`;
}

function commandTask(module: string, line: string, display: string, o: Omit<CommandOptions, 'cmd'>): Task {
  const guards = [
    o.creates ? sh`if [ -e ${o.creates} ]; then echo "@creates 1"; fi` : '',
    o.removes ? sh`if [ ! -e ${o.removes} ]; then echo "@removes 1"; fi` : '',
    o.unless ? `if ( ${o.unless}\n) >/dev/null 2>&1; then echo "@unless 1"; fi` : '',
    o.onlyIf ? `if ! ( ${o.onlyIf}\n) >/dev/null 2>&1; then echo "@onlyif 1"; fi` : '',
  ].filter(Boolean);
  return defineTask(module, `${module} ${display}`, o, {
    probe: guards.length ? { script: guards.join('\n') } : undefined,
    async plan(ctx, probe): Promise<Plan> {
      const why = /@creates/.test(probe.out)
        ? `${o.creates} exists`
        : /@removes/.test(probe.out)
          ? `${o.removes} does not exist`
          : /@unless/.test(probe.out)
            ? 'unless-command succeeded'
            : /@onlyif/.test(probe.out)
              ? 'onlyIf-command failed'
              : undefined;
      if (why) return { changed: false, msg: `not run: ${why}` };
      return {
        changed: true,
        msg: ctx.check ? 'would run' : undefined,
        apply: async (): Promise<ApplyResult> => {
          const r = await ctx.exec(build(line, o), { stdin: o.stdin === undefined ? undefined : reveal(o.stdin) });
          const res: CommandResult = { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
          const failed = o.failedWhen ? o.failedWhen(res) : r.code !== 0;
          if (failed) {
            const detail = (res.stderr.trim() || res.stdout.trim()).split('\n').slice(-6).join('\n');
            throw new Error(`exit ${r.code ?? r.signal}${detail ? `: ${detail}` : ''}`);
          }
          const changed = o.changedWhen ? o.changedWhen(res) : true;
          const last = res.stdout.trim().split('\n').pop()?.slice(0, 120);
          return { changed, msg: last || undefined };
        },
      };
    },
  });
}

export function command(o: CommandOptions): Task {
  const argv = Array.isArray(o.cmd) ? o.cmd : o.cmd.trim().split(/\s+/);
  if (!argv.length || !argv[0]) throw new Error('command: empty cmd');
  return commandTask('command', argv.map(quote).join(' '), argv.join(' ').slice(0, 60), o);
}

export function shell(o: ShellOptions): Task {
  if (!o.cmd.trim()) throw new Error('shell: empty cmd');
  return commandTask('shell', o.cmd, o.cmd.split('\n')[0]!.slice(0, 60), o);
}
