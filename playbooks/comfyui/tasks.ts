/**
 * Three small tasks the provisioning engine (provision/tasks) has no module for. Same contract as the engine's:
 * facts declared as data, a pure plan(), acts only as steps; check mode never acts, and the wait runs after the
 * act, never inside plan().
 */
import { commandOutput } from '../../provision/facts/command';
import { fileContent, fileStat } from '../../provision/facts/file';
import { sha256 } from '../../provision/files';
import * as z from 'zod/mini';
import { absolute, bool, common, parseOptions, str } from '../../provision/options';
import { ownerSpec, sh } from '../../provision/shell';
import { defineTask, run, write, type Plan, type Task, type TaskOptions } from '../../provision/task';

export interface RequireGpuOptions extends TaskOptions {
  /** no NVIDIA driver is fine (the test host, a CPU smoke build): ComfyUI then runs with --cpu */
  allowCpu: boolean;
}

/** `nvidia-smi -L`'s GPU lines; "missing" when nvidia-smi is not installed. */
const NVIDIA_SMI = 'if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L 2>&1 | head -8; else exit 127; fi';

export function planRequireGpu(o: RequireGpuOptions, smi: { code: number; out: string }): Plan {
  const gpus = smi.out.split('\n').filter((l) => /^GPU \d+:/.test(l));
  if (gpus.length) return { changed: false, msg: gpus.join('; ') };
  const why = smi.code === 127 ? 'nvidia-smi is not installed' : `nvidia-smi finds no GPU (${smi.out.split('\n')[0]?.trim() || 'no output'})`;
  if (!o.allowCpu) {
    throw new Error(
      `${why}: this playbook is for a GPU image that already has the NVIDIA driver (e.g. AWS's Deep Learning ` +
        'Base OSS Nvidia Driver AMI, Ubuntu 22.04). Pass --allow-cpu (vars: allow_cpu: true) to install anyway; ComfyUI then runs with --cpu.',
    );
  }
  return { changed: false, msg: `${why}; allow_cpu: ComfyUI runs with --cpu` };
}

/** Fails the play, before anything changes, on an image without a working NVIDIA driver. Never changes anything. */
export function requireGpu(opts: RequireGpuOptions): Task {
  const o = parseOptions('requireGpu', z.strictObject({ ...common, allowCpu: bool }), opts);
  return defineTask('assert', 'NVIDIA driver present (nvidia-smi -L)', o, {
    facts: { smi: commandOutput(NVIDIA_SMI) },
    plan: ({ smi }) => planRequireGpu(o, smi),
  });
}

export interface PipRequirementsOptions extends TaskOptions {
  venv: string;
  /** a requirements file ON THE HOST (e.g. inside a git checkout) */
  file: string;
  pipArgs?: string[];
  /** a missing file is fine (a custom node without requirements) */
  optional?: boolean;
  owner?: string;
  group?: string;
}

/**
 * pip install -r <file on the host>, idempotent by a stamp in the venv holding sha256(file content + pip args):
 * a new ComfyUI ref with new requirements reinstalls, an unchanged one costs nothing more than the batched
 * sha256sum of the file facts. A failed install leaves the old stamp, so the next run tries again.
 */
const pipSchema = z.strictObject({
  ...common,
  venv: absolute,
  file: absolute,
  pipArgs: z.optional(z.array(str)),
  optional: z.optional(bool),
  owner: z.optional(str),
  group: z.optional(str),
});

export function pipRequirements(opts: PipRequirementsOptions): Task {
  const o = parseOptions('pipRequirements', pipSchema, opts);
  const stamp = `${o.venv}/.ziggie-requirements-${sha256(o.file).slice(0, 12)}.sha256`;
  const args = o.pipArgs ?? [];
  return defineTask('pip', `pip install -r ${o.file}`, o, {
    facts: { pip: fileStat(`${o.venv}/bin/pip`), stamp: fileContent(stamp), reqs: fileStat(o.file) },
    plan({ pip, stamp: stampContent, reqs }, env): Plan {
      if (reqs.type !== 'file') {
        if (o.optional) return { changed: false, msg: 'no requirements file' };
        if (env.check) return { changed: true, msg: `${o.file} does not exist yet (check mode: assuming an earlier task creates it)` };
        throw new Error(`${o.file} does not exist`);
      }
      const want = sha256(JSON.stringify([reqs.sha256, args]));
      const have = stampContent?.toString().trim();
      if (pip.type !== 'absent' && have === want) return { changed: false };
      const own = ownerSpec(o.owner, o.group);
      return {
        changed: true,
        msg: have ? 'requirements changed' : 'install',
        diff: [{ label: stamp, before: have ? `${have}\n` : '', after: `${want}\n` }],
        steps: [
          run(sh`${o.venv + '/bin/pip'} install -q --disable-pip-version-check --no-input ${args} -r ${o.file}`, `pip install -r ${o.file}`),
          write(stamp, want + '\n', { mode: '0644' }),
          ...(own ? [run(sh`chown -R ${own} -- ${o.venv}`, 'chown venv')] : []),
        ],
      };
    },
  });
}

export interface WaitForHttpOptions extends TaskOptions {
  url: string;
  timeoutSeconds: number;
  /** shown when it never answers (e.g. the service's log file) */
  logFile?: string;
  unit?: string;
}

/** The script that polls url (on the host) once a second until it answers 2xx, for at most timeoutSeconds. */
export function waitScript(o: WaitForHttpOptions): string {
  return [
    sh`u=${o.url}; n=${o.timeoutSeconds}`,
    'i=0',
    'while [ "$i" -lt "$n" ]; do',
    '  if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time 2 -- "$u" 2>/dev/null && exit 0',
    `  else python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$u" 2>/dev/null && exit 0; fi`,
    '  i=$((i+1)); sleep 1',
    'done',
    o.unit ? sh`systemctl status --no-pager -n 0 ${o.unit} 2>&1 | head -5` : '',
    o.logFile ? sh`tail -n 15 ${o.logFile} 2>&1` : '',
    'exit 1',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Waits (on the host) until url answers 2xx. Read-only: always "ok"; skipped in check mode. */
const waitSchema = z.strictObject({
  ...common,
  url: str.check(z.regex(/^https?:\/\//, { error: 'expected an http(s):// URL' })),
  timeoutSeconds: z.number().check(z.int(), z.positive()),
  logFile: z.optional(absolute),
  unit: z.optional(str),
});

export function waitForHttp(opts: WaitForHttpOptions): Task {
  const o = parseOptions('waitForHttp', waitSchema, opts);
  return defineTask('wait_for', o.name ?? `wait for ${o.url}`, o, {
    plan(_facts, env): Plan {
      if (env.check) return { changed: false, skipped: 'check mode: not waiting' };
      return {
        changed: false,
        wait: async (ctx) => {
          const t0 = Date.now();
          const r = await ctx.exec(waitScript(o), { timeoutMs: (o.timeoutSeconds + 30) * 1000, retryable: true });
          if (r.code !== 0) {
            const tail = r.stdout.toString().trim().split('\n').slice(-12).join('\n');
            throw new Error(`${o.url} did not answer within ${o.timeoutSeconds} s${tail ? `:\n${tail}` : ''}`);
          }
          return `answered after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
        },
      };
    },
  });
}
