/**
 * Everything the ComfyUI AMI playbook writes to the host, rendered from typed values: the ComfyUI unit, the idle
 * watchdog's config and units, the CloudWatch agent config and logrotate. Pure functions (no I/O), so unit tests
 * check the contract with the GPU stack without a host.
 */
import path from 'node:path';
import { ASSET_PREFIXES } from '../../shared/storage-prefixes';
import { COMFYUI_QUEUE_METRIC, GPU_UTILIZATION_METRIC, IDLE_THRESHOLDS } from '../../shared/gpu-signals';
import { GPU_NAMES } from '../../shared/names';

/** The watchdog script shipped to /usr/local/bin/comfyui-watchdog (Python 3 standard library only). */
export const WATCHDOG_SCRIPT = path.join(__dirname, 'comfyui-watchdog.py');

/** The job worker shipped to /usr/local/bin/comfyui-worker (Python 3 + boto3). */
export const WORKER_SCRIPT = path.join(__dirname, 'comfyui-worker.py');

/**
 * The log group the GPU stack creates for the instance (modules/gpu/instance.ts `comfyui-logs`; its instance profile may
 * create streams and put events there only). ComfyUI's log and the watchdog's EMF events go to it.
 */
export const COMFYUI_LOG_GROUP = GPU_NAMES.comfyuiLogGroup;

/** The CloudWatch agent's embedded-metric-format listener ("logs.metrics_collected.emf"). */
export const EMF_ADDRESS = 'tcp://127.0.0.1:25888';

export const PATHS = {
  root: '/opt/comfyui',
  comfyui: '/opt/comfyui/ComfyUI',
  venv: '/opt/comfyui/venv',
  logDir: '/var/log/comfyui',
  log: '/var/log/comfyui/comfyui.log',
  etc: '/etc/ziggie',
  watchdogBin: '/usr/local/bin/comfyui-watchdog',
  watchdogConfig: '/etc/ziggie/comfyui-watchdog.json',
  watchdogState: '/run/ziggie-watchdog/state.json',
  workerBin: '/usr/local/bin/comfyui-worker',
  workerConfig: '/etc/ziggie/comfyui-worker.json',
  /** The worker's view of the job queue, read by the watchdog (which has no AWS credentials). */
  workerStatus: '/run/ziggie-worker/status.json',
  cloudwatchAgentConfig: '/etc/ziggie/cloudwatch-agent.json',
  cloudwatchAgentCtl: '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl',
} as const;

export const UNITS = {
  comfyui: 'comfyui.service',
  watchdogService: 'comfyui-watchdog.service',
  watchdogTimer: 'comfyui-watchdog.timer',
  worker: 'comfyui-worker.service',
} as const;

export interface ComfyuiUnitOptions {
  user: string;
  port: number;
  /** no GPU on this host: run ComfyUI with --cpu */
  cpu: boolean;
  /** extra ComfyUI arguments (already split; each becomes one word) */
  extraArgs?: string[];
}

/** systemd quoting for an ExecStart word. */
function sdWord(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s.replace(/%/g, '%%');
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;
}

export function comfyuiUnit(o: ComfyuiUnitOptions): string {
  const args = ['--listen', '0.0.0.0', '--port', String(o.port), ...(o.cpu ? ['--cpu'] : []), ...(o.extraArgs ?? [])];
  return [
    '# Managed by ziggie-infra playbooks/comfyui-ami.ts: edits are overwritten by the next bake.',
    '[Unit]',
    'Description=ComfyUI (ziggie)',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${o.user}`,
    `Group=${o.user}`,
    `WorkingDirectory=${PATHS.comfyui}`,
    'Environment=PYTHONUNBUFFERED=1',
    `ExecStart=${[`${PATHS.venv}/bin/python`, 'main.py', ...args].map(sdWord).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=5',
    // A file the CloudWatch agent ships to the log group (journald is not an agent source); logrotate trims it.
    // Its directory comes from the playbook: systemd opens append: files before it would create LogsDirectory=.
    `StandardOutput=append:${PATHS.log}`,
    'StandardError=inherit',
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
    'ProtectSystem=full',
    'ProtectHome=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export interface WatchdogConfigOptions {
  comfyuiPort: number;
  idleMinutes: number;
  /** merged last: tests point poweroff_command, instance_id or the EMF address at fakes */
  overrides?: Record<string, unknown>;
}

/** /etc/ziggie/comfyui-watchdog.json: the contract values come from shared/gpu-signals.ts, never retyped. */
export function watchdogConfig(o: WatchdogConfigOptions) {
  return {
    comfyui_url: `http://127.0.0.1:${o.comfyuiPort}`,
    idle_minutes: o.idleMinutes,
    thresholds: {
      cpu_percent: IDLE_THRESHOLDS.cpuPercent,
      gpu_percent: IDLE_THRESHOLDS.gpuPercent,
      queue_depth: IDLE_THRESHOLDS.queueDepth,
    },
    metric: { namespace: COMFYUI_QUEUE_METRIC.namespace, name: COMFYUI_QUEUE_METRIC.name, dimension: 'InstanceId' },
    emf: { address: EMF_ADDRESS, log_group: COMFYUI_LOG_GROUP, log_stream: 'comfyui-watchdog' },
    state_file: PATHS.watchdogState,
    poweroff_command: ['systemctl', 'poweroff'],
    inhibit_files: [`${PATHS.etc}/watchdog.inhibit`, '/run/ziggie-watchdog/inhibit'],
    // Jobs waiting in (or taken from) the SQS queue keep the instance up; older than this, the file is unknown.
    worker_status_file: PATHS.workerStatus,
    worker_status_max_age_seconds: 180,
    imds_url: 'http://169.254.169.254',
    instance_id: null as string | null,
    nvidia_smi: 'nvidia-smi',
    aws_cli_fallback: true,
    timeout_seconds: 5,
    ...(o.overrides ?? {}),
  };
}

export function watchdogConfigJson(o: WatchdogConfigOptions): string {
  return JSON.stringify(watchdogConfig(o), null, 2) + '\n';
}

/** Oneshot, as root (it powers the machine off), sandboxed: it may write its state dir in /run and nothing else. */
export function watchdogService(): string {
  return [
    '# Managed by ziggie-infra playbooks/comfyui-ami.ts.',
    '[Unit]',
    'Description=ComfyUI idle watchdog: publish the queue depth, power off after the idle window',
    `After=${UNITS.comfyui}`,
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/usr/bin/python3 ${PATHS.watchdogBin} --config ${PATHS.watchdogConfig}`,
    // /run is tmpfs: the idle clock starts again at every boot, so a freshly started instance is never stopped
    // for idleness it had before it was last stopped.
    'RuntimeDirectory=ziggie-watchdog',
    'RuntimeDirectoryPreserve=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'NoNewPrivileges=yes',
    'TimeoutStartSec=60',
    '',
  ].join('\n');
}

export function watchdogTimer(): string {
  return [
    '# Managed by ziggie-infra playbooks/comfyui-ami.ts.',
    '[Unit]',
    'Description=Run the ComfyUI idle watchdog every minute',
    '',
    '[Timer]',
    'OnBootSec=1min',
    'OnUnitActiveSec=1min',
    'AccuracySec=1s',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/**
 * The CloudWatch agent: GPU utilisation (nvidia_smi plugin) aggregated to [["InstanceId"]] so the GPU stack's
 * alarm can name `CWAgent nvidia_smi_utilization_gpu {InstanceId}` exactly; the EMF listener the watchdog
 * publishes the queue depth through; ComfyUI's log file shipped to the instance's log group.
 */
export function cloudwatchAgentConfig() {
  const measurement = GPU_UTILIZATION_METRIC.name.replace(/^nvidia_smi_/, '');
  return {
    agent: { metrics_collection_interval: 60, run_as_user: 'cwagent' },
    metrics: {
      namespace: GPU_UTILIZATION_METRIC.namespace,
      append_dimensions: { InstanceId: '${aws:InstanceId}' },
      aggregation_dimensions: [['InstanceId']],
      metrics_collected: {
        nvidia_gpu: {
          measurement: [measurement, 'utilization_memory', 'memory_used', 'memory_total', 'temperature_gpu'],
          metrics_collection_interval: 60,
        },
      },
    },
    logs: {
      metrics_collected: { emf: {} },
      logs_collected: {
        files: {
          collect_list: [
            { file_path: PATHS.log, log_group_name: COMFYUI_LOG_GROUP, log_stream_name: '{instance_id}-comfyui' },
          ],
        },
      },
    },
  };
}

export function cloudwatchAgentConfigJson(): string {
  return JSON.stringify(cloudwatchAgentConfig(), null, 2) + '\n';
}

export function logrotateConfig(): string {
  return [
    `${PATHS.log} {`,
    '  daily',
    '  rotate 7',
    '  maxsize 50M',
    '  missingok',
    '  notifempty',
    '  compress',
    '  delaycompress',
    // systemd holds the file open (StandardOutput=append:): truncate in place.
    '  copytruncate',
    '}',
    '',
  ].join('\n');
}

/** pip arguments for the torch install: a local directory stands in for the index in tests. */
export function torchPipArgs(indexUrl: string): string[] {
  if (indexUrl.startsWith('/')) return ['--no-index', '--find-links', indexUrl];
  if (indexUrl.startsWith('file://')) return ['--no-index', '--find-links', indexUrl.slice('file://'.length)];
  return ['--index-url', indexUrl];
}

export interface WorkerConfigOptions {
  queueUrl: string;
  region: string;
  bucket: string;
  comfyuiPort: number;
  visibilitySeconds: number;
  /** merged last: tests point endpoint_url, imds_url and the timings at local stand-ins */
  overrides?: Record<string, unknown>;
}

/** /etc/ziggie/comfyui-worker.json: the queue and the results location come from the config, never retyped. */
export function workerConfig(o: WorkerConfigOptions) {
  return {
    queue_url: o.queueUrl,
    region: o.region,
    bucket: o.bucket,
    results_prefix: ASSET_PREFIXES.comfyuiGenerated,
    comfyui_url: `http://127.0.0.1:${o.comfyuiPort}`,
    imds_url: 'http://169.254.169.254',
    visibility_seconds: o.visibilitySeconds,
    status_file: PATHS.workerStatus,
    ...(o.overrides ?? {}),
  };
}

export function workerConfigJson(o: WorkerConfigOptions): string {
  return JSON.stringify(workerConfig(o), null, 2) + '\n';
}

/**
 * A long-running service with no privileges: boto3 takes the instance profile's credentials from IMDSv2. On
 * stop (a Spot stop, a shutdown) systemd's SIGTERM makes it hand its job back to the queue; the long poll can hold
 * that for up to 20 s, hence the stop timeout.
 */
export function workerService(): string {
  return [
    '# Managed by ziggie-infra playbooks/comfyui-ami.ts.',
    '[Unit]',
    'Description=ComfyUI job worker: SQS jobs in, S3 results out',
    'Wants=network-online.target',
    `After=network-online.target ${UNITS.comfyui}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=/usr/bin/python3 ${PATHS.workerBin} --config ${PATHS.workerConfig}`,
    'Environment=PYTHONUNBUFFERED=1',
    'DynamicUser=yes',
    'RuntimeDirectory=ziggie-worker',
    'RuntimeDirectoryMode=0755',
    'Restart=always',
    'RestartSec=5',
    'TimeoutStopSec=60',
    'KillSignal=SIGTERM',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'NoNewPrivileges=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
