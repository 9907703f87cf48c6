/** What the VPS playbook writes, rendered from the example config without a host. */
import { parse } from 'yaml';
import { loadConfig, EXAMPLE_CONFIG } from '../../../config/load';
import type { ContainerConfig, ZiggieConfig } from '../../../config/schema';
import { BACKUP_PREFIXES } from '../../../shared/storage-prefixes';
import { DATASOURCE_UID, grafanaProvisioningFiles, overviewDashboard } from '../../../playbooks/hostinger-vps/grafana';
import {
  awsCredentialsFile, backupPrefix, backupUnits, composeFile, fail2banJail, mappingDigest, secretsDigest, secretsUnitFile,
  secretsWrapperScript, serviceUnitFile, ufwRules, vpsSettings, type VpsHostSettings,
} from '../../../playbooks/hostinger-vps/render';

const config = loadConfig(EXAMPLE_CONFIG);
const svc = (name: string): ContainerConfig => config.containers.find((c) => c.name === name)!;
const host: VpsHostSettings = { backupDestination: 's3://ziggie-cloud-backups', backupSchedule: '*-*-* 03:15:00', sshPort: 22, endpoints: {} };
const withContainers = (containers: ContainerConfig[]): ZiggieConfig => ({ ...config, containers });

describe('compose files', () => {
  test('each service is its own project on the shared network; secrets are tmpfs files, the environment holds their path', () => {
    const doc = parse(composeFile(svc('n8n')));
    expect(doc.name).toBe('ziggie-n8n');
    expect(doc.networks).toEqual({ default: { name: 'ziggie', external: true } });
    expect(doc.volumes).toEqual({ 'n8n-data': {} });
    expect(doc.secrets).toEqual({ N8N_ENCRYPTION_KEY: { file: '/run/ziggie/secrets/n8n/N8N_ENCRYPTION_KEY' } });
    const s = doc.services.n8n;
    expect(s).toMatchObject({
      image: 'n8nio/n8n:1.80.0',
      container_name: 'ziggie-n8n',
      restart: 'unless-stopped',
      ports: ['127.0.0.1:5678:5678'],
      environment: {
        N8N_HOST: 'n8n.example.com', N8N_PROTOCOL: 'https', GENERIC_TIMEZONE: 'Europe/Stockholm',
        N8N_ENCRYPTION_KEY_FILE: '/run/secrets/N8N_ENCRYPTION_KEY',
      },
      secrets: ['N8N_ENCRYPTION_KEY'],
    });
    expect(s.env_file).toBeUndefined();
    expect(s.entrypoint).toBeUndefined();
    expect(composeFile(svc('n8n'))).not.toContain('ziggie/prod/');
  });

  test('secretsAs: env runs the command through the wrapper, mounted read-only; no *_FILE, no value', () => {
    const doc = parse(composeFile(svc('redis')));
    const r = doc.services.redis;
    expect(r.entrypoint).toEqual(['/bin/sh', '/usr/local/bin/ziggie-with-secrets']);
    expect(r.command).toEqual(['sh', '-c', 'exec redis-server --requirepass "$$REDIS_PASSWORD"']);
    expect(r.volumes).toContain('/usr/local/lib/ziggie/with-secrets:/usr/local/bin/ziggie-with-secrets:ro');
    expect(r.environment).toBeUndefined();
    expect(r.secrets).toEqual(['REDIS_PASSWORD']);
    expect(doc.secrets).toEqual({ REDIS_PASSWORD: { file: '/run/ziggie/secrets/redis/REDIS_PASSWORD' } });
  });

  test('the wrapper exports each secret file byte for byte (trailing newlines, quotes, $) and execs the command', () => {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = require('node:fs') as typeof import('node:fs');
    const dir = mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'wrapper-'));
    try {
      // the script reads /run/secrets; point it at a temp dir for the test
      const script = secretsWrapperScript().replace(/\/run\/secrets\//g, `${dir}/`);
      writeFileSync(`${dir}/w.sh`, script);
      const tricky = 'a\'b"c $HOME `x` \\ end\n\n';
      writeFileSync(`${dir}/TOKEN`, tricky);
      writeFileSync(`${dir}/not-a-name`, 'skipped');
      const out = execFileSync('/bin/sh', [`${dir}/w.sh`, 'sh', '-c', 'printf %s "$TOKEN"; env | grep -c "^not-a-name=" || true'], { encoding: 'utf8' });
      expect(out).toBe(`${tricky}0\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ports without an address bind 127.0.0.1 unless publicPorts says otherwise on purpose', () => {
    expect(parse(composeFile({ ...svc('n8n'), ports: ['5678:5678', '127.0.0.1:80:80', '9000:9000/udp'] })).services.n8n.ports)
      .toEqual(['127.0.0.1:5678:5678', '127.0.0.1:80:80', '127.0.0.1:9000:9000/udp']);
    expect(parse(composeFile({ ...svc('n8n'), ports: ['5678:5678'], publicPorts: true })).services.n8n.ports).toEqual(['5678:5678']);
  });

  test('a service without secrets has no secrets block; grafana mounts its provisioning read-only', () => {
    const doc = parse(composeFile(svc('grafana')));
    expect(doc.secrets).toBeUndefined();
    expect(doc.services.grafana.secrets).toBeUndefined();
    expect(doc.services.grafana.volumes).toEqual(['grafana-data:/var/lib/grafana', '/opt/ziggie/grafana/provisioning:/etc/grafana/provisioning:ro']);
  });

  test('config values keep compose syntax ($$ stays $$) and init is passed through', () => {
    const redis = parse(composeFile({ ...svc('redis'), init: true })).services.redis;
    expect(redis.command).toEqual(['sh', '-c', 'exec redis-server --requirepass "$$REDIS_PASSWORD"']);
    expect(redis.init).toBe(true);
    expect(parse(composeFile(svc('redis'))).services.redis.init).toBeUndefined();
  });

  test('the secrets mapping is part of the file: changing it changes only that service\'s file', () => {
    const api = svc('ziggie-api');
    const changed = { ...api, secrets: { ...api.secrets, EXTRA: 'ziggie/prod/jwt-secret' } };
    expect(secretsDigest(changed)).not.toBe(secretsDigest(api));
    expect(composeFile(changed)).not.toBe(composeFile(api));
    // key order in the config does not matter
    const reordered = { ...api, secrets: Object.fromEntries(Object.entries(api.secrets).reverse()) };
    expect(composeFile(reordered)).toBe(composeFile(api));
    expect(mappingDigest(withContainers(config.containers.map((c) => (c.name === 'ziggie-api' ? changed : c))))).not.toBe(mappingDigest(config));
  });

  test('rendering is deterministic', () => {
    for (const c of config.containers) expect(composeFile(c)).toBe(composeFile(structuredClone(c)));
  });
});

describe('systemd units', () => {
  test('a service with secrets starts after the fetcher and only when its secrets directory exists', () => {
    const u = serviceUnitFile(svc('n8n'));
    expect(u).toMatch(/^After=docker\.service network-online\.target ziggie-secrets\.service$/m);
    expect(u).toMatch(/^ConditionPathIsDirectory=\/run\/ziggie\/secrets\/n8n$/m);
    expect(u).toContain('ExecStart=/usr/bin/docker compose -p ziggie-n8n --project-directory /opt/ziggie/n8n -f /opt/ziggie/n8n/compose.yaml up -d --remove-orphans');
    expect(u).toMatch(/^ExecReload=.* up -d --remove-orphans$/m);
    expect(u).toMatch(/^WantedBy=multi-user\.target$/m);
    const g = serviceUnitFile(svc('grafana'));
    expect(g).not.toContain('ziggie-secrets');
    expect(g).not.toContain('ConditionPath');
  });

  test('the fetcher unit: oneshot, retries at boot, never holds a credential', () => {
    const u = secretsUnitFile();
    expect(u).toContain('Type=oneshot');
    expect(u).toContain('ExecStart=/usr/local/sbin/ziggie-vps fetch-secrets --retry-for 300');
    expect(u).toContain('ConditionPathExists=/etc/ziggie/aws-credentials');
    expect(u).not.toMatch(/AWS_(ACCESS|SECRET)|Environment=/);
  });

  test('the backup timer runs nightly and catches up after downtime', () => {
    const { service, timer } = backupUnits('*-*-* 03:15:00');
    expect(service).toContain('ExecStart=/usr/local/sbin/ziggie-vps backup');
    expect(timer).toContain('OnCalendar=*-*-* 03:15:00');
    expect(timer).toContain('Persistent=true');
    expect(timer).toContain('WantedBy=timers.target');
  });
});

describe('vps.json (ziggie-vps settings)', () => {
  test('names only, no values; postgres dumped, backupPaths archived under the IAM-writable prefixes', () => {
    const s = vpsSettings(config, host);
    expect(s.region).toBe('eu-north-1');
    expect(s.services.find((x) => x.name === 'ziggie-api')!.secrets).toEqual(svc('ziggie-api').secrets);
    expect(s.backup.postgres).toEqual({ service: 'postgres', container: 'ziggie-postgres', user: 'ziggie', prefix: 'databases/' });
    expect(s.backup.archives.map((a) => [a.service, a.prefix, a.paths])).toEqual([
      ['n8n', 'n8n/workflows/', ['/home/node/.n8n']],
      ['flowise', 'flowise/chatflows/', ['/root/.flowise']],
      ['grafana', 'grafana/dashboards/', ['/var/lib/grafana']],
    ]);
    const allowed = Object.values(BACKUP_PREFIXES);
    for (const a of s.backup.archives) expect(allowed).toContain(a.prefix);
    expect(s.mappingDigest).toBe(mappingDigest(config));
  });

  test('a service with backupPaths but no backup prefix is refused with the fix', () => {
    const odd = { ...svc('sim-studio'), backupPaths: ['/data'] };
    expect(() => backupPrefix(odd)).toThrow(/no backup prefix for "sim-studio".*shared\/storage-prefixes\.ts/);
    expect(backupPrefix({ ...svc('redis'), backupPaths: ['/data'] })).toBe('databases/');
  });

  test('postgres is found by name or by image', () => {
    const renamed = config.containers.map((c) => (c.name === 'postgres' ? { ...c, name: 'db' } : c));
    expect(vpsSettings(withContainers(renamed), host).backup.postgres).toMatchObject({ service: 'db', container: 'ziggie-db' });
    expect(vpsSettings(withContainers(config.containers.filter((c) => c.name !== 'postgres')), host).backup.postgres).toBeUndefined();
  });
});

describe('hardening', () => {
  test('ufw: ssh only from the allowlist, http(s) public', () => {
    expect(ufwRules(config, 22)).toEqual([
      { port: 22, from: '198.51.100.0/24', comment: 'ziggie ssh allowlist' },
      { port: 80, comment: 'ziggie http' },
      { port: 443, comment: 'ziggie https' },
    ]);
  });

  test('fail2ban watches sshd through the journal and never bans the allowlist', () => {
    const j = fail2banJail(2222, ['198.51.100.0/24']);
    expect(j).toContain('backend = systemd');
    expect(j).toMatch(/^\[sshd\]\nenabled = true/m);
    expect(j).toContain('port = 2222');
    expect(j).toContain('ignoreip = 127.0.0.1/8 ::1 198.51.100.0/24');
  });

  test('credentials file shape', () => {
    expect(awsCredentialsFile('AKIAEXAMPLE', 'sk')).toMatch(/^\[default\]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = sk\n$/m);
  });
});

describe('grafana provisioning', () => {
  test('a CloudWatch data source in the config region, default credential chain (no key in the file)', () => {
    const files = grafanaProvisioningFiles(config);
    const dsDoc = parse(files['datasources/cloudwatch.yaml']!);
    expect(dsDoc.datasources[0]).toMatchObject({ type: 'cloudwatch', uid: DATASOURCE_UID, jsonData: { authType: 'default', defaultRegion: 'eu-north-1' } });
    expect(files['datasources/cloudwatch.yaml']).not.toMatch(/secretKey|accessKey/);
    expect(parse(files['dashboards/ziggie.yaml']!).providers[0].options.path).toBe('/etc/grafana/provisioning/dashboards/ziggie');
    expect(JSON.parse(files['dashboards/ziggie/overview.json']!).uid).toBe('ziggie-overview');
  });

  test('the dashboard: GPU state, idle minutes, month-to-date cost, thresholds from the config', () => {
    const d = overviewDashboard(config) as { panels: { title: string; targets: Record<string, unknown>[]; fieldConfig?: any }[] };
    const byTitle = Object.fromEntries(d.panels.map((p) => [p.title, p]));
    expect(Object.keys(byTitle)).toEqual(expect.arrayContaining(['GPU state', 'GPU idle minutes (in range)', 'AWS month-to-date cost']));
    expect(byTitle['GPU state']!.targets[0]).toMatchObject({ namespace: 'CWAgent', metricName: 'nvidia_smi_utilization_gpu' });
    expect(byTitle['GPU idle minutes (in range)']!.targets.map((t) => t.id)).toEqual(['gpu', 'queue', 'idle']);
    expect(byTitle['GPU idle minutes (in range)']!.fieldConfig.defaults.thresholds.steps.at(-1).value).toBe(config.gpu.idleMinutes);
    const cost = byTitle['AWS month-to-date cost']!;
    expect(cost.targets[0]).toMatchObject({ namespace: 'AWS/Billing', metricName: 'EstimatedCharges', region: 'us-east-1', dimensions: { Currency: 'USD' } });
    expect(cost.fieldConfig.defaults.thresholds.steps.slice(1).map((s: { value: number }) => s.value)).toEqual(config.budgets.thresholdsUsd);
    for (const p of d.panels) for (const t of p.targets) expect(t.datasource).toEqual({ type: 'cloudwatch', uid: DATASOURCE_UID });
  });
});
