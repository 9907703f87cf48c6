/**
 * venv: a Python virtualenv with pip requirements, idempotent by a hash of (python, requirements, pip args)
 * stored inside the venv. pip runs only when that hash changes or the venv is missing.
 */
import { absPath, sha256, writeFileAtomic } from '../files';
import { quote, sh } from '../quote';
import { defineTask, type Plan, type Task, type TaskOptions } from '../task';

export interface VenvOptions extends TaskOptions {
  /** venv directory */
  path: string;
  /** requirements.txt content */
  requirements?: string;
  /** or a package list (one requirement each) */
  packages?: string[];
  /** interpreter that creates the venv (default python3) */
  python?: string;
  /** extra pip install arguments, e.g. ["--no-index", "--find-links", "/opt/wheels"] */
  pipArgs?: string[];
  /** venv creation arguments, e.g. ["--system-site-packages"] */
  venvArgs?: string[];
  owner?: string;
  group?: string;
}

const STAMP = '.provision-requirements.sha256';

export function venv(o: VenvOptions): Task {
  const path = absPath(o.path);
  const reqs = o.requirements ?? (o.packages ?? []).map((p) => p + '\n').join('');
  const python = o.python ?? 'python3';
  const hash = sha256(JSON.stringify([python, reqs, o.pipArgs ?? [], o.venvArgs ?? []]));
  return defineTask('venv', `venv ${path}`, o, {
    probe: { stat: [`${path}/bin/python`], read: [`${path}/${STAMP}`] },
    async plan(ctx, probe): Promise<Plan> {
      const exists = probe.stat(`${path}/bin/python`).type !== 'absent';
      const stamp = probe.content(`${path}/${STAMP}`)?.toString().trim();
      if (exists && stamp === hash) return { changed: false };
      const own = o.owner || o.group ? `${o.owner ?? ''}${o.group ? ':' + o.group : ''}` : '';
      return {
        changed: true,
        msg: exists ? 'requirements changed' : 'create venv',
        diff: [{ label: `${path}/requirements.txt`, before: exists ? '(hash ' + (stamp ?? 'none') + ')\n' : '', after: reqs }],
        apply: async () => {
          if (!exists) await ctx.run(sh`${python} -m venv ${o.venvArgs ?? []} -- ${path}`, 'python -m venv');
          await writeFileAtomic(ctx, `${path}/requirements.txt`, reqs, { mode: '0644' });
          if (reqs.trim())
            await ctx.run(
              `${quote(path + '/bin/pip')} install -q --disable-pip-version-check --no-input ${(o.pipArgs ?? []).map(quote).join(' ')} -r ${quote(path + '/requirements.txt')}`,
              'pip install',
            );
          await writeFileAtomic(ctx, `${path}/${STAMP}`, hash + '\n', { mode: '0644' });
          if (own) await ctx.run(sh`chown -R ${own} -- ${path}`, 'chown venv');
        },
      };
    },
  });
}
