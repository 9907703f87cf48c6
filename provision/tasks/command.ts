/**
 * command / shell: run something, guarded so a re-run does nothing: creates (skip if the path exists),
 * removes (skip if it does not), unless (skip if this read-only command succeeds), onlyIf (run only if it
 * succeeds). In check mode the guards are evaluated and the command is reported as "would run".
 */
import * as z from 'zod/mini';
import { absolute, anyString, common, func, optionError, parseOptions, secretOr, str } from '../options';
import type { Needs } from '../fact';
import { exitStatus } from '../facts/command';
import { fileStat, type FileState } from '../facts/file';
import { quote, sh } from '../shell';
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
  return defineTask(module, `${module} ${display}`, o, {
    facts: <Needs>{
      ...(o.creates ? { creates: fileStat(o.creates) } : {}),
      ...(o.removes ? { removes: fileStat(o.removes) } : {}),
      ...(o.unless ? { unless: exitStatus(o.unless) } : {}),
      ...(o.onlyIf ? { onlyIf: exitStatus(o.onlyIf) } : {}),
    },
    plan(f, env): Plan {
      const exists = (k: string): boolean => (f[k] as FileState).type !== 'absent';
      const why =
        o.creates && exists('creates') ? `${o.creates} exists`
        : o.removes && !exists('removes') ? `${o.removes} does not exist`
        : o.unless && f.unless === 0 ? 'unless-command succeeded'
        : o.onlyIf && f.onlyIf !== 0 ? 'onlyIf-command failed'
        : undefined;
      if (why) return { changed: false, msg: `not run: ${why}` };
      return {
        changed: true,
        msg: env.check ? 'would run' : undefined,
        apply: async (ctx): Promise<ApplyResult> => {
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

const guards = {
  ...common,
  creates: z.optional(str),
  removes: z.optional(str),
  unless: z.optional(str),
  onlyIf: z.optional(str),
  chdir: z.optional(absolute),
  env: z.optional(z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' })), secretOr(anyString))),
  stdin: z.optional(secretOr(anyString)),
  changedWhen: z.optional(func),
  failedWhen: z.optional(func),
};
const commandSchema = z.strictObject({ ...guards, cmd: z.union([str, z.array(anyString).check(z.minLength(1, { error: 'expected at least the program' }))]) });
const shellSchema = z.strictObject({ ...guards, cmd: str });

export function command(opts: CommandOptions): Task {
  parseOptions('command', commandSchema, opts);
  const o = opts;
  const argv = Array.isArray(o.cmd) ? o.cmd : o.cmd.trim().split(/\s+/);
  if (!argv.length || !argv[0]) optionError('command', opts, 'cmd', 'empty command');
  return commandTask('command', argv.map(quote).join(' '), argv.join(' ').slice(0, 60), o);
}

export function shell(opts: ShellOptions): Task {
  parseOptions('shell', shellSchema, opts);
  const o = opts;
  if (!o.cmd.trim()) optionError('shell', opts, 'cmd', 'empty command');
  return commandTask('shell', o.cmd, o.cmd.split('\n')[0]!.slice(0, 60), o);
}
