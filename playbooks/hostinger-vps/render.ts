/**
 * Everything the VPS playbook writes, as pure functions of the config and the host's vars: compose files, unit
 * files, the ziggie-vps settings, fail2ban and ufw rules. Unit tests check these without a host.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { ContainerConfig, ZiggieConfig } from '../../config/schema';
import { BACKUP_PREFIXES } from '../../shared/storage-prefixes';
import { timerUnit } from '../../provision/tasks/timer';
import { CONTROL_CENTER, CONTROL_CENTER_FILE_MODE, controlCenterService } from './control-center';

/** The config's containers and, when the config puts it on the VPS, the control center: every compose project the playbook owns. */
export function vpsServices(config: ZiggieConfig): ContainerConfig[] {
  const cc = controlCenterService(config);
  return cc ? [...config.containers, cc] : config.containers;
}

/** Where things live on the VPS. */
export const PATHS = {
  root: '/opt/ziggie',
  etc: '/etc/ziggie',
  settings: '/etc/ziggie/vps.json',
  credentials: '/etc/ziggie/aws-credentials',
  tool: '/usr/local/sbin/ziggie-vps',
  secretsDir: '/run/ziggie/secrets',
  /** the secretsAs: env wrapper (not secret), mounted read-only into such containers at SECRETS_WRAPPER_IN_CONTAINER */
  secretsWrapper: '/usr/local/lib/ziggie/with-secrets',
  units: '/etc/systemd/system',
  fail2banJail: '/etc/fail2ban/jail.d/ziggie.local',
  grafanaProvisioning: '/opt/ziggie/grafana/provisioning',
} as const;

/** The one Docker network every project joins, so services reach each other by name (postgres:5432). */
export const NETWORK = 'ziggie';
export const SECRETS_UNIT = 'ziggie-secrets.service';
export const BACKUP_UNIT = 'ziggie-backup';

export const projectName = (svc: string): string => `ziggie-${svc}`;
export const containerName = (svc: string): string => `ziggie-${svc}`;
export const serviceUnit = (svc: string): string => `ziggie-${svc}.service`;
export const projectDir = (svc: string): string => `${PATHS.root}/${svc}`;
/** A service's secrets on tmpfs: one file per variable, <secretsDir>/<svc>/<ENV> (ziggie-vps fetch-secrets). */
export const secretsDir = (svc: string): string => `${PATHS.secretsDir}/${svc}`;
/** Where a container reads a secret (compose's own place for `secrets:`). */
export const secretInContainer = (env: string): string => `/run/secrets/${env}`;
export const SECRETS_WRAPPER_IN_CONTAINER = '/usr/local/bin/ziggie-with-secrets';

/**
 * secretsAs: env: exports each /run/secrets/<ENV> file as ENV, then execs the command. The values exist in the
 * process's memory only; Docker's container state holds the command, never a value. POSIX sh (busybox, dash).
 */
export function secretsWrapperScript(): string {
  return [
    '#!/bin/sh',
    HEADER.trim(),
    '# secretsAs: env: each /run/secrets/<ENV> file becomes the variable ENV of the command, in memory only.',
    'for f in /run/secrets/*; do',
    '  [ -f "$f" ] || continue',
    '  n=${f##*/}',
    '  case "$n" in [!A-Za-z_]*|*[!A-Za-z0-9_]*) continue ;; esac',
    '  v=$(cat "$f"; printf x) || exit 1   # the x keeps trailing newlines',
    '  export "$n=${v%x}"',
    'done',
    'unset f n v',
    'exec "$@"',
    '',
  ].join('\n');
}

/** "5678:5678" → "127.0.0.1:5678:5678": published ports bypass ufw, so they bind loopback unless publicPorts. */
export function publishedPort(c: Pick<ContainerConfig, 'publicPorts'>, mapping: string): string {
  return c.publicPorts || /^\d{1,3}(\.\d{1,3}){3}:/.test(mapping) ? mapping : `127.0.0.1:${mapping}`;
}

/** Host settings from the inventory (all optional; validated by the playbook). */
export interface VpsHostSettings {
  /** s3://bucket[/prefix] or file:///dir; default s3://<storage.backupsBucket> */
  backupDestination: string;
  /** systemd OnCalendar for the nightly backup */
  backupSchedule: string;
  /** sshd's port on the VPS (what ufw admits from the allowlist) */
  sshPort: number;
  /** endpoint overrides for the VPS's AWS calls (tests, VPC endpoints) */
  endpoints: { secretsmanager?: string; s3?: string };
}

const NAMED_VOLUME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function isPostgres(c: ContainerConfig): boolean {
  return c.name === 'postgres' || /(^|\/)postgres([:@]|$)/.test(c.image);
}

/**
 * The backup prefix of each service's archive: the IAM stack lets the VPS write only under BACKUP_PREFIXES, so a
 * service with backupPaths must map to one of them.
 */
export function backupPrefix(c: ContainerConfig): string {
  if (isPostgres(c) || c.name === 'redis' || /(^|\/)(redis|valkey)([:@]|$)/.test(c.image)) return BACKUP_PREFIXES.databases;
  const byName: Record<string, string> = {
    n8n: BACKUP_PREFIXES.n8nWorkflows,
    flowise: BACKUP_PREFIXES.flowiseChatflows,
    grafana: BACKUP_PREFIXES.grafanaDashboards,
  };
  const p = byName[c.name];
  if (!p) {
    throw new Error(`containers.${c.name}.backupPaths: no backup prefix for "${c.name}" (the VPS may write only under ` +
      `${Object.values(BACKUP_PREFIXES).join(', ')}): add one to shared/storage-prefixes.ts and the IAM stack`);
  }
  return p;
}

/** sha256 of a service's env-var → secret-name map: part of its compose file, so a mapping change recreates it. */
export function secretsDigest(c: ContainerConfig): string {
  // code-unit order: localeCompare would load ICU's collator (~10 ms) for names that are ASCII anyway
  const sorted = Object.fromEntries(Object.entries(c.secrets).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** Digest of every service's mapping: the fetcher records it in tmpfs; the playbook compares. */
export function mappingDigest(config: ZiggieConfig): string {
  const all = vpsServices(config).filter((c) => Object.keys(c.secrets).length).map((c) => `${c.name}:${secretsDigest(c)}`).sort();
  return createHash('sha256').update(all.join('\n')).digest('hex');
}

const HEADER = '# Managed by `npm run provision:vps` (playbooks/hostinger-vps.ts): local edits are overwritten.\n';

/**
 * The compose project of one service. Values from the config keep compose's own syntax (`$$` for a literal $).
 * `extras`: keys added to the service and labels added to its own (the control center's hardening and app digest).
 */
export function composeFile(c: ContainerConfig, extras: { service?: Record<string, unknown>; labels?: Record<string, string> } = {}): string {
  const named = [...new Set(c.volumes.map((v) => v.split(':')[0]!).filter((s) => NAMED_VOLUME.test(s)))];
  const volumes = [...c.volumes];
  if (c.name === 'grafana') volumes.push(`${PATHS.grafanaProvisioning}:/etc/grafana/provisioning:ro`);
  const envs = Object.keys(c.secrets).sort();
  const hasSecrets = envs.length > 0;
  const wrapped = hasSecrets && c.secretsAs === 'env';
  if (wrapped) volumes.push(`${PATHS.secretsWrapper}:${SECRETS_WRAPPER_IN_CONTAINER}:ro`);
  // Secrets reach the container as files bind-mounted from tmpfs, never as environment (Docker writes a
  // container's environment to config.v2.json and containerd's metadata, on disk). `file`: the image reads
  // <ENV>_FILE; `env`: the wrapper exports the files as variables of the command, in memory only.
  const environment = { ...c.env, ...(hasSecrets && !wrapped ? Object.fromEntries(envs.map((e) => [`${e}_FILE`, secretInContainer(e)])) : {}) };
  const service: Record<string, unknown> = {
    image: c.image,
    container_name: containerName(c.name),
    ...(wrapped ? { entrypoint: ['/bin/sh', SECRETS_WRAPPER_IN_CONTAINER] } : {}),
    ...(c.command ? { command: c.command } : {}),
    ...(c.init ? { init: true } : {}),
    restart: 'unless-stopped',
    ...(c.ports.length ? { ports: c.ports.map((p) => publishedPort(c, p)) } : {}),
    ...(volumes.length ? { volumes } : {}),
    ...(Object.keys(environment).length ? { environment } : {}),
    ...(hasSecrets ? { secrets: envs } : {}),
    ...(c.healthcheck ? { healthcheck: {
      test: c.healthcheck.test, interval: `${c.healthcheck.intervalSeconds}s`, retries: c.healthcheck.retries,
      start_period: `${c.healthcheck.startPeriodSeconds}s`, timeout: `${c.healthcheck.intervalSeconds}s`,
    } } : {}),
    ...extras.service,
    labels: {
      'org.ziggie.managed-by': 'provision-vps',
      ...(hasSecrets ? { 'org.ziggie.secrets-mapping': secretsDigest(c) } : {}),
      ...extras.labels,
    },
    logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
  };
  const doc: Record<string, unknown> = {
    name: projectName(c.name),
    services: { [c.name]: service },
    networks: { default: { name: NETWORK, external: true } },
    ...(named.length ? { volumes: Object.fromEntries(named.map((v) => [v, {}])) } : {}),
    ...(hasSecrets ? { secrets: Object.fromEntries(envs.map((e) => [e, { file: `${secretsDir(c.name)}/${e}` }])) } : {}),
  };
  return HEADER + stringify(doc, { lineWidth: 0 });
}

/** The unit that owns one compose project: started after the secrets are in tmpfs, stopped before docker. */
export function serviceUnitFile(c: ContainerConfig): string {
  const dc = `/usr/bin/docker compose -p ${projectName(c.name)} --project-directory ${projectDir(c.name)} -f ${projectDir(c.name)}/compose.yaml`;
  const hasSecrets = Object.keys(c.secrets).length > 0;
  return [
    HEADER.trimEnd(),
    '[Unit]',
    `Description=Ziggie ${c.name} (docker compose project ${projectName(c.name)})`,
    'Requires=docker.service',
    `After=docker.service network-online.target${hasSecrets ? ` ${SECRETS_UNIT}` : ''}`,
    'Wants=network-online.target' + (hasSecrets ? ` ${SECRETS_UNIT}` : ''),
    ...(hasSecrets ? [`ConditionPathIsDirectory=${secretsDir(c.name)}`] : []),
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `WorkingDirectory=${projectDir(c.name)}`,
    `ExecStart=${dc} up -d --remove-orphans`,
    // reload = converge: recreates only what changed (e.g. after a secret rotation)
    `ExecReload=${dc} up -d --remove-orphans`,
    // one container per project: stopping it needs no compose file (nor its env file) to parse
    `ExecStop=/usr/bin/docker stop ${containerName(c.name)}`,
    'TimeoutStartSec=15min',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Secrets Manager → tmpfs, once per boot, before any compose unit. Credentials come from the root-only file. */
export function secretsUnitFile(): string {
  return [
    HEADER.trimEnd(),
    '[Unit]',
    'Description=Ziggie: fetch container secrets from AWS Secrets Manager into tmpfs',
    'Wants=network-online.target',
    'After=network-online.target',
    `ConditionPathExists=${PATHS.credentials}`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    // retries inside (the network may come up late at boot), so the compose units ordered after it wait
    `ExecStart=${PATHS.tool} fetch-secrets --retry-for 300`,
    'TimeoutStartSec=6min',
    'UMask=0077',
    'PrivateTmp=yes',
    'ProtectHome=yes',
    'NoNewPrivileges=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export interface VpsSettings {
  region: string;
  credentialsFile: string;
  secretsDir: string;
  mappingDigest: string;
  endpoints: { secretsmanager?: string; s3?: string };
  /** fileMode: the tmpfs files' mode (default 0444: the container's own user reads them) */
  services: { name: string; container: string; secrets: Record<string, string>; fileMode?: string }[];
  backup: {
    destination: string;
    workDir: string;
    postgres?: { service: string; container: string; user: string; prefix: string };
    archives: { service: string; container: string; paths: string[]; prefix: string }[];
  };
}

/** /etc/ziggie/vps.json: what ziggie-vps needs. Names only, never a value. */
export function vpsSettings(config: ZiggieConfig, host: VpsHostSettings): VpsSettings {
  const pg = config.containers.find(isPostgres);
  return {
    region: config.region,
    credentialsFile: PATHS.credentials,
    secretsDir: PATHS.secretsDir,
    mappingDigest: mappingDigest(config),
    endpoints: host.endpoints,
    services: vpsServices(config).map((c) => ({
      name: c.name, container: containerName(c.name), secrets: c.secrets, ...(c.name === CONTROL_CENTER ? { fileMode: CONTROL_CENTER_FILE_MODE } : {}),
    })),
    backup: {
      destination: host.backupDestination,
      workDir: '/var/tmp',
      ...(pg ? { postgres: { service: pg.name, container: containerName(pg.name), user: pg.env.POSTGRES_USER ?? 'postgres', prefix: BACKUP_PREFIXES.databases } } : {}),
      archives: config.containers
        .filter((c) => c.backupPaths.length && !isPostgres(c))
        .map((c) => ({ service: c.name, container: containerName(c.name), paths: c.backupPaths, prefix: backupPrefix(c) })),
    },
  };
}

export function vpsSettingsJson(config: ZiggieConfig, host: VpsHostSettings): string {
  return JSON.stringify(vpsSettings(config, host), null, 2) + '\n';
}

export function backupUnits(schedule: string): { service: string; timer: string } {
  const service = [
    HEADER.trimEnd(),
    '[Unit]',
    'Description=Ziggie: nightly backup (pg_dumpall + data archives) to the backups bucket',
    'Requires=docker.service',
    'After=docker.service network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${PATHS.tool} backup`,
    'UMask=0077',
    'Nice=10',
    'IOSchedulingClass=idle',
    'TimeoutStartSec=2h',
    '',
  ].join('\n');
  // The timer half is the engine's (provision/tasks/timer.ts); the service above needs more than its oneshot.
  const timer = timerUnit({ unit: 'ziggie-backup', description: 'Ziggie: nightly backup', onCalendar: schedule, randomizedDelaySec: 600 });
  return { service, timer: `${HEADER.trimEnd()}\n${timer}` };
}

/** fail2ban for sshd. The journal backend: Debian 12 / Ubuntu 24.04 have no /var/log/auth.log by default. */
export function fail2banJail(sshPort: number, ignoreCidrs: string[] = []): string {
  return [
    HEADER.trimEnd(),
    '[DEFAULT]',
    'backend = systemd',
    'banaction = ufw',
    `ignoreip = 127.0.0.1/8 ::1${ignoreCidrs.length ? ' ' + ignoreCidrs.join(' ') : ''}`,
    '',
    '[sshd]',
    'enabled = true',
    'mode = aggressive',
    `port = ${sshPort}`,
    'maxretry = 5',
    'findtime = 10m',
    'bantime = 1h',
    '',
  ].join('\n');
}

/** One ufw rule: TCP to `port` from `from` (an IPv4 CIDR; anywhere when absent). */
export interface UfwRule {
  port: number;
  from?: string;
  comment: string;
}

/**
 * The ufw rules: SSH only from the allowlist, HTTP(S) from anywhere. Default policies: deny incoming, allow
 * outgoing. (Container ports bind 127.0.0.1 unless publicPorts: see publishedPort.)
 */
export function ufwRules(config: ZiggieConfig, sshPort: number): UfwRule[] {
  return [
    ...config.vps.sshAllowlist.map((cidr) => ({ port: sshPort, from: cidr, comment: 'ziggie ssh allowlist' })),
    { port: 80, comment: 'ziggie http' },
    { port: 443, comment: 'ziggie https' },
  ];
}

/** ufw names a single address without its /32, in its rules files and in `ufw show added`. */
const ufwAddress = (cidr: string): string => cidr.replace(/\/32$/, '');

/** The rule as `ufw show added` prints it, and as its command is written ("ufw allow ..."). */
export function ufwCommand(r: UfwRule): string {
  return r.from
    ? `ufw allow from ${ufwAddress(r.from)} to any port ${r.port} proto tcp comment '${r.comment}'`
    : `ufw allow ${r.port}/tcp comment '${r.comment}'`;
}

/**
 * The rule as ufw keeps it in /etc/ufw/user.rules and user6.rules ("### tuple ### action proto dport dst sport src
 * direction comment=<hex>"): one tuple for a rule from an IPv4 source, one per address family for a rule from
 * anywhere (the IPv6 one only when ufw manages IPv6).
 */
export function ufwTuples(r: UfwRule, ipv6: boolean): string[] {
  const comment = `comment=${Buffer.from(r.comment, 'utf8').toString('hex')}`;
  if (r.from) return [`allow tcp ${r.port} 0.0.0.0/0 any ${ufwAddress(r.from)} in ${comment}`];
  return [`allow tcp ${r.port} 0.0.0.0/0 any 0.0.0.0/0 in ${comment}`, ...(ipv6 ? [`allow tcp ${r.port} ::/0 any ::/0 in ${comment}`] : [])];
}

/** The shared-credentials file (root, 0600). */
export function awsCredentialsFile(accessKeyId: string, secretAccessKey: string): string {
  return `# ziggie-vps IAM user (stacks/iam.ts): Secrets Manager read + backups write, from this VPS's IP only\n[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`;
}
