/**
 * The agent control center on the VPS (config `controlCenter.vps`), as pure functions of the config: one more
 * compose project under its own systemd unit, like every service. The app is one bundled .mjs file (with the
 * cloud page) under /opt/ziggie/control-center/app, run by a pinned Node.js image; its config is the operator's,
 * with the token store pointed at the tmpfs file ziggie-vps fetches from Secrets Manager at boot.
 */
import { createHash } from 'node:crypto';
import { sha256 } from '../../provision/files';
import type { ContainerConfig, ZiggieConfig } from '../../config/schema';

export const CONTROL_CENTER = 'control-center';

export const CONTROL_CENTER_PATHS = {
  /** the bundle, the cloud page and the config (no secret), mounted read-only at /app */
  app: '/opt/ziggie/control-center/app',
  /** the ziggie-control-plane IAM user's key (root, 0600), mounted read-only; in no unit, compose file or environment */
  credentials: '/etc/ziggie/control-plane-credentials',
} as const;

const IN_CONTAINER = {
  app: '/app',
  bundle: '/app/control-center/control-center.mjs',
  config: '/app/config.yaml',
  credentials: '/run/secrets/aws-credentials',
  /** the audit spool (records CloudWatch did not take yet) survives restarts in a named volume */
  home: '/var/lib/ziggie-control-center',
} as const;

/** The token store's file in the container: compose's `secrets:` mount of /run/ziggie/secrets/control-center/TOKEN_STORE. */
export const TOKEN_STORE_ENV = 'TOKEN_STORE';
export const TOKEN_STORE_IN_CONTAINER = `/run/secrets/${TOKEN_STORE_ENV}`;
/** ziggie-vps writes this service's tmpfs files root-only: the token store must not be readable by others (control/tokens.ts). */
export const CONTROL_CENTER_FILE_MODE = '0400';

/**
 * The control center as a service entry (the shape of config.containers), or undefined when the config does not
 * put it on the VPS. The secrets fetch, the unit file and the pruning treat it like any service.
 */
export function controlCenterService(config: ZiggieConfig): ContainerConfig | undefined {
  const cc = config.controlCenter;
  if (!cc?.vps) return undefined;
  const livez = `fetch('http://127.0.0.1:${cc.port}/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return {
    name: CONTROL_CENTER,
    image: cc.vps.image,
    // all interfaces of its own network namespace: the port is published on controlCenter.host (127.0.0.1) only
    command: ['node', IN_CONTAINER.bundle, '--config', IN_CONTAINER.config, '--host', '0.0.0.0', '--port', String(cc.port)],
    ports: [`${cc.host}:${cc.port}:${cc.port}`],
    volumes: [`${CONTROL_CENTER_PATHS.app}:${IN_CONTAINER.app}:ro`, `${CONTROL_CENTER_PATHS.credentials}:${IN_CONTAINER.credentials}:ro`, `control-center-state:${IN_CONTAINER.home}`],
    env: {
      HOME: IN_CONTAINER.home,
      NODE_ENV: 'production',
      // the AWS SDK reads the key from the mounted file, never from the environment
      AWS_SHARED_CREDENTIALS_FILE: IN_CONTAINER.credentials,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    secrets: { [TOKEN_STORE_ENV]: cc.vps.tokenStoreSecret },
    secretsAs: 'file',
    publicPorts: false,
    backupPaths: [],
    init: true,
    // every 30 s (Docker's default): each check starts a node process in the container (~0.3 s of CPU with the exec)
    healthcheck: { test: ['CMD', 'node', '-e', livez], intervalSeconds: 30, retries: 3, startPeriodSeconds: 10 },
  };
}

/**
 * What the control center's compose service adds to a service's: no capability at all, no privilege gain, a
 * read-only root filesystem, and a label with the app's digest so a new bundle or config recreates the container.
 * It runs as uid 0 of its namespace only to read the two root-only files mounted into it.
 */
export function controlCenterComposeExtras(appDigest: string): { service: Record<string, unknown>; labels: Record<string, string> } {
  return {
    service: { read_only: true, tmpfs: ['/tmp'], cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'] },
    labels: { 'org.ziggie.app-digest': appDigest },
  };
}

/**
 * The config the control center reads on the VPS: the operator's (validated, defaults filled in) with the token
 * store at its tmpfs file and no deploy inventory (that is a path on the operator's machine). No secret is in a
 * config; the file is 0644. Written as JSON (a YAML document too).
 */
export function controlCenterConfigYaml(config: ZiggieConfig): string {
  const cc = config.controlCenter!;
  const { inventory: _operatorsPath, ...deploy } = cc.deploy;
  const onVps = { ...config, controlCenter: { ...cc, tokenStore: TOKEN_STORE_IN_CONTAINER, deploy } };
  // JSON, which YAML reads as it is: writing YAML would cost ~10 ms of every run for a file nobody edits
  return '# Managed by `npm run provision:vps` (playbooks/hostinger-vps/control-center.ts): the config with the token store in tmpfs.\n' +
    `${JSON.stringify(onVps, null, 2)}\n`;
}

/** sha256 over the app's files (names and their contents' sha256, sorted by name). */
export function appDigest(files: Record<string, Buffer | string>): string {
  const h = createHash('sha256');
  // each file by its own digest, which the copy task that installs it reads too (computed once)
  for (const name of Object.keys(files).sort()) h.update(name).update('\0').update(sha256(files[name]!)).update('\0');
  return h.digest('hex');
}

/** The shared-credentials file of the control plane's key (root, 0600). */
export function controlPlaneCredentialsFile(accessKeyId: string, secretAccessKey: string): string {
  return `# ziggie-control-plane IAM user (stacks/iam.ts): what the control center's capabilities declare, from this VPS's IP only\n[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`;
}
