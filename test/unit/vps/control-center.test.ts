/** The control center on the VPS, rendered from the example config without a host (the testhost suite runs it). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, EXAMPLE_CONFIG } from '../../../config/load';
import {
  CONTROL_CENTER_PATHS, appDigest, controlCenterComposeExtras, controlCenterConfigYaml, controlCenterService, controlPlaneCredentialsFile,
} from '../../../playbooks/hostinger-vps/control-center';
import { composeFile, serviceUnitFile, vpsServices, vpsSettings } from '../../../playbooks/hostinger-vps/render';
import { hostSettings } from '../../../playbooks/hostinger-vps';

const config = loadConfig(EXAMPLE_CONFIG);
const cc = controlCenterService(config)!;

test('a service like the others: published on controlCenter.host:port only, its token store a tmpfs secret file', () => {
  expect(cc).toMatchObject({
    name: 'control-center',
    image: 'node:20.19.5-bookworm-slim',
    command: ['node', '/app/control-center/control-center.mjs', '--config', '/app/config.yaml', '--host', '0.0.0.0', '--port', '7420'],
    ports: ['127.0.0.1:7420:7420'],
    secrets: { TOKEN_STORE: 'ziggie/prod/control-center-tokens' },
  });
  expect(vpsServices(config).map((c) => c.name)).toEqual([...config.containers.map((c) => c.name), 'control-center']);
  const noVps = { ...config, controlCenter: { ...config.controlCenter!, vps: undefined } };
  expect(controlCenterService(noVps)).toBeUndefined();
  expect(vpsServices(noVps)).toEqual(config.containers);
});

test('its compose file: no capability, no privilege gain, read-only root, the app digest as a label; no key, no value', () => {
  const digest = appDigest({ 'a.mjs': Buffer.from('1') });
  const doc = parse(composeFile(cc, controlCenterComposeExtras(digest)));
  expect(doc.secrets).toEqual({ TOKEN_STORE: { file: '/run/ziggie/secrets/control-center/TOKEN_STORE' } });
  const s = doc.services['control-center'];
  expect(s).toMatchObject({
    container_name: 'ziggie-control-center', read_only: true, cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'], tmpfs: ['/tmp'], init: true,
    ports: ['127.0.0.1:7420:7420'],
    volumes: [`${CONTROL_CENTER_PATHS.app}:/app:ro`, '/etc/ziggie/control-plane-credentials:/run/secrets/aws-credentials:ro', 'control-center-state:/var/lib/ziggie-control-center'],
    labels: { 'org.ziggie.managed-by': 'provision-vps', 'org.ziggie.app-digest': digest },
  });
  expect(s.environment).toMatchObject({ AWS_SHARED_CREDENTIALS_FILE: '/run/secrets/aws-credentials', TOKEN_STORE_FILE: '/run/secrets/TOKEN_STORE' });
  expect(Object.keys(s.environment)).not.toContain('AWS_SECRET_ACCESS_KEY');
  expect(s.healthcheck.test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
  // a new bundle or config is a new digest, so compose recreates the container
  expect(appDigest({ 'a.mjs': Buffer.from('2') })).not.toBe(digest);
  expect(appDigest({ 'b.mjs': Buffer.from('1') })).not.toBe(digest);
});

test('its unit starts after the secrets are fetched; ziggie-vps writes its files 0400 (the server refuses a store others can read)', () => {
  const unit = serviceUnitFile(cc);
  expect(unit).toContain('After=docker.service network-online.target ziggie-secrets.service');
  expect(unit).toContain('ConditionPathIsDirectory=/run/ziggie/secrets/control-center');
  expect(unit).toContain('ExecStart=/usr/bin/docker compose -p ziggie-control-center --project-directory /opt/ziggie/control-center -f /opt/ziggie/control-center/compose.yaml up -d --remove-orphans');
  const settings = vpsSettings(config, { backupDestination: 's3://b', backupSchedule: 'daily', sshPort: 22, endpoints: {} });
  expect(settings.services.find((s) => s.name === 'control-center')).toEqual({
    name: 'control-center', container: 'ziggie-control-center', secrets: { TOKEN_STORE: 'ziggie/prod/control-center-tokens' }, fileMode: '0400',
  });
  expect(settings.services.filter((s) => s.fileMode)).toHaveLength(1);
});

test('the config it reads on the VPS is the operator\'s, valid, with the token store in tmpfs and no operator path', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-config-'));
  try {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, controlCenterConfigYaml(config));
    const onVps = loadConfig(file);
    expect(onVps.controlCenter!.tokenStore).toBe('/run/secrets/TOKEN_STORE');
    expect(onVps.controlCenter!.deploy.inventory).toBeUndefined();
    const { controlCenter: a, ...rest } = onVps;
    const { controlCenter: b, ...expected } = config;
    expect(rest).toEqual(expected);
    expect({ ...a, tokenStore: b!.tokenStore, deploy: { ...a!.deploy, inventory: b!.deploy.inventory } }).toEqual(b);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the control plane\'s key: both inventory vars or neither; kept a Secret; its file says whose key it is', () => {
  const h = hostSettings(config, 'h', { vps_control_plane_aws_access_key_id: 'AKIACONTROLPLANE0001', vps_control_plane_aws_secret_access_key: 'cp-secret' });
  expect(h.controlPlaneCredentials!.accessKeyId).toBe('AKIACONTROLPLANE0001');
  expect(String(h.controlPlaneCredentials!.secretAccessKey)).toBe('***');
  expect(() => hostSettings(config, 'h', { vps_control_plane_aws_access_key_id: 'AKIACONTROLPLANE0001' })).toThrow(/give both vps_control_plane_aws_access_key_id/);
  expect(controlPlaneCredentialsFile('AKIACONTROLPLANE0001', 'k')).toMatch(/^# ziggie-control-plane IAM user[^\n]*\n\[default\]\naws_access_key_id = AKIACONTROLPLANE0001\naws_secret_access_key = k\n$/);
});

test('config: the token store secret must be one of secrets.names', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-bad-'));
  try {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, require('node:fs').readFileSync(EXAMPLE_CONFIG, 'utf8').replace('tokenStoreSecret: ziggie/prod/control-center-tokens', 'tokenStoreSecret: ziggie/prod/nope'));
    expect(() => loadConfig(file)).toThrow(/controlCenter\.vps\.tokenStoreSecret: "ziggie\/prod\/nope" is not in secrets\.names/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
