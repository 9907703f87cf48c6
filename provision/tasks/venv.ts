/**
 * venv: a Python virtualenv with pip requirements, idempotent by a hash of (python, requirements, pip args)
 * stored inside the venv. pip runs only when that hash changes or the venv is missing.
 */
import * as z from 'zod/mini';
import { absolute, anyString, common, parseOptions, str } from '../options';
import { fileContent, fileStat } from '../facts/file';
import { absPath, sha256 } from '../files';
import { ownerSpec, sh } from '../shell';
import { defineTask, run, write, type Plan, type Task, type TaskOptions } from '../task';

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

const schema = z.strictObject({
  ...common,
  path: absolute,
  requirements: z.optional(anyString),
  packages: z.optional(z.array(str)),
  python: z._default(str, 'python3'),
  pipArgs: z.optional(z.array(str)),
  venvArgs: z.optional(z.array(str)),
  owner: z.optional(str),
  group: z.optional(str),
});

export function venv(opts: VenvOptions): Task {
  const o = parseOptions('venv', schema, opts, { exclusive: [['requirements', 'packages']] });
  const path = absPath(o.path);
  const reqs = o.requirements ?? (o.packages ?? []).map((p) => p + '\n').join('');
  const python = o.python;
  const hash = sha256(JSON.stringify([python, reqs, o.pipArgs ?? [], o.venvArgs ?? []]));
  return defineTask('venv', `venv ${path}`, o, {
    facts: { python: fileStat(`${path}/bin/python`), stamp: fileContent(`${path}/${STAMP}`) },
    plan({ python: py, stamp: raw }): Plan {
      const exists = py.type !== 'absent';
      const stamp = raw?.toString().trim();
      if (exists && stamp === hash) return { changed: false };
      const own = ownerSpec(o.owner, o.group);
      return {
        changed: true,
        msg: exists ? 'requirements changed' : 'create venv',
        diff: [{ label: `${path}/requirements.txt`, before: exists ? '(hash ' + (stamp ?? 'none') + ')\n' : '', after: reqs }],
        steps: [
          ...(exists ? [] : [run(sh`${python} -m venv ${o.venvArgs ?? []} -- ${path}`, 'python -m venv')]),
          write(`${path}/requirements.txt`, reqs, { mode: '0644' }),
          ...(reqs.trim() ? [run(sh`${path + '/bin/pip'} install -q --disable-pip-version-check --no-input ${o.pipArgs ?? []} -r ${path + '/requirements.txt'}`, 'pip install')] : []),
          // the stamp last: a failed install leaves the old one, so the next run tries again
          write(`${path}/${STAMP}`, hash + '\n', { mode: '0644' }),
          ...(own ? [run(sh`chown -R ${own} -- ${path}`, 'chown venv')] : []),
        ],
      };
    },
  });
}
