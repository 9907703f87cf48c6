/**
 * compose: a Docker Compose v2 project in its own directory (compose.yaml + .env + extra files).
 * New files are staged in a temp dir and checked with `docker compose config` BEFORE they replace the old
 * ones; `up -d` runs only when a file changed or the project has no running container. state: absent (or
 * composePrune for projects no longer listed) runs `down` and removes the directory.
 */
import { sha256 } from '../files';
import { quote, sh } from '../quote';
import { reveal, type Secret } from '../secret';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';

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

export function compose(o: ComposeOptions): Task {
  if (!NAME.test(o.project)) throw new Error(`compose: project name must match ${NAME} (docker compose's rule), got ${JSON.stringify(o.project)}`);
  const dir = (o.dir ?? `/opt/compose/${o.project}`).replace(/\/+$/, '');
  if (!dir.startsWith('/')) throw new Error(`compose ${o.project}: dir must be absolute`);
  const state = o.state ?? 'present';
  if (state === 'present' && o.compose === undefined) throw new Error(`compose ${o.project}: compose is required`);
  const files = new Map<string, { data: string; mode: string }>();
  if (state === 'present') {
    files.set('compose.yaml', { data: composeText(o.compose!), mode: '0644' });
    if (o.env) files.set('.env', { data: envFile(o.env), mode: '0600' });
    for (const [name, v] of Object.entries(o.files ?? {})) {
      if (!/^[\w.-]+$/.test(name) || name === 'compose.yaml' || name === '.env') throw new Error(`compose ${o.project}: invalid extra file name ${JSON.stringify(name)}`);
      files.set(name, { data: reveal(v), mode: '0644' });
    }
  }
  const paths = [...files.keys()].map((f) => `${dir}/${f}`);
  const p = quote(o.project);
  const script = `docker ps -a --filter label=com.docker.compose.project=${p} --format '{{.State}}' 2>&1; echo "@rc $?"`;
  const base = sh`docker compose -p ${o.project} --project-directory ${dir} -f ${dir + '/compose.yaml'}` + (files.has('.env') ? sh` --env-file ${dir + '/.env'}` : '');
  return defineTask('compose', `compose ${o.project}${state === 'absent' ? ' absent' : ''}`, o, {
    probe: { stat: [dir, ...paths], script },
    async plan(ctx, probe): Promise<Plan> {
      const rc = /@rc (\d+)/.exec(probe.out)?.[1];
      if (rc !== '0') {
        if (ctx.check && state === 'present') return { changed: true, msg: 'docker not available (check mode: assuming an earlier task installs it)' };
        throw new Error(`docker is not usable: ${probe.out.replace(/@rc \d+/, '').trim().split('\n')[0]}`);
      }
      const states = probe.out.split('\n').filter((l) => l && !l.startsWith('@rc'));
      const running = states.filter((s) => s === 'running').length;
      const dirState = probe.stat(dir);
      if (state === 'absent') {
        if (!states.length && dirState.type === 'absent') return { changed: false };
        return {
          changed: true,
          msg: `down (${states.length} containers), remove ${dir}`,
          diff: [{ label: `compose ${o.project}`, before: `${states.length} containers\n${dir}\n`, after: '' }],
          apply: async () => {
            const hasFile = (await ctx.exec(sh`[ -f ${dir + '/compose.yaml'} ]`)).code === 0;
            if (states.length)
              await ctx.run(
                hasFile
                  ? sh`docker compose -p ${o.project} --project-directory ${dir} -f ${dir + '/compose.yaml'} down --remove-orphans`
                  : `docker rm -f $(docker ps -aq --filter label=com.docker.compose.project=${p})`,
                'docker compose down',
              );
            await ctx.run(sh`rm -rf -- ${dir}`, `remove ${dir}`);
          },
        };
      }
      const changedFiles = [...files].filter(([name, f]) => {
        const st = probe.stat(`${dir}/${name}`);
        return st.type !== 'file' || st.sha256 !== sha256(f.data) || st.mode !== f.mode;
      });
      const needsUp = changedFiles.length > 0 || running === 0 || (o.ensureRunning !== false && running < states.length);
      if (!needsUp) return { changed: false };
      const msg = changedFiles.length ? `update ${changedFiles.map(([n]) => n).join(', ')}; up -d` : running === 0 ? 'up -d (not running)' : 'up -d (some containers stopped)';
      return {
        changed: true,
        msg,
        diff: async () => {
          const items = [];
          for (const [name, f] of changedFiles) {
            const r = await ctx.exec(sh`cat -- ${dir + '/' + name} 2>/dev/null`);
            items.push({ label: `${dir}/${name}`, before: r.code === 0 ? r.stdout.toString('utf8') : '', after: f.data });
          }
          return items;
        },
        apply: async () => {
          if (changedFiles.length) {
            // stage every file in a temp dir, validate the whole project there, then rename each into place
            const stage = (
              await ctx.run(
                sh`mkdir -p -- ${dir} && chmod 0755 ${dir} && rm -rf -- ${dir}/.ptmp.* && mktemp -d ${dir + '/.ptmp.XXXXXX'}`,
                'stage compose files',
              )
            ).trim();
            try {
              for (const [name, f] of files) {
                await ctx.run(`cat > ${quote(stage + '/' + name)} && chmod ${f.mode} ${quote(stage + '/' + name)}`, `stage ${name}`, { stdin: Buffer.from(f.data, 'utf8') });
              }
              const check = await ctx.exec(
                sh`docker compose -p ${o.project} --project-directory ${dir} -f ${stage + '/compose.yaml'}` +
                  (files.has('.env') ? sh` --env-file ${stage + '/.env'}` : '') +
                  ' config -q',
              );
              if (check.code !== 0) throw new Error(`docker compose config rejected the new files: ${check.stderr.toString('utf8').trim().split('\n').slice(-3).join(' ')}`);
              await ctx.run([...files.keys()].map((n) => sh`mv -f -- ${stage + '/' + n} ${dir + '/' + n}`).join(' && '), 'install compose files');
            } finally {
              await ctx.exec(sh`rm -rf -- ${stage}`).catch(() => undefined);
            }
          }
          await ctx.run(`${base} up -d --remove-orphans --pull ${o.pull ?? 'missing'}`, 'docker compose up -d', { timeoutMs: 1800_000 });
        },
      };
    },
  });
}

export interface ComposePruneOptions extends TaskOptions {
  /** directory holding one sub-directory per project (default /opt/compose) */
  root?: string;
  /** projects to keep: every other project under root is brought down and its directory removed */
  keep: string[];
}

export function composePrune(o: ComposePruneOptions): Task {
  const root = (o.root ?? '/opt/compose').replace(/\/+$/, '');
  const script = sh`for d in ${root}/*/; do [ -f "$d/compose.yaml" ] && basename "$d"; done 2>/dev/null; true`;
  return defineTask('compose', `compose prune ${root}`, o, {
    probe: { script },
    async plan(ctx, probe): Promise<Plan> {
      const gone = probe.out.split('\n').filter((n) => n && NAME.test(n) && !o.keep.includes(n));
      if (!gone.length) return { changed: false };
      return {
        changed: true,
        msg: `remove ${gone.join(', ')}`,
        diff: [{ label: `projects in ${root}`, before: gone.map((g) => g + '\n').join(''), after: '' }],
        apply: async () => {
          for (const g of gone) {
            const d = `${root}/${g}`;
            await ctx.run(sh`docker compose -p ${g} --project-directory ${d} -f ${d + '/compose.yaml'} down --remove-orphans && rm -rf -- ${d}`, `remove project ${g}`);
          }
        },
      };
    },
  });
}
