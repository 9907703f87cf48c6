/**
 * The ComfyUI AMI playbook: turns an Ubuntu GPU image that already has the NVIDIA driver (AWS's Deep Learning
 * Base OSS Nvidia Driver AMI) into the ComfyUI GPU image the GPU stack launches.
 *
 *   - a `comfyui` system user; ComfyUI at the pinned git ref in /opt/comfyui/ComfyUI; a venv with torch from the
 *     configured index, then ComfyUI's requirements; custom nodes (+ their requirements); models, sha256-checked;
 *   - comfyui.service (`--listen 0.0.0.0 --port <gpu.comfyuiPort>`), enabled, started and checked to answer;
 *   - the CloudWatch agent (its .deb from amiBuild.cloudwatchAgentUrl) with GPU metrics aggregated to InstanceId,
 *     its EMF listener and ComfyUI's log shipping;
 *   - the idle watchdog (the fourth stop path): a timer running comfyui-watchdog every minute;
 *   - the job worker (comfyui-worker.service): SQS jobs in, ComfyUI, results to S3; hands its job back to the
 *     queue on a Spot interruption notice or a shutdown.
 *
 * `npm run bake-ami` runs it on a builder instance (ami/cli.ts). Run it by hand against any host:
 *
 *   node bin/run.mjs scripts/comfyui-ami.mts -i inventory.yaml [--allow-cpu] [--no-cloudwatch-agent] [--check] [--diff]
 *
 * Values come from the config (ZIGGIE_CONFIG or --config); inventory vars and -e override them (snake_case, see
 * ComfyAmiVars).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { comfyuiSchema, type ZiggieConfig } from '../config/schema';
import { ziggieNames } from '../shared/names';
import { parseCli, type CliOptions } from '../provision/cli';
import { block, definePlaybook, type Playbook, type TaskList } from '../provision/playbook';
import { apt } from '../provision/tasks/apt';
import { command, shell } from '../provision/tasks/command';
import { copy } from '../provision/tasks/copy';
import { download } from '../provision/tasks/download';
import { directory } from '../provision/tasks/file';
import { git } from '../provision/tasks/git';
import { systemd } from '../provision/tasks/systemd';
import { user } from '../provision/tasks/user';
import { venv } from '../provision/tasks/venv';
import { quote, sh } from '../provision/shell';
import {
  PATHS, UNITS, WATCHDOG_SCRIPT, WORKER_SCRIPT, cloudwatchAgentConfigJson, comfyuiUnit, logrotateConfig, torchPipArgs,
  watchdogConfigJson, watchdogService, watchdogTimer, workerConfigJson, workerService,
} from './comfyui/render';
import { pipRequirements, requireGpu, waitForHttp } from './comfyui/tasks';

/**
 * The playbook's variables (snake_case, as an inventory writes them). Not strict at the top level: a host's vars
 * also hold the inventory's connection settings (ansible_host, …) and other playbooks' variables.
 */
export const comfyAmiVarsSchema = z.object({
  comfyui: comfyuiSchema,
  comfyui_port: z.number().int().min(1024).max(65535),
  idle_minutes: z.number().int().min(1).max(240),
  /** go on without an NVIDIA driver (ComfyUI runs with --cpu): the test host, a CPU smoke build */
  allow_cpu: z.boolean().default(false),
  install_cloudwatch_agent: z.boolean().default(true),
  cloudwatch_agent_url: z.string().min(1),
  /** start the watchdog timer now; false (default) only enables it for the next boot, so a builder never
   *  powers itself off half-way through a bake */
  start_watchdog: z.boolean().default(false),
  /** merged into the watchdog's JSON config (tests: poweroff_command, instance_id, emf.address) */
  watchdog_overrides: z.record(z.string(), z.unknown()).default({}),
  /** extra pip arguments for requirements (tests: ["--no-index", "--find-links", "/srv/wheels/pypi"]) */
  pip_args: z.array(z.string()).default([]),
  torch_packages: z.array(z.string().min(1)).min(1).default(['torch', 'torchvision', 'torchaudio']),
  comfyui_user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default('comfyui'),
  /** seconds to wait for ComfyUI to answer after (re)starting it */
  start_timeout: z.number().int().min(5).max(1800).default(300),
  /** the job worker: the SQS queue it takes jobs from, the bucket it writes results to */
  worker: z.strictObject({
    queueUrl: z.string().url(),
    region: z.string().min(1),
    bucket: z.string().min(3),
    visibilitySeconds: z.number().int().min(30).max(43_200),
  }),
  /** start the worker now; false (default) only enables it for the next boot, so a builder never takes jobs */
  start_worker: z.boolean().default(false),
  /** merged into the worker's JSON config (tests: endpoint_url, imds_url, timings) */
  worker_overrides: z.record(z.string(), z.unknown()).default({}),
});

export type ComfyAmiVars = z.input<typeof comfyAmiVarsSchema>;
type Vars = z.output<typeof comfyAmiVarsSchema>;

/** The defaults every run starts from: the config's comfyui section, the GPU's port and idle window. */
export function varsFromConfig(config: ZiggieConfig): ComfyAmiVars {
  return {
    comfyui: config.comfyui,
    comfyui_port: config.gpu.comfyuiPort,
    idle_minutes: config.gpu.idleMinutes,
    cloudwatch_agent_url: config.amiBuild.cloudwatchAgentUrl,
    worker: {
      queueUrl: ziggieNames(config).comfyuiJobsQueueUrl,
      region: config.region,
      bucket: config.storage.assetsBucket,
      visibilitySeconds: config.gpu.queue.visibilityTimeoutSeconds,
    },
  };
}

function parseVars(raw: unknown, host: string): Vars {
  const r = comfyAmiVarsSchema.safeParse(raw);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(vars)'}: ${i.message}`);
  throw new Error(`comfyui-ami vars for ${host}: ${issues.join('; ')}`);
}

/** The tasks for one host, in order. */
export function comfyuiTasks(v: Vars): TaskList {
  const u = v.comfyui_user;
  const own = { owner: u, group: u };
  const restart = 'restart comfyui';
  const restartWorker = v.start_worker ? 'restart worker' : undefined;
  const nodeDir = (name: string) => `${PATHS.comfyui}/custom_nodes/${name}`;
  const modelDirs = [...new Set(v.comfyui.models.map((m) => path.posix.dirname(`${PATHS.comfyui}/models/${m.dest}`)))];
  const unitTask = (cpu: boolean) =>
    systemd({
      name: `systemd ${UNITS.comfyui} (${cpu ? 'CPU' : 'GPU'})`,
      unit: UNITS.comfyui,
      content: comfyuiUnit({ user: u, port: v.comfyui_port, cpu }),
      enabled: true,
      state: 'started',
      when: (h) => (h.facts.gpus.length === 0) === cpu,
    });

  return [
    requireGpu({ allowCpu: v.allow_cpu }),
    apt({ packages: ['git', 'python3-venv', 'curl', 'logrotate'], cacheValidTime: 86_400 }),
    user({ user: u, system: true, home: PATHS.root, shell: '/usr/sbin/nologin', comment: 'ComfyUI' }),
    directory({ path: PATHS.root, mode: '0755', ...own }),

    // ComfyUI at the pinned ref, torch from its index, then ComfyUI's own requirements; custom nodes and theirs.
    // git force: the image's checkouts are the playbook's, so local edits (e.g. made through ComfyUI-Manager on a
    // live instance) are discarded rather than failing a re-run.
    block({ tags: ['comfyui'] }, [
      git({ repo: v.comfyui.repoUrl, version: v.comfyui.ref, dest: PATHS.comfyui, force: true, ...own, notify: restart }),
      venv({ path: PATHS.venv, packages: v.torch_packages, pipArgs: torchPipArgs(v.comfyui.torchIndexUrl), ...own, notify: restart, timeout: 3600 }),
      pipRequirements({ venv: PATHS.venv, file: `${PATHS.comfyui}/requirements.txt`, pipArgs: v.pip_args, ...own, notify: restart, timeout: 3600 }),
      v.comfyui.customNodes.map((n) => [
        git({ name: `custom node ${n.name} @ ${n.ref}`, repo: n.repoUrl, version: n.ref, dest: nodeDir(n.name), force: true, ...own, notify: restart }),
        pipRequirements({
          name: `pip: ${n.name} requirements`, venv: PATHS.venv, file: `${nodeDir(n.name)}/requirements.txt`, optional: true,
          pipArgs: v.pip_args, ...own, notify: restart, timeout: 1800,
        }),
      ]),
    ]),

    // Models, each verified against its sha256 before it is moved into place.
    block({ tags: ['models'] }, [
      modelDirs.map((d) => directory({ path: d, mode: '0755', ...own })),
      v.comfyui.models.map((m) => download({ url: m.url, sha256: m.sha256, dest: `${PATHS.comfyui}/models/${m.dest}`, mode: '0644', ...own, timeout: 7200 })),
    ]),

    // The service (one of the two variants runs: GPU, or --cpu on a host without one), answering on its port.
    block({ tags: ['comfyui'] }, [
      directory({ path: PATHS.logDir, mode: '0755', ...own }),
      unitTask(false),
      unitTask(true),
      copy({ dest: '/etc/logrotate.d/comfyui', content: logrotateConfig(), mode: '0644', owner: 'root', group: 'root' }),
      waitForHttp({ name: 'ComfyUI answers /system_stats', url: `http://127.0.0.1:${v.comfyui_port}/system_stats`, timeoutSeconds: v.start_timeout, unit: UNITS.comfyui, logFile: PATHS.log }),
    ]),

    directory({ path: PATHS.etc, mode: '0755', owner: 'root', group: 'root', tags: ['cloudwatch', 'watchdog'] }),

    // The CloudWatch agent: GPU metrics, the EMF listener the watchdog publishes through, log shipping.
    block({ tags: ['cloudwatch'] }, [
      copy({
        dest: PATHS.cloudwatchAgentConfig, content: cloudwatchAgentConfigJson(), mode: '0644', owner: 'root', group: 'root',
        notify: v.install_cloudwatch_agent ? 'configure cloudwatch agent' : undefined,
      }),
      v.install_cloudwatch_agent && shell({
        name: 'install the CloudWatch agent',
        cmd: [
          'set -e',
          't=$(mktemp -d)',
          `trap 'rm -rf "$t"' EXIT`,
          sh`curl -fsSL --retry 3 -o "$t/amazon-cloudwatch-agent.deb" -- ${v.cloudwatch_agent_url}`,
          'DEBIAN_FRONTEND=noninteractive dpkg -i "$t/amazon-cloudwatch-agent.deb"',
        ].join('\n'),
        creates: PATHS.cloudwatchAgentCtl,
        notify: 'configure cloudwatch agent',
        timeout: 600,
      }),
    ]),

    // The idle watchdog: the fourth stop path.
    block({ tags: ['watchdog'] }, [
      copy({ dest: PATHS.watchdogBin, src: WATCHDOG_SCRIPT, mode: '0755', owner: 'root', group: 'root' }),
      copy({
        dest: PATHS.watchdogConfig,
        content: watchdogConfigJson({ comfyuiPort: v.comfyui_port, idleMinutes: v.idle_minutes, overrides: v.watchdog_overrides }),
        mode: '0644', owner: 'root', group: 'root',
      }),
      systemd({ unit: UNITS.watchdogService, content: watchdogService() }),
      systemd({ unit: UNITS.watchdogTimer, content: watchdogTimer(), enabled: true, state: v.start_watchdog ? 'started' : undefined }),
    ]),

    // The job worker: SQS jobs in, ComfyUI, S3 results out; boto3 from the distribution, credentials from IMDSv2.
    // Restarted on change only where it runs (start_worker): a builder must never start taking jobs.
    block({ tags: ['worker'] }, [
      apt({ packages: ['python3-boto3'], cacheValidTime: 86_400 }),
      copy({ dest: PATHS.workerBin, src: WORKER_SCRIPT, mode: '0755', owner: 'root', group: 'root', notify: restartWorker }),
      copy({
        dest: PATHS.workerConfig,
        content: workerConfigJson({ ...v.worker, comfyuiPort: v.comfyui_port, overrides: v.worker_overrides }),
        mode: '0644', owner: 'root', group: 'root', notify: restartWorker,
      }),
      systemd({ unit: UNITS.worker, content: workerService(), enabled: true, state: v.start_worker ? 'started' : undefined, notify: restartWorker }),
    ]),
  ];
}

function handlers(v: Vars): TaskList {
  return [
    v.start_worker && systemd({ name: 'restart worker', unit: UNITS.worker, state: 'restarted' }),
    systemd({ name: 'restart comfyui', unit: UNITS.comfyui, state: 'restarted', notify: 'wait for comfyui' }),
    waitForHttp({ name: 'wait for comfyui', url: `http://127.0.0.1:${v.comfyui_port}/system_stats`, timeoutSeconds: v.start_timeout, unit: UNITS.comfyui, logFile: PATHS.log }),
    v.install_cloudwatch_agent && command({
      name: 'configure cloudwatch agent',
      cmd: [PATHS.cloudwatchAgentCtl, '-a', 'fetch-config', '-m', 'ec2', '-s', '-c', `file:${PATHS.cloudwatchAgentConfig}`],
      timeout: 120,
    }),
  ];
}

/** The playbook. `defaults` are usually varsFromConfig(config); inventory vars and --extra-vars override them. */
export function comfyuiAmiPlaybook(defaults: Partial<ComfyAmiVars> = {}): Playbook<ComfyAmiVars> {
  return definePlaybook<ComfyAmiVars>({
    name: 'comfyui-ami',
    hosts: 'all',
    become: true,
    vars: defaults,
    tasks: (host) => comfyuiTasks(parseVars(host.vars, host.name)),
    handlers: (host) => handlers(parseVars(host.vars, host.name)),
  });
}

/**
 * The bake's last step before the image: remove what only the builder needed. The temporary key's public half
 * leaves the login user's authorized_keys (its private half is deleted anyway), and cloud-init forgets this
 * instance so the image's first boot is a first boot. The open SSH session is not affected.
 */
export function sealPlaybook(sshUser: string): Playbook {
  return definePlaybook({
    name: 'comfyui-ami-seal',
    hosts: 'all',
    become: true,
    tasks: () => [
      shell({
        name: 'seal the image (builder key, cloud-init state, logs)',
        cmd: [
          sh`h=$(getent passwd ${sshUser} | cut -d: -f6); [ -n "$h" ] && rm -f -- "$h/.ssh/authorized_keys"`,
          'if command -v cloud-init >/dev/null 2>&1; then cloud-init clean --logs; fi',
          `: > ${quote(PATHS.log)} 2>/dev/null || true`,
          'rm -rf /run/ziggie-watchdog',
          'journalctl --rotate >/dev/null 2>&1 && journalctl --vacuum-time=1s >/dev/null 2>&1 || true',
        ].join('\n'),
      }),
    ],
  });
}

/** sha256 over the playbook's sources (this file, playbooks/comfyui/*): tagged on the image. */
export function playbookHash(): string {
  const h = createHash('sha256');
  const dir = path.join(__dirname, 'comfyui');
  const sources = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile() && /\.(ts|js|py|json)$/.test(d.name));
  const files = [__filename, ...sources.map((d) => path.join(dir, d.name)).sort()];
  for (const f of files) {
    h.update(path.relative(__dirname, f).replace(/\.js$/, '.ts') + '\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

// ------------------------------------------------------------------------------------------------------------
// Command line (scripts/comfyui-ami.mts): the engine's options (--inventory, --check, --diff, --limit, --tags, -e
// ...) plus three of its own.
// ------------------------------------------------------------------------------------------------------------

export interface ComfyAmiCli {
  options: CliOptions;
  configFile?: string;
  allowCpu: boolean;
  cloudwatchAgent: boolean;
}

/** Parse argv (process.argv shape); throws like parseCli (after --help: exitCode 0; bad input: ProvisionInputError). */
export function parseComfyAmiCli(argv: string[]): ComfyAmiCli {
  const options = parseCli(argv, {
    name: 'comfyui-ami',
    description: 'Install ComfyUI, the CloudWatch agent and the idle watchdog on an Ubuntu GPU host. Tags: comfyui, models, cloudwatch, watchdog, worker.',
    options: (p) => p
      .option('--config <file>', 'config file (default: $ZIGGIE_CONFIG or config/ziggie.example.yaml)')
      .option('--allow-cpu', 'no NVIDIA driver: ComfyUI runs with --cpu', false)
      .option('--no-cloudwatch-agent', 'write the CloudWatch agent\'s config, do not install it'),
  });
  const o = options.all as { config?: string; allowCpu: boolean; cloudwatchAgent: boolean };
  return { options, configFile: o.config, allowCpu: o.allowCpu, cloudwatchAgent: o.cloudwatchAgent };
}
