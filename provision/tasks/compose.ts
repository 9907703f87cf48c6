/**
 * compose: a Docker Compose v2 project in its own directory (compose.yaml + .env + extra files).
 * New files are staged in a temp dir and checked with `docker compose config` BEFORE they replace the old
 * ones; `up -d` runs only when a file changed or the project has no running container. state: absent (or
 * composePrune for projects no longer listed) runs `down` and removes the directory.
 */
import { posix } from 'node:path';
import * as z from 'zod/mini';
import { absolute, anyString, bool, common, optionError, parseOptions, secretOr, str } from '../options';
import type { Needs } from '../fact';
import { composeContainers, type ComposeContainers } from '../facts/docker';
import { fileStat, type FileState } from '../facts/file';
import { glob } from '../facts/glob';
import { diffText, readRemoteFile, sha256 } from '../files';
import { reveal, type Secret } from '../secret';
import { raw, sh } from '../shell';
import { defineTask, run, type Plan, type Task, type TaskOptions } from '../task';

export interface ComposeOptions extends TaskOptions {
  project: string;
  /** default /opt/compose/<project> */
  dir?: string;
  /** compose file: YAML text or an object (serialised as YAML) */
  compose?: string | Record<string, unknown>;
  /** written to .env (mode 0600) and passed as --env-file: values for ${VAR} interpolation */
  env?: Record<string, string | number | Secret>;
  /** extra files in the project dir, by relative name (e.g. "nginx.conf") */
  files?: Record<string, string | Secret>;
  state?: 'present' | 'absent';
  /** --pull policy for up (default "missing") */
  pull?: 'always' | 'missing' | 'never';
  /** start stopped containers even when nothing changed (default true) */
  ensureRunning?: boolean;
}

const NAME = /^[a-z0-9][a-z0-9_-]*$/;

export function envFile(env: Record<string, string | number | Secret>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`compose env: invalid name ${JSON.stringify(k)}`);
      const s = typeof v === 'number' ? String(v) : reveal(v);
      if (s.includes('\n')) throw new Error(`compose env ${k}: value must be one line`);
      // single quotes: compose takes the value literally (no interpolation)
      return `${k}='${s.replace(/'/g, `'\\''`)}'\n`;
    })
    .join('');
}

function composeText(c: string | Record<string, unknown>): string {
  if (typeof c === 'string') return c;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (require('yaml') as typeof import('yaml')).stringify(c);
}

const project = str.check(z.regex(NAME, { error: `expected a project name matching ${NAME} (docker compose's rule)` }));
const schema = z.strictObject({
  ...common,
  project,
  dir: z.optional(absolute),
  compose: z.optional(z.union([anyString, z.record(z.string(), z.unknown())])),
  env: z.optional(z.record(z.string(), z.union([secretOr(anyString), z.number()]))),
  files: z.optional(z.record(z.string(), secretOr(anyString))),
  state: z._default(z.enum(['present', 'absent']), 'present'),
  pull: z._default(z.enum(['always', 'missing', 'never']), 'missing'),
  ensureRunning: z._default(bool, true),
});

export function compose(opts: ComposeOptions): Task {
  const o = parseOptions('compose', schema, opts, { requiredIf: [['state', 'present', ['compose']]] });
  const dir = (o.dir ?? `/opt/compose/${o.project}`).replace(/\/+$/, '');
  const state = o.state;
  const files = new Map<string, { data: string; mode: string }>();
  if (state === 'present') {
    files.set('compose.yaml', { data: composeText(o.compose!), mode: '0644' });
    if (o.env) files.set('.env', { data: envFile(o.env), mode: '0600' });
    for (const [name, v] of Object.entries(o.files ?? {})) {
      if (!/^[\w.-]+$/.test(name) || name === 'compose.yaml' || name === '.env') optionError('compose', opts, `files.${name}`, 'invalid extra file name');
      files.set(name, { data: reveal(v), mode: '0644' });
    }
  }
  return defineTask('compose', `compose ${o.project}${state === 'absent' ? ' absent' : ''}`, o, {
    facts: <Needs>{
      containers: composeContainers(o.project),
      dir: fileStat(dir),
      ...Object.fromEntries([...files.keys()].map((name) => [`file:${name}`, fileStat(`${dir}/${name}`)])),
    },
    plan(f, env): Plan {
      const containers = f.containers as ComposeContainers;
      const stat = (name: string): FileState => f[`file:${name}`] as FileState;
      return planCompose({ ...o, dir, state }, files, containers, f.dir as FileState, stat, env.check);
    },
  });
}

type ComposeFiles = Map<string, { data: string; mode: string }>;

export function planCompose(
  o: ComposeOptions & { dir: string; state: 'present' | 'absent' },
  files: ComposeFiles,
  containers: ComposeContainers,
  dirState: FileState,
  stat: (name: string) => FileState,
  check: boolean,
): Plan {
  const { dir, state } = o;
  if (!containers.usable) {
    if (check && state === 'present') return { changed: true, msg: 'docker not available (check mode: assuming an earlier task installs it)' };
    throw new Error(`docker is not usable: ${containers.error}`);
  }
  const states = containers.states;
  const running = states.filter((s) => s === 'running').length;
  const base = sh`docker compose -p ${o.project} --project-directory ${dir}`;
  if (state === 'absent') {
    if (!states.length && dirState.type === 'absent') return { changed: false };
    return {
      changed: true,
      msg: `down (${states.length} containers), remove ${dir}`,
      diff: [{ label: `compose ${o.project}`, before: `${states.length} containers\n${dir}\n`, after: '' }],
      steps: [
        ...(states.length
          ? [
              run(
                // by the compose file when it is there; by label when it is not (a half-removed project)
                sh`if [ -f ${dir + '/compose.yaml'} ]; then ${raw(base)} -f ${dir + '/compose.yaml'} down --remove-orphans; ` +
                  sh`else ids=$(docker ps -aq --filter label=com.docker.compose.project=${o.project}); if [ -n "$ids" ]; then docker rm -f $ids; fi; fi`,
                'docker compose down',
              ),
            ]
          : []),
        run(sh`rm -rf -- ${dir}`, `remove ${dir}`),
      ],
    };
  }
  const changedFiles = [...files].filter(([name, file]) => {
    const st = stat(name);
    return st.type !== 'file' || st.sha256 !== sha256(file.data) || st.mode !== file.mode;
  });
  const needsUp = changedFiles.length > 0 || running === 0 || (o.ensureRunning !== false && running < states.length);
  if (!needsUp) return { changed: false };
  const envFileArg = (d: string): string => (files.has('.env') ? sh` --env-file ${d + '/.env'}` : '');
  const upCmd = `${base}${sh` -f ${dir + '/compose.yaml'}`}${envFileArg(dir)} up -d --remove-orphans --pull ${o.pull ?? 'missing'}`;
  const up = run(upCmd, 'docker compose up -d', { timeoutMs: 1800_000 });
  return {
    changed: true,
    msg: changedFiles.length ? `update ${changedFiles.map(([n]) => n).join(', ')}; up -d` : running === 0 ? 'up -d (not running)' : 'up -d (some containers stopped)',
    diff: async (ctx) => {
      const items = [];
      for (const [name, file] of changedFiles) items.push({ label: `${dir}/${name}`, before: diffText(await readRemoteFile(ctx, `${dir}/${name}`)), after: file.data });
      return items;
    },
    steps: changedFiles.length ? [] : [up],
    // changed files: stage them all in a temp dir, validate the whole project there, then rename each into place
    apply: changedFiles.length
      ? async (ctx) => {
          const stage = (await ctx.run(sh`mkdir -p -- ${dir} && chmod 0755 ${dir} && rm -rf -- ${dir}/.ptmp.* && mktemp -d ${dir + '/.ptmp.XXXXXX'}`, 'stage compose files')).trim();
          try {
            for (const [name, file] of files) {
              await ctx.run(sh`cat > ${stage + '/' + name} && chmod ${file.mode} ${stage + '/' + name}`, `stage ${name}`, { stdin: Buffer.from(file.data, 'utf8') });
            }
            const check = await ctx.exec(`${base}${sh` -f ${stage + '/compose.yaml'}`}${envFileArg(stage)} config -q`);
            if (check.code !== 0) throw new Error(`docker compose config rejected the new files: ${check.stderr.toString('utf8').trim().split('\n').slice(-3).join(' ')}`);
            await ctx.run([...files.keys()].map((n) => sh`mv -f -- ${stage + '/' + n} ${dir + '/' + n}`).join(' && '), 'install compose files');
          } finally {
            await ctx.exec(sh`rm -rf -- ${stage}`).catch(() => undefined);
          }
          await ctx.run(upCmd, 'docker compose up -d', { timeoutMs: 1800_000 });
        }
      : undefined,
  };
}

export interface ComposePruneOptions extends TaskOptions {
  /** directory holding one sub-directory per project (default /opt/compose) */
  root?: string;
  /** projects to keep: every other project under root is brought down and its directory removed */
  keep: string[];
}

const pruneSchema = z.strictObject({ ...common, root: z._default(absolute, '/opt/compose'), keep: z.array(project) });

export function composePrune(opts: ComposePruneOptions): Task {
  const o = parseOptions('composePrune', pruneSchema, opts);
  const root = o.root.replace(/\/+$/, '');
  return defineTask('compose', `compose prune ${root}`, o, {
    facts: { found: glob(root, '*/compose.yaml') },
    plan({ found }): Plan {
      const gone = found.map((f) => posix.basename(posix.dirname(f))).filter((n) => NAME.test(n) && !o.keep.includes(n));
      if (!gone.length) return { changed: false };
      return {
        changed: true,
        msg: `remove ${gone.join(', ')}`,
        diff: [{ label: `projects in ${root}`, before: gone.map((g) => g + '\n').join(''), after: '' }],
        steps: gone.map((g) => {
          const d = `${root}/${g}`;
          return run(sh`docker compose -p ${g} --project-directory ${d} -f ${d + '/compose.yaml'} down --remove-orphans && rm -rf -- ${d}`, `remove project ${g}`);
        }),
      };
    },
  });
}
