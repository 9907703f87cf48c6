/**
 * The Hostinger VPS (Ubuntu + Docker): every container of the config as its own compose project under
 * /opt/ziggie/<service>/, owned by a systemd unit; secrets fetched from Secrets Manager into tmpfs at boot (no
 * .env files); a nightly backup timer; fail2ban + ufw; Grafana's CloudWatch data source and dashboard as files;
 * the agent control center (controlCenter.vps) as one more compose project (hostinger-vps/control-center.ts). A
 * service an agent deployed keeps its image until the config names another (hostinger-vps/deploy-state.ts).
 *
 *   npm run provision:vps -- --inventory inventory/hostinger.yaml [--check] [--diff] [--limit h] [--tags t]
 *
 * Tags: packages, secrets, containers, grafana, backups, hardening, control-center (and one per service: svc-<name>).
 * Host vars (inventory, all optional): vps_aws_access_key_id + vps_aws_secret_access_key (!secret_env),
 * vps_control_plane_aws_access_key_id + vps_control_plane_aws_secret_access_key (!secret_env),
 * vps_backup_destination, vps_backup_schedule, vps_ssh_port, vps_aws_endpoints, vps_hardening.
 * docs/vps.md has the walk-through, the restore command and the design choices.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import type { ZiggieConfig } from '../config/schema';
import {
  apt, block, compose, copy, definePlaybook, directory, dockerNetwork, Secret, secret, shell, systemd, type Playbook,
} from '../provision';
import { adminCidrNarrowEnough } from '../guardrails/rules/security-groups/no-public-admin-ports';
import { ProvisionInputError } from '../provision/errors';
import { awsTimeouts, nameEndpointOnFailure } from '../shared/aws-timeouts';
import { grafanaProvisioningFiles } from './hostinger-vps/grafana';
import {
  BACKUP_UNIT, NETWORK, PATHS, SECRETS_UNIT, awsCredentialsFile, backupUnits, composeFile, containerName, fail2banJail, mappingDigest,
  projectDir, projectName, secretsUnitFile, secretsWrapperScript, serviceUnit, serviceUnitFile, ufwRules, vpsSettingsJson, type VpsHostSettings,
} from './hostinger-vps/render';
import {
  CONTROL_CENTER, CONTROL_CENTER_PATHS, appDigest, controlCenterComposeExtras, controlCenterConfigYaml, controlCenterService, controlPlaneCredentialsFile,
} from './hostinger-vps/control-center';
import {
  migrateEnvFiles, pruneServices, requireCredentials, requireDocker, secretsFetched, serviceCompose, ufw, type PutSecret,
} from './hostinger-vps/tasks';

export const FETCHER_SRC = path.join(__dirname, 'hostinger-vps', 'ziggie-vps.py');

/** The n8n workflows (docs/n8n/*.json) provision:vps imports into the running n8n. */
export const N8N_WORKFLOWS_DIR = path.join(__dirname, '..', 'docs', 'n8n');
const N8N_WORKFLOWS_ON_HOST = '/opt/ziggie/n8n/workflows';

/**
 * Copy the workflows to the VPS, then `n8n import:workflow` them into the running n8n, once per content: a stamp
 * named by the files' digest marks an import done, so an unchanged set imports nothing and a failed import is
 * tried again on the next run. Each workflow has a fixed id, so importing it again replaces it, never duplicates it.
 */
export function n8nWorkflowTasks() {
  const fs = require('node:fs') as typeof import('node:fs');
  const files = fs.readdirSync(N8N_WORKFLOWS_DIR).filter((f) => f.endsWith('.json')).sort();
  const contents = files.map((f) => fs.readFileSync(path.join(N8N_WORKFLOWS_DIR, f)));
  const digest = createHash('sha256');
  files.forEach((f, i) => digest.update(f).update('\0').update(contents[i]!).update('\0'));
  const stamp = `${N8N_WORKFLOWS_ON_HOST}/.imported-${digest.digest('hex').slice(0, 16)}`;
  const container = containerName('n8n');
  return block({ tags: ['n8n-workflows'] }, [
    directory({ path: N8N_WORKFLOWS_ON_HOST, mode: '0755', owner: 'root', group: 'root' }),
    ...files.map((f, i) => copy({ name: `n8n workflow ${f}`, dest: `${N8N_WORKFLOWS_ON_HOST}/${f}`, content: contents[i]!, mode: '0644', owner: 'root', group: 'root' })),
    shell({
      name: 'n8n import:workflow (docs/n8n)',
      cmd: [
        'set -e',
        `rm -f ${N8N_WORKFLOWS_ON_HOST}/.imported-*`,
        `docker exec ${container} rm -rf /tmp/ziggie-workflows`,
        `docker cp ${N8N_WORKFLOWS_ON_HOST}/. ${container}:/tmp/ziggie-workflows`,
        `docker exec ${container} n8n import:workflow --separate --input=/tmp/ziggie-workflows`,
        `docker exec ${container} rm -rf /tmp/ziggie-workflows`,
        `touch ${stamp}`,
      ].join('\n'),
      creates: stamp,
      timeout: 300,
    }),
  ]);
}

const secretOrString = z.union([z.string().min(1), z.instanceof(Secret)]);
const endpoint = z.url({ protocol: /^https?$/, error: 'an http(s):// URL' });

const KNOWN_VARS = new Set([
  'vps_aws_access_key_id', 'vps_aws_secret_access_key', 'vps_backup_destination', 'vps_backup_schedule',
  'vps_ssh_port', 'vps_aws_endpoints', 'vps_hardening', 'vps_control_plane_aws_access_key_id', 'vps_control_plane_aws_secret_access_key',
]);

/** The inventory vars this playbook reads. Unknown vps_* vars are refused (a typo must not be ignored). */
export const hostVarsSchema = z.object({
  vps_aws_access_key_id: z.string().regex(/^[A-Z0-9]{16,128}$/, { error: 'an access key id such as AKIA…' }).optional(),
  vps_aws_secret_access_key: secretOrString.optional(),
  vps_backup_destination: z.string().regex(/^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?|file:\/\/\/\S+)$/,
    { error: 's3://BUCKET[/prefix] or file:///dir' }).optional(),
  vps_backup_schedule: z.string().regex(/^[\w*,/:. -]+$/, { error: 'a systemd OnCalendar expression such as "*-*-* 03:15:00"' }).optional(),
  vps_ssh_port: z.coerce.number().int().min(1).max(65535).optional(),
  vps_aws_endpoints: z.strictObject({ secretsmanager: endpoint.optional(), s3: endpoint.optional() }).optional(),
  vps_hardening: z.boolean().optional(),
  vps_control_plane_aws_access_key_id: z.string().regex(/^[A-Z0-9]{16,128}$/, { error: 'an access key id such as AKIA…' }).optional(),
  vps_control_plane_aws_secret_access_key: secretOrString.optional(),
}).passthrough().superRefine((v, ctx) => {
  for (const k of Object.keys(v)) {
    if (k.startsWith('vps_') && !KNOWN_VARS.has(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'unknown vps_* variable' });
  }
  if (!!v.vps_aws_access_key_id !== !!v.vps_aws_secret_access_key) {
    ctx.addIssue({ code: 'custom', path: ['vps_aws_secret_access_key'], message: 'give both vps_aws_access_key_id and vps_aws_secret_access_key, or neither' });
  }
  if (!!v.vps_control_plane_aws_access_key_id !== !!v.vps_control_plane_aws_secret_access_key) {
    ctx.addIssue({ code: 'custom', path: ['vps_control_plane_aws_secret_access_key'],
      message: 'give both vps_control_plane_aws_access_key_id and vps_control_plane_aws_secret_access_key, or neither' });
  }
});

export interface VpsHost extends VpsHostSettings {
  credentials?: { accessKeyId: string; secretAccessKey: Secret };
  /** the ziggie-control-plane user's key (the control center's own identity) */
  controlPlaneCredentials?: { accessKeyId: string; secretAccessKey: Secret };
  hardening: boolean;
}

export function hostSettings(config: ZiggieConfig, hostName: string, vars: Record<string, unknown>): VpsHost {
  const r = hostVarsSchema.safeParse(vars);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ProvisionInputError(`host ${hostName}: ${i.path.join('.')}: ${i.message}`);
  }
  const v = r.data;
  const sk = v.vps_aws_secret_access_key;
  const cpk = v.vps_control_plane_aws_secret_access_key;
  return {
    backupDestination: v.vps_backup_destination ?? `s3://${config.storage.backupsBucket}`,
    backupSchedule: v.vps_backup_schedule ?? '*-*-* 03:15:00',
    sshPort: v.vps_ssh_port ?? 22,
    endpoints: v.vps_aws_endpoints ?? {},
    hardening: v.vps_hardening ?? true,
    credentials: v.vps_aws_access_key_id && sk
      ? { accessKeyId: v.vps_aws_access_key_id, secretAccessKey: sk instanceof Secret ? sk : secret(sk) }
      : undefined,
    ...(v.vps_control_plane_aws_access_key_id && cpk
      ? { controlPlaneCredentials: { accessKeyId: v.vps_control_plane_aws_access_key_id, secretAccessKey: cpk instanceof Secret ? cpk : secret(cpk) } }
      : {}),
  };
}

export interface VpsPlaybookOptions {
  /** --migrate-env-files: move legacy .env values into Secrets Manager, then remove the files. */
  migrateEnvFiles?: boolean;
  /** How the migration writes a secret (default: the AWS SDK with the operator's credentials). */
  putSecret?: () => PutSecret;
  /**
   * The control center's app files (relative name → content: scripts/lib/control-center-app.ts builds them).
   * Required when the config has controlCenter.vps.
   */
  controlCenterApp?: Record<string, Buffer>;
}

/**
 * PutSecretValue from the operator's machine (AWS_PROFILE / env credentials; AWS_ENDPOINT_URL_SECRETS_MANAGER honoured).
 * TLS: only with --migrate-env-files, listed in bin/snapshot.mjs SNAPSHOTS (a run without it starts without the CA bundle).
 */
function sdkPutSecret(config: ZiggieConfig): PutSecret {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const sm = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  const timeouts = awsTimeouts(config.ops);
  const client = nameEndpointOnFailure(new sm.SecretsManagerClient({
    region: config.region, maxAttempts: config.ops.awsMaxAttempts, retryMode: 'adaptive', requestHandler: timeouts,
  }), timeouts);
  return async (name, value) => {
    await client.send(new sm.PutSecretValueCommand({ SecretId: name, SecretString: value }));
  };
}

/**
 * The network guardrails synth applies, applied to what this playbook opens: SSH from no range wider than synth's
 * SG-NO-PUBLIC-ADMIN-PORTS allows (a world allowlist would become `ufw allow from 0.0.0.0/0` and fail2ban's
 * ignoreip, so nobody would ever be banned). Published container ports are checked by the config schema.
 */
export function assertNetworkGuardrails(config: ZiggieConfig): void {
  const wide = config.vps.sshAllowlist.filter((c) => !adminCidrNarrowEnough(c));
  if (wide.length) {
    throw new ProvisionInputError(`vps.sshAllowlist: ${wide.join(', ')} is wider than a /24: ufw would admit SSH from ` +
      `${wide.length > 1 ? 'them' : 'it'} and fail2ban would never ban ${wide.length > 1 ? 'them' : 'it'} ` +
      '(synth refuses the same, SG-NO-PUBLIC-ADMIN-PORTS): list the operators\' own addresses or networks');
  }
}

export function vpsPlaybook(config: ZiggieConfig, opts: VpsPlaybookOptions = {}): Playbook {
  assertNetworkGuardrails(config);
  const digest = mappingDigest(config);
  const services = config.containers;
  const grafana = services.find((c) => c.name === 'grafana');
  const cc = controlCenterService(config);
  if (cc && !opts.controlCenterApp) throw new ProvisionInputError('controlCenter.vps: the control center app is not built (scripts/lib/control-center-app.ts; npm run provision:vps builds it)');
  const ccFiles: Record<string, Buffer> = cc ? { ...opts.controlCenterApp!, 'config.yaml': Buffer.from(controlCenterConfigYaml(config)) } : {};
  const ccDirs = [...new Set(Object.keys(ccFiles).map((f) => path.posix.dirname(f)).filter((d) => d !== '.'))].sort();
  const toolSource = (): Buffer => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require('node:fs') as typeof import('node:fs')).readFileSync(FETCHER_SRC);
  };

  return definePlaybook({
    name: 'hostinger-vps',
    hosts: 'all',
    tasks: (host) => {
      const h = hostSettings(config, host.name, host.vars);
      let migrated = false;
      const backup = backupUnits(h.backupSchedule);
      return [
        block({ tags: ['packages'] }, [
          apt({
            name: 'docker engine + compose v2 (Ubuntu)',
            packages: ['docker.io', 'docker-compose-v2'],
            when: (f) => f.facts.os.id === 'ubuntu' && !f.facts.docker,
          }),
          requireDocker(),
          apt({
            name: 'packages: botocore for ziggie-vps' + (h.hardening ? ', ufw, fail2ban' : ''),
            packages: ['python3', 'python3-botocore', ...(h.hardening ? ['ufw', 'fail2ban', 'python3-systemd'] : [])],
            installRecommends: false,
          }),
        ]),

        block({ tags: ['secrets'] }, [
          directory({ path: PATHS.etc, mode: '0755', owner: 'root', group: 'root' }),
          h.credentials
            ? copy({
              name: `${PATHS.credentials} (root, 0600)`,
              dest: PATHS.credentials,
              content: secret(awsCredentialsFile(h.credentials.accessKeyId, h.credentials.secretAccessKey.reveal())),
              mode: '0600', owner: 'root', group: 'root',
            })
            : requireCredentials(),
          cc && (h.controlPlaneCredentials
            ? copy({
              name: `${CONTROL_CENTER_PATHS.credentials} (root, 0600)`,
              dest: CONTROL_CENTER_PATHS.credentials,
              content: secret(controlPlaneCredentialsFile(h.controlPlaneCredentials.accessKeyId, h.controlPlaneCredentials.secretAccessKey.reveal())),
              mode: '0600', owner: 'root', group: 'root', tags: ['control-center'],
            })
            : requireCredentials({ tags: ['control-center'] }, CONTROL_CENTER_PATHS.credentials, 'vps_control_plane_aws_access_key_id and vps_control_plane_aws_secret_access_key')),
          copy({ name: PATHS.tool, dest: PATHS.tool, content: toolSource(), mode: '0755', owner: 'root', group: 'root' }),
          copy({ name: PATHS.settings, dest: PATHS.settings, content: vpsSettingsJson(config, h), mode: '0644', owner: 'root', group: 'root' }),
          migrateEnvFiles(config, {
            enabled: !!opts.migrateEnvFiles,
            put: opts.putSecret ?? (() => sdkPutSecret(config)),
            onMigrated: () => (migrated = true),
          }),
          systemd({ unit: SECRETS_UNIT, content: secretsUnitFile(), enabled: true, restartOnChange: false }),
          secretsFetched(config, digest, () => migrated),
        ]),
        // secret rotation: `--tags refresh-secrets` re-fetches every value and recreates the services whose values changed
        secretsFetched(config, digest, () => true, { name: 'refresh secrets (rotation)', tags: ['never', 'refresh-secrets'] }),

        block({ tags: ['containers'] }, [
          dockerNetwork({ network: NETWORK }),
          pruneServices([...services.map((c) => c.name), ...(cc ? [CONTROL_CENTER] : [])]),
          services.some((c) => c.secretsAs === 'env' && Object.keys(c.secrets).length) && block({}, [
            directory({ path: path.posix.dirname(PATHS.secretsWrapper), mode: '0755', owner: 'root', group: 'root' }),
            copy({ name: `${PATHS.secretsWrapper} (secretsAs: env)`, dest: PATHS.secretsWrapper, content: secretsWrapperScript(), mode: '0755', owner: 'root', group: 'root' }),
          ]),
          grafana && block({ tags: ['grafana'], notify: 'restart grafana' }, [
            ...['', '/datasources', '/dashboards', '/dashboards/ziggie'].map((d) =>
              directory({ path: PATHS.grafanaProvisioning + d, mode: '0755', owner: 'root', group: 'root' })),
            ...Object.entries(grafanaProvisioningFiles(config)).map(([rel, content]) =>
              copy({ name: `grafana provisioning ${rel}`, dest: `${PATHS.grafanaProvisioning}/${rel}`, content, mode: '0644', owner: 'root', group: 'root' })),
          ]),
          ...services.map((c) => block({ tags: [`svc-${c.name}`] }, [
            serviceCompose(c),
            systemd({ unit: serviceUnit(c.name), content: serviceUnitFile(c), enabled: true, state: 'started', restartOnChange: false }),
          ])),
          services.some((c) => c.name === 'n8n') && n8nWorkflowTasks(),
          // the agent control center: its app files, then its compose project (recreated when a file changes: the
          // app's digest is a label), under its own unit like every service
          cc && block({ tags: ['control-center'] }, [
            ...['', ...ccDirs.map((d) => `/${d}`)].map((d) =>
              directory({ path: CONTROL_CENTER_PATHS.app + d, mode: '0755', owner: 'root', group: 'root' })),
            ...Object.entries(ccFiles).map(([rel, content]) =>
              copy({ name: `control center ${rel}`, dest: `${CONTROL_CENTER_PATHS.app}/${rel}`, content, mode: '0644', owner: 'root', group: 'root' })),
            compose({
              name: `compose ${CONTROL_CENTER}`, project: projectName(CONTROL_CENTER), dir: projectDir(CONTROL_CENTER),
              compose: composeFile(cc, controlCenterComposeExtras(appDigest(ccFiles))), pull: 'missing',
            }),
            systemd({ unit: serviceUnit(CONTROL_CENTER), content: serviceUnitFile(cc), enabled: true, state: 'started', restartOnChange: false }),
          ]),
        ]),

        block({ tags: ['backups'] }, [
          systemd({ unit: `${BACKUP_UNIT}.service`, content: backup.service }),
          systemd({ unit: `${BACKUP_UNIT}.timer`, content: backup.timer, enabled: true, state: 'started' }),
        ]),

        h.hardening && block({ tags: ['hardening'] }, [
          copy({ dest: PATHS.fail2banJail, content: fail2banJail(h.sshPort, config.vps.sshAllowlist), mode: '0644', owner: 'root', group: 'root', notify: 'reload fail2ban' }),
          systemd({ unit: 'fail2ban.service', enabled: true, state: 'started' }),
          ufw(ufwRules(config, h.sshPort), config.vps.sshAllowlist),
        ]),
      ];
    },
    handlers: () => [
      shell({ name: 'reload fail2ban', cmd: 'fail2ban-client -t >/dev/null && systemctl reload-or-restart fail2ban' }),
      shell({ name: 'restart grafana', cmd: 'if [ "$(docker inspect -f {{.State.Running}} ziggie-grafana 2>/dev/null)" = true ]; then docker restart ziggie-grafana; fi' }),
    ],
  });
}
