/**
 * `npm run provision:vps` against a real Debian host (systemd, sshd, Docker + Compose v2) under systemd-nspawn:
 * the harness's VPS test bed (testhost/vps-testbed.ts: the example config's eight services as busybox stand-ins,
 * Secrets Manager and S3 as a local stand-in reached from the guest through an `ssh -R` tunnel).
 *
 * Runs the real CLI (scripts/provision-vps.mts, with --yes) as a subprocess, like an operator would, and checks: first run
 * converges; second run changed=0; one service's env change recreates only that container; check mode changes
 * nothing; the legacy .env migration; secrets reach containers as tmpfs files (never as environment, which Docker
 * persists), so no secret value is in any output or anywhere on disk but tmpfs — Docker's and containerd's state
 * included; the backup timer's job uploads archives that the restore command restores; a hostile archive behind a
 * valid manifest restores nothing inside or outside its volume, and a planted later key is ignored.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describeTier } from '../support/tier';
import { newToken, stopOwnHosts, testhostTierReason, vpsTestbed, type FakeAws, type TestHost, type VpsTestbed } from '../harness/testhost';
import { rollService } from '../../ops/deploy/hostinger';
import { parseInventory } from '../../provision';

const reason = testhostTierReason();
const ROOT = path.resolve(__dirname, '../..');
const hex = (): string => randomBytes(8).toString('hex');

// Secret values this run uses; none may appear in any output, nor on disk outside tmpfs.
const CANARY = `zcanary-${hex()}`;
const CANARY_VALUE = `${CANARY} $'"\\ end`; // quotes, $ and a backslash: env-file escaping must round-trip
const LEGACY = { jwt: `legacyjwt-${hex()}`, eleven: `legacyel-${hex()}`, meshy: `legacymeshy-${hex()}` };

interface RunResult { code: number | null; out: string; ms: number; recap: { ok: number; changed: number; failed: number } }

describeTier('testhost', reason, () => {
  jest.setTimeout(600_000);
  let bed: VpsTestbed;
  let host: TestHost;
  let aws: FakeAws;
  let dir: string;
  let VPS_SECRET_KEY: string;
  let OPERATOR_SECRET_KEY: string;
  let CONTROL_PLANE_SECRET_KEY: string;
  /** the agent token the VPS's token store holds now (rotated by a test below) */
  let agentToken: string;
  const outputs: string[] = [];
  const timings: Record<string, number> = {};

  const config = (): Record<string, any> => bed.config();
  const writeConfig = (c: Record<string, any>): void => bed.writeConfig(c);

  async function provision(...args: string[]): Promise<RunResult> {
    const t0 = Date.now();
    const report = path.join(dir, `report-${outputs.length}.json`);
    // as `npm run provision:vps` starts it: from its startup snapshot (bin/start.sh)
    const child = spawn('sh', [path.join(ROOT, 'bin/start.sh'), path.join(ROOT, 'scripts/provision-vps.mts'),
      '--inventory', bed.inventory, '--report', report, '--yes', ...args], {
      cwd: ROOT,
      env: bed.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    try {
      out += '\n' + readFileSync(report, 'utf8');
    } catch {
      /* no report (bad input) */
    }
    outputs.push(out);
    const m = /ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/.exec(out);
    const recap = { ok: Number(m?.[1] ?? -1), changed: Number(m?.[2] ?? -1), failed: Number(m?.[3] ?? -1) };
    return { code, out, ms: Date.now() - t0, recap };
  }

  const sh = async (cmd: string, timeoutMs = 120_000): Promise<string> => {
    const r = await host.exec(cmd, { timeoutMs });
    if (r.code !== 0) throw new Error(`${cmd.slice(0, 80)}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const containerIds = async (): Promise<Record<string, string>> =>
    Object.fromEntries((await sh(`docker ps -a --filter label=org.ziggie.managed-by=provision-vps --format '{{.Names}} {{.ID}}'`))
      .trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
  const sha = (s: string): string => require('node:crypto').createHash('sha256').update(s).digest('hex');
  /** The environment of a container's command (the child of docker-init), read from /proc on the host. */
  const commandEnv = async (container: string): Promise<Map<string, string>> => {
    const pid = (await sh(`docker inspect -f '{{.State.Pid}}' ${container}`)).trim();
    const child = (await sh(`cat /proc/${pid}/task/${pid}/children 2>/dev/null; true`)).trim().split(/\s+/)[0] || pid;
    const raw = Buffer.from((await sh(`base64 -w0 /proc/${child}/environ`)).trim(), 'base64').toString('utf8');
    return new Map(raw.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  };
  /**
   * sha256 of the secret a service sees as `name`: the file its <name>_FILE variable names (secretsAs: file; the
   * value itself never crosses the wire), or the variable in its command's process (secretsAs: env).
   */
  const envSha = async (container: string, name: string): Promise<string> => {
    const file = (await sh(`docker exec ${container} sh -c 'printf %s "$${name}_FILE"'`)).trim();
    if (file) return (await sh(`docker exec ${container} sha256sum ${file}`)).split(' ')[0]!;
    return sha((await commandEnv(container)).get(name) ?? '<unset>');
  };

  /** GET /api/me on the VPS's loopback with a token (sent on curl's stdin, never in argv): status and body. */
  const me = async (token: string): Promise<{ code: number; body: any }> => {
    for (let i = 0; ; i++) {
      const r = await host.exec(`curl -sS -H @- -w '\\n%{http_code}' http://127.0.0.1:7420/api/me`, { input: Buffer.from(`Authorization: Bearer ${token}\n`), timeoutMs: 30_000 });
      const lines = r.stdout.toString().trim().split('\n');
      const code = Number(lines.pop());
      // a container just (re)started may not listen yet
      if (i && (code || i >= 60)) process.stderr.write(`vps: the control center answered after ${i} retries\n`);
      if (code || i >= 60) return { code, body: code ? JSON.parse(lines.join('\n') || 'null') : r.stderr.toString() };
      await new Promise((res) => setTimeout(res, 500));
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vps-test-'));
    bed = await vpsTestbed({ dir });
    ({ host, aws } = bed);
    ({ vpsSecretKey: VPS_SECRET_KEY, operatorSecretKey: OPERATOR_SECRET_KEY, controlPlaneSecretKey: CONTROL_PLANE_SECRET_KEY, agentToken } = bed.secretValues);
    aws.secrets.set('ziggie/prod/n8n-encryption-key', CANARY_VALUE);
    process.stderr.write(`vps: booted ${host.name} in ${host.bootMs} ms\n`);
    // a legacy deployment's .env (migrated later, with --migrate-env-files)
    await sh(`mkdir -p /opt/ziggie/ziggie-api && printf '%s\\n' '# legacy' 'JWT_SECRET="${LEGACY.jwt}"' ` +
      `'export ELEVENLABS_API_KEY=${LEGACY.eleven}' "MESHY_API_KEY='${LEGACY.meshy}'" 'NODE_ENV=production' > /opt/ziggie/ziggie-api/.env`);
  });

  afterAll(async () => {
    await bed?.stop();
    await stopOwnHosts();
    process.stderr.write(`vps: timings ${JSON.stringify(timings)}\n`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('check mode on a fresh host reports changes and changes nothing', async () => {
    const before = await sh('ls /etc/systemd/system | sort; ls /opt/ziggie; docker ps -aq | wc -l');
    const r = await provision('--check', '--diff');
    expect(r.code).toBe(0);
    expect(r.recap.changed).toBeGreaterThan(10);
    expect(await sh('ls /etc/systemd/system | sort; ls /opt/ziggie; docker ps -aq | wc -l')).toBe(before);
    expect(await host.exec('test -e /etc/ziggie')).toMatchObject({ code: 1 });
  });

  test('first run converges: eight services, each its own compose project under a systemd unit', async () => {
    const r = await provision();
    timings.firstRunMs = r.ms;
    process.stderr.write(`vps: first run ${r.ms} ms (${r.recap.changed} changed)\n`);
    expect(r.code).toBe(0);
    expect(r.recap.failed).toBe(0);
    expect(r.out).toMatch(/WARNING: \/opt\/ziggie\/ziggie-api\/\.env still on disk/);
    const services = ['postgres', 'redis', 'n8n', 'flowise', 'grafana', 'sim-studio', 'mcp-gateway', 'ziggie-api', 'control-center'];
    const ids = await containerIds();
    expect(Object.keys(ids).sort()).toEqual(services.map((s) => `ziggie-${s}`).sort());
    for (const s of services) {
      expect((await sh(`systemctl is-active ziggie-${s}.service; systemctl is-enabled ziggie-${s}.service`)).split('\n').slice(0, 2)).toEqual(['active', 'enabled']);
      expect(await sh(`docker inspect -f '{{.State.Running}} {{index .Config.Labels "com.docker.compose.project"}}' ziggie-${s}`)).toBe(`true ziggie-${s}\n`);
    }
    // the secret reached the container, byte for byte, as a file its *_FILE variable names (secretsAs: file) ...
    expect(await sh('docker exec ziggie-n8n sh -c \'echo "$N8N_ENCRYPTION_KEY_FILE"\'')).toBe('/run/secrets/N8N_ENCRYPTION_KEY\n');
    expect(await envSha('ziggie-n8n', 'N8N_ENCRYPTION_KEY')).toBe(sha(CANARY_VALUE));
    // ... or as a variable of the command's process only (secretsAs: env), not of the container's configuration
    expect(await envSha('ziggie-ziggie-api', 'JWT_SECRET')).toBe(sha(aws.secrets.get('ziggie/prod/jwt-secret')!));
    expect(await sh(`docker inspect -f '{{json .Config.Env}}' ziggie-ziggie-api ziggie-n8n`)).not.toMatch(/JWT_SECRET=|N8N_ENCRYPTION_KEY=/);
    // tmpfs, root-only directories; the files 0444 for the container's own user
    expect(await sh(`stat -f -c %T /run/ziggie/secrets; stat -c '%a %U' /run/ziggie/secrets /run/ziggie/secrets/n8n /run/ziggie/secrets/n8n/N8N_ENCRYPTION_KEY /etc/ziggie/aws-credentials`))
      .toBe('tmpfs\n700 root\n700 root\n444 root\n600 root\n');
    expect(await sh('ls /run/ziggie/secrets/ziggie-api')).toBe('ELEVENLABS_API_KEY\nJWT_SECRET\nMESHY_API_KEY\n');
    // services reach each other by name on the shared network, and published ports stay on loopback
    expect(await sh('docker exec ziggie-n8n sh -c "echo ok > /home/node/.n8n/index.html"; curl -fsS http://127.0.0.1:5678/')).toBe('ok\n');
    expect((await host.exec('docker exec ziggie-ziggie-api ping -c1 -W2 postgres')).code).toBe(0);
    // the secrets were fetched with the VPS's key from the credentials file (SigV4-signed)
    const gets = aws.calls.filter((c) => c.action === 'GetSecretValue');
    expect(gets.length).toBeGreaterThanOrEqual(7);
    expect(new Set(gets.map((c) => c.accessKeyId))).toEqual(new Set(['AKIATESTVPS000000001']));
    // hardening and observability
    expect(await sh('ufw status | head -1')).toBe('Status: active\n');
    expect(await sh('ufw show added')).toContain("ufw allow from 198.51.100.0/24 to any port 22 proto tcp comment 'ziggie ssh allowlist'");
    expect(await sh('fail2ban-client status sshd | head -1')).toContain('Status for the jail: sshd');
    expect(await sh('docker exec ziggie-grafana ls /etc/grafana/provisioning/datasources /etc/grafana/provisioning/dashboards/ziggie'))
      .toBe('/etc/grafana/provisioning/dashboards/ziggie:\noverview.json\n\n/etc/grafana/provisioning/datasources:\ncloudwatch.yaml\n');
    expect(await sh('systemctl is-enabled ziggie-backup.timer; systemctl is-active ziggie-backup.timer')).toBe('enabled\nactive\n');
  });

  test('the control center runs on the VPS: its own compose project and unit, published on 127.0.0.1:7420 only, tokens from Secrets Manager in tmpfs', async () => {
    expect(await sh('systemctl is-active ziggie-control-center.service; systemctl is-enabled ziggie-control-center.service')).toBe('active\nenabled\n');
    expect(await sh('curl -fsS http://127.0.0.1:7420/livez')).toBe('{"ok":true}');
    // the real control center answers with the agent of a token whose hash came from Secrets Manager
    expect(await me(agentToken)).toEqual({ code: 200, body: { agent: 'agent-viewer', capabilities: ['cloud:status', 'cloud:costs', 'cloud:cost-daily', 'cloud:gpu-hours', 'health'] } });
    expect(aws.calls.filter((c) => c.action === 'GetSecretValue' && c.target === 'ziggie/prod/control-center-tokens').map((c) => c.accessKeyId))
      .toEqual(expect.arrayContaining(['AKIATESTVPS000000001']));
    // published on loopback only (the port is not on any other address of the host)
    const listening = (await sh("ss -ltnH '( sport = :7420 )' | awk '{print $4}' | sort -u")).trim().split('\n');
    expect(listening).toEqual(['127.0.0.1:7420']);
    // the token store: tmpfs, root-only 0400 (the server refuses a store others can read); only hashes in it
    expect(await sh('stat -f -c %T /run/ziggie/secrets/control-center; stat -c "%a %U" /run/ziggie/secrets/control-center/TOKEN_STORE /etc/ziggie/control-plane-credentials'))
      .toBe('tmpfs\n400 root\n600 root\n');
    expect(await sh('cat /run/ziggie/secrets/control-center/TOKEN_STORE')).not.toContain(bed.secretValues.agentToken);
    // no capability, no privilege gain, a read-only root; the AWS key is a mounted file, not environment
    expect(await sh("docker inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}' ziggie-control-center"))
      .toBe('true [ALL] [no-new-privileges:true]\n');
    expect(await sh("docker inspect -f '{{json .Config.Env}}' ziggie-control-center")).not.toMatch(/AKIA|aws_secret|zgt_/);
    expect(await sh("docker inspect -f '{{.State.Health.Status}}' ziggie-control-center")).toMatch(/^(healthy|starting)\n$/);
  });

  test('a rotated token store in Secrets Manager reaches the control center with --tags refresh-secrets: the old token stops working', async () => {
    const rotated = newToken();
    aws.secrets.set('ziggie/prod/control-center-tokens', bed.tokenStore({ 'agent-viewer': rotated }));
    const r = await provision('--tags', 'refresh-secrets');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/new values for control-center/);
    expect((await me(rotated)).body).toMatchObject({ agent: 'agent-viewer' });
    expect((await me(agentToken)).code).toBe(401);
    agentToken = rotated;
  });

  test('the docs/n8n workflows were imported into n8n once (n8n import:workflow, the stand-in logs it)', async () => {
    expect(await sh('docker exec ziggie-n8n cat /home/node/.n8n/imports.log'))
      .toBe('import:workflow --separate --input=/tmp/ziggie-workflows backup-status.json bedrock-chat.json gpu-comfyui-generate.json\n');
  });

  test('second run: changed=0', async () => {
    const ids = await containerIds();
    const r = await provision();
    timings.noopRunMs = r.ms;
    process.stderr.write(`vps: no-op run ${r.ms} ms\n`);
    expect(r.code).toBe(0);
    expect(r.recap).toMatchObject({ changed: 0, failed: 0 });
    expect(await containerIds()).toEqual(ids);
    // the same workflows are not imported again
    expect((await sh('docker exec ziggie-n8n cat /home/node/.n8n/imports.log')).split('\n').filter(Boolean)).toHaveLength(1);
  });

  test('a ufw rule added by hand is deleted, a deleted one comes back (decided on ufw\'s own files); then changed=0 again', async () => {
    await sh("ufw allow 8080/tcp >/dev/null && ufw delete allow 443/tcp >/dev/null");
    const r = await provision();
    expect(r.code).toBe(0);
    expect(r.recap.changed).toBe(1);
    const shown = await sh('ufw show added');
    expect(shown).not.toContain('8080');
    expect(shown).toContain("ufw allow 443/tcp comment 'ziggie https'");
    expect((await provision()).recap).toMatchObject({ changed: 0, failed: 0 });
  });

  test('changing one service\'s env recreates only that container (and the control center, which reads the config)', async () => {
    const ids = await containerIds();
    const c = config();
    c.containers.find((x: { name: string }) => x.name === 'n8n').env.GENERIC_TIMEZONE = 'Europe/Oslo';
    writeConfig(c);
    const r = await provision();
    expect(r.code).toBe(0);
    expect(r.recap.changed).toBe(3); // n8n's compose file; the control center's config.yaml and its compose file (the app digest)
    const now = await containerIds();
    for (const [name, id] of Object.entries(ids)) {
      if (name === 'ziggie-n8n' || name === 'ziggie-control-center') expect(now[name]).not.toBe(id);
      else expect(now[name]).toBe(id);
    }
    expect(await sh('docker exec ziggie-n8n sh -c \'echo "$GENERIC_TIMEZONE"\'')).toBe('Europe/Oslo\n');
    expect(await envSha('ziggie-n8n', 'N8N_ENCRYPTION_KEY')).toBe(sha(CANARY_VALUE));
  });

  test('check mode (with --diff) shows the change and changes nothing', async () => {
    const ids = await containerIds();
    const files = await sh('sha256sum /opt/ziggie/*/compose.yaml /etc/systemd/system/ziggie-* /etc/ziggie/*');
    const c = config();
    c.containers.find((x: { name: string }) => x.name === 'flowise').env = { FLOWISE_LOG: 'debug' };
    c.containers.find((x: { name: string }) => x.name === 'redis').secrets.REDIS_EXTRA = 'ziggie/prod/jwt-secret';
    writeConfig(c);
    const r = await provision('--check', '--diff');
    expect(r.code).toBe(0);
    expect(r.recap.changed).toBeGreaterThanOrEqual(3); // vps.json, secrets fetch, flowise, redis
    expect(r.out).toContain('+      FLOWISE_LOG: debug');
    expect(await sh('sha256sum /opt/ziggie/*/compose.yaml /etc/systemd/system/ziggie-* /etc/ziggie/*')).toBe(files);
    expect(await containerIds()).toEqual(ids);
    // then for real: flowise (env) and redis (secret mapping) are recreated, nothing else
    const applied = await provision();
    expect(applied.code).toBe(0);
    const now = await containerIds();
    for (const [name, id] of Object.entries(ids)) {
      if (['ziggie-flowise', 'ziggie-redis', 'ziggie-control-center'].includes(name)) expect(now[name]).not.toBe(id);
      else expect(now[name]).toBe(id);
    }
    expect(await envSha('ziggie-redis', 'REDIS_EXTRA')).toBe(sha(aws.secrets.get('ziggie/prod/jwt-secret')!));
    expect((await provision()).recap.changed).toBe(0);
  });

  test('--migrate-env-files moves legacy .env values into Secrets Manager, removes the file, restarts its users', async () => {
    const ids = await containerIds();
    const started = async (): Promise<Record<string, string>> => Object.fromEntries((await sh(
      `docker inspect -f '{{.Name}} {{.State.StartedAt}}' ${Object.keys(ids).join(' ')}`)).trim().split('\n').map((l) => l.replace(/^\//, '').split(' ') as [string, string]));
    const before = await started();
    const r = await provision('--migrate-env-files');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/put 3 value\(s\) into Secrets Manager, remove 1 file/);
    expect(aws.secrets.get('ziggie/prod/jwt-secret')).toBe(LEGACY.jwt);
    expect(aws.secrets.get('ziggie/prod/elevenlabs-api-key')).toBe(LEGACY.eleven);
    expect(aws.secrets.get('ziggie/prod/meshy-api-key')).toBe(LEGACY.meshy);
    // written with the operator's credentials, not the VPS's read-only key
    expect(aws.calls.filter((c) => c.action === 'PutSecretValue').map((c) => c.accessKeyId)).toEqual(Array(3).fill('AKIAOPERATOR00000001'));
    expect(await host.exec('test -e /opt/ziggie/ziggie-api/.env')).toMatchObject({ code: 1 });
    expect(await envSha('ziggie-ziggie-api', 'JWT_SECRET')).toBe(sha(LEGACY.jwt));
    expect(await envSha('ziggie-ziggie-api', 'MESHY_API_KEY')).toBe(sha(LEGACY.meshy));
    // JWT_SECRET is shared with mcp-gateway; redis now maps it too (previous test). New values are new files: the
    // users are restarted (which re-binds them), the others left alone; no container is recreated
    expect(await containerIds()).toEqual(ids);
    const after = await started();
    const users = ['ziggie-ziggie-api', 'ziggie-mcp-gateway', 'ziggie-redis'];
    for (const name of Object.keys(ids)) {
      if (users.includes(name)) expect([name, after[name]]).not.toEqual([name, before[name]]);
      else expect([name, after[name]]).toEqual([name, before[name]]);
    }
    expect(await envSha('ziggie-mcp-gateway', 'JWT_SECRET')).toBe(sha(LEGACY.jwt));
    expect(await envSha('ziggie-redis', 'REDIS_EXTRA')).toBe(sha(LEGACY.jwt));
    expect((await provision()).recap.changed).toBe(0);
  });

  test('a service removed from the config: unit, container, project dir and env file go; the others stay', async () => {
    const ids = await containerIds();
    const c = config();
    c.containers = c.containers.filter((x: { name: string }) => x.name !== 'sim-studio');
    writeConfig(c);
    const r = await provision();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/remove sim-studio \(volumes kept\)/);
    const now = await containerIds();
    expect(now['ziggie-sim-studio']).toBeUndefined();
    for (const [name, id] of Object.entries(ids)) if (name !== 'ziggie-sim-studio' && name !== 'ziggie-control-center') expect(now[name]).toBe(id);
    expect(await sh('ls /opt/ziggie; ls /run/ziggie/secrets')).not.toContain('sim-studio');
    expect(await sh('systemctl list-unit-files "ziggie-*" --no-legend | grep -c sim-studio || true')).toBe('0\n');
    expect(await sh('systemctl --failed --no-legend')).toBe('');
    expect((await provision()).recap.changed).toBe(0);
  });

  test('an agent\'s deploy survives a re-run (changed=0) until the config names a newer image, which then wins', async () => {
    await sh('docker tag local/busybox:latest local/busybox:v2 && docker tag local/busybox:latest local/busybox:v3');
    const ids = await containerIds();
    const target = { inventory: parseInventory(readFileSync(bed.inventory, 'utf8').replace(/!secret_env \S+/g, 'unused'), bed.inventory) };
    const rollout = { service: 'grafana', mode: 'deploy' as const, tag: 'v2', dryRun: false, healthTimeoutMs: 60_000, stableMs: 2000, pollMs: 250 };
    expect(await rollService(target, rollout)).toMatchObject({ changed: true, from: 'local/busybox:latest', to: 'local/busybox:v2' });
    const deployed = (await containerIds())['ziggie-grafana'];
    const image = async (): Promise<string> => (await sh("docker inspect -f '{{.Config.Image}}' ziggie-grafana")).trim();
    const r = await provision();
    expect(r.code).toBe(0);
    expect(r.recap).toMatchObject({ changed: 0, failed: 0 });
    expect(r.out).toContain('keeps local/busybox:v2 (deployed; the config still names local/busybox:latest)');
    expect(await image()).toBe('local/busybox:v2');
    expect(await containerIds()).toEqual({ ...ids, 'ziggie-grafana': deployed });
    // the operator names a new image in the config: it replaces the deployed one; the deployed one is kept as previous
    const c = config();
    c.containers.find((x: { name: string }) => x.name === 'grafana').image = 'local/busybox:v3';
    writeConfig(c);
    const r3 = await provision();
    expect(r3.code).toBe(0);
    expect(r3.recap.changed).toBe(3); // grafana's compose file; the control center's config and compose file
    expect(await image()).toBe('local/busybox:v3');
    expect(JSON.parse(await sh('cat /var/lib/ziggie/deploy/grafana.json'))).toMatchObject({ config: 'local/busybox:v3', current: 'local/busybox:v3', previous: 'local/busybox:v2' });
    expect((await provision()).recap.changed).toBe(0);
  });

  test('as at boot: with tmpfs empty and every unit stopped, multi-user.target fetches the secrets first, then starts the services', async () => {
    await sh('systemctl stop "ziggie-*.service" && rm -rf /run/ziggie');
    expect((await sh(`docker ps -q --filter label=org.ziggie.managed-by=provision-vps | wc -l`)).trim()).toBe('0');
    await sh('systemctl start multi-user.target', 300_000);
    expect(await sh('systemctl is-active ziggie-secrets.service ziggie-n8n.service ziggie-postgres.service')).toBe('active\nactive\nactive\n');
    // ordering: the fetcher finished before the first compose unit started
    const t = async (unit: string, prop: string): Promise<number> => Number((await sh(`systemctl show -p ${prop} --value ${unit}`)).trim());
    expect(await t('ziggie-secrets.service', 'ExecMainExitTimestampMonotonic')).toBeLessThanOrEqual(await t('ziggie-n8n.service', 'ExecMainStartTimestampMonotonic'));
    expect((await sh(`docker ps -q --filter label=org.ziggie.managed-by=provision-vps | wc -l`)).trim()).toBe('8');
    // the control center came back too, with its token store from Secrets Manager in tmpfs again
    expect(await sh('systemctl is-active ziggie-control-center.service')).toBe('active\n');
    expect(await me(agentToken)).toMatchObject({ code: 200, body: { agent: 'agent-viewer' } });
    expect(await envSha('ziggie-n8n', 'N8N_ENCRYPTION_KEY')).toBe(sha(CANARY_VALUE));
    expect((await provision()).recap.changed).toBe(0);
  });

  test('the backup timer\'s job uploads dated archives; the restore command brings the data back', async () => {
    const token = hex();
    await sh(`docker exec ziggie-n8n sh -c 'mkdir -p /home/node/.n8n/wf && echo n8n-${token} > /home/node/.n8n/wf/one.json'`);
    await sh(`docker exec ziggie-postgres sh -c 'echo "CREATE TABLE t (v text); -- pg-${token}" > /var/lib/postgresql/data/db.sql'`);
    await sh(`docker exec ziggie-flowise sh -c 'echo flowise-${token} > /root/.flowise/chatflow.json'`);
    await sh(`docker exec ziggie-grafana sh -c 'echo grafana-${token} > /var/lib/grafana/grafana.db'`);
    // the timer is scheduled nightly; run the unit it triggers, as it would at 03:15
    expect(await sh('systemctl show -p Unit --value ziggie-backup.timer')).toBe('ziggie-backup.service\n');
    expect(await sh('systemctl show -p TimersCalendar --value ziggie-backup.timer')).toContain('OnCalendar=*-*-* 03:15:00');
    await sh('systemctl start ziggie-backup.service', 300_000);
    expect(await sh('systemctl show -p Result --value ziggie-backup.service')).toBe('success\n');
    const day = (await sh('date -u +%Y/%m/%d')).trim();
    const keys = [...aws.objects.keys()].sort();
    const find = (prefix: string, re: RegExp): Buffer => {
      const k = keys.find((x) => x.startsWith(`ziggie-cloud-backups/${prefix}${day}/`) && re.test(x));
      if (!k) throw new Error(`no ${prefix}${day}/ object in ${keys.join(', ')}`);
      return gunzipSync(aws.objects.get(k)!);
    };
    expect(find('databases/', /postgres-\d{6}\.sql\.gz$/).toString()).toContain(`pg-${token}`);
    expect(find('n8n/workflows/', /n8n-\d{6}\.tar\.gz$/).toString('latin1')).toContain(`n8n-${token}`);
    expect(find('flowise/chatflows/', /flowise-\d{6}\.tar\.gz$/).toString('latin1')).toContain(`flowise-${token}`);
    expect(find('grafana/dashboards/', /grafana-\d{6}\.tar\.gz$/).toString('latin1')).toContain(`grafana-${token}`);
    expect(aws.calls.filter((c) => c.action === 'PutObject').every((c) => c.accessKeyId === 'AKIATESTVPS000000001')).toBe(true);

    // disaster: data lost or overwritten
    await sh(`docker exec ziggie-n8n sh -c 'rm -rf /home/node/.n8n/wf; echo junk > /home/node/.n8n/junk'`);
    await sh(`docker exec ziggie-postgres sh -c 'echo broken > /var/lib/postgresql/data/db.sql'`);
    await sh(`docker exec ziggie-flowise sh -c 'echo broken > /root/.flowise/chatflow.json'`);
    expect(await sh(`ziggie-vps list-backups --date ${day}`)).toMatch(/^flowise\t.*\ngrafana\t.*\nn8n\t.*\npostgres\t.*\n$/);
    // the documented restore (docs/vps.md)
    expect((await host.exec(`ziggie-vps restore --date ${day}`)).code).toBe(1); // refuses without --yes
    const out = await sh(`ziggie-vps restore --date ${day} --yes`, 300_000);
    expect(out).toMatch(/restored ziggie-n8n:\/home\/node\/\.n8n/);
    expect(await sh('docker exec ziggie-n8n cat /home/node/.n8n/wf/one.json')).toBe(`n8n-${token}\n`);
    expect((await host.exec('docker exec ziggie-n8n test -e /home/node/.n8n/junk')).code).toBe(1); // exact restore of a volume
    expect(await sh('docker exec ziggie-postgres cat /var/lib/postgresql/data/db.sql')).toContain(`pg-${token}`);
    expect(await sh('docker exec ziggie-flowise cat /root/.flowise/chatflow.json')).toBe(`flowise-${token}\n`);
    expect(await sh('docker exec ziggie-grafana cat /var/lib/grafana/grafana.db')).toBe(`grafana-${token}\n`);
    const running = await sh(`docker ps --filter label=org.ziggie.managed-by=provision-vps --format '{{.Names}}' | wc -l`);
    expect(running.trim()).toBe('8');
  });

  test('a hostile archive behind a valid manifest restores nothing, inside or outside its volume; a planted later key is ignored', async () => {
    const day = (await sh('date -u +%Y/%m/%d')).trim();
    // symlink to /outside, then a file through it: the archive the review used
    await sh(["python3 - <<'EOF'", 'import io, tarfile', "t = tarfile.open('/tmp/hostile.tar.gz', 'w:gz')",
      "m = tarfile.TarInfo('home/node/.n8n/link'); m.type = tarfile.SYMTYPE; m.linkname = '/outside'; t.addfile(m)",
      "d = b'pwned\\n'; m = tarfile.TarInfo('home/node/.n8n/link/pwned.txt'); m.size = len(d); t.addfile(m, io.BytesIO(d))",
      't.close()', 'EOF', 'mkdir -p /outside'].join('\n'));
    const archive = Buffer.from((await sh('base64 -w0 /tmp/hostile.tar.gz')).trim(), 'base64');
    const key = `n8n/workflows/${day}/n8n-235958.tar.gz`;
    const digest = require('node:crypto').createHash('sha256').update(archive).digest('hex');
    aws.objects.set(`ziggie-cloud-backups/${key}`, archive);
    aws.objects.set(`ziggie-cloud-backups/n8n/workflows/${day}/n8n-235958.manifest.json`, Buffer.from(JSON.stringify({
      version: 1, service: 'n8n', kind: 'tar', key, time: `${day.replace(/\//g, '-')}T23:59:58Z`, sha256: digest, size: archive.length })));
    aws.objects.set(`ziggie-cloud-backups/n8n/workflows/${day}/n8n-235959.tar.gz`, archive); // later, no manifest
    const before = await sh('docker exec ziggie-n8n find /home/node/.n8n | sort');
    const startedAt = await sh("docker inspect -f '{{.State.StartedAt}}' ziggie-n8n");
    const r = await host.exec(`ziggie-vps restore --date ${day} --service n8n --yes`, { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`ignored (no manifest names it): n8n/workflows/${day}/n8n-235959.tar.gz`);
    expect(r.stdout).toContain(`fetched ${key} (sha256 ${digest.slice(0, 12)}… verified)`);
    expect(r.stderr.trim()).toMatch(/^ziggie-vps: error: refusing \S+n8n-235958\.tar\.gz: home\/node\/\.n8n\/link is a symlink/);
    expect((await host.exec('test -e /outside/pwned.txt')).code).toBe(1);
    expect(await sh('ls -A /outside')).toBe('');
    // the volume and the container were not touched: same files, never stopped
    expect(await sh('docker exec ziggie-n8n find /home/node/.n8n | sort')).toBe(before);
    expect(await sh("docker inspect -f '{{.State.StartedAt}}' ziggie-n8n")).toBe(startedAt);
  });

  test('no secret value in any output, nor anywhere on disk: not in Docker\'s or containerd\'s state, /etc, /var/log or the journal', async () => {
    const all = outputs.join('\n');
    for (const v of [CANARY, VPS_SECRET_KEY, OPERATOR_SECRET_KEY, CONTROL_PLANE_SECRET_KEY, bed.secretValues.agentToken, agentToken, LEGACY.jwt, LEGACY.eleven, LEGACY.meshy]) expect(all).not.toContain(v);
    expect(all).toContain('***'); // the --diff of the credentials file was redacted, not skipped
    // the grep below would find a value if it were there: it finds each one in tmpfs, and the services read them
    const grepIn = async (needle: string, dirs: string): Promise<string[]> => (await sh(
      `grep -rlsF -- '${needle}' ${dirs}; true`, 300_000)).trim().split('\n').filter(Boolean).sort();
    expect(await grepIn(CANARY, '/run/ziggie/secrets')).toEqual(['/run/ziggie/secrets/n8n/N8N_ENCRYPTION_KEY']);
    expect(await grepIn(LEGACY.jwt, '/run/ziggie/secrets')).toEqual(expect.arrayContaining(['/run/ziggie/secrets/ziggie-api/JWT_SECRET']));
    expect(await sh('docker exec ziggie-n8n cat /run/secrets/N8N_ENCRYPTION_KEY')).toBe(CANARY_VALUE);
    expect(await envSha('ziggie-ziggie-api', 'JWT_SECRET')).toBe(sha(LEGACY.jwt));
    // after a full converge (and a reboot-like start, a rotation, a backup and a restore in the tests above)
    for (const v of [CANARY, LEGACY.jwt, LEGACY.meshy]) {
      expect(await grepIn(v, '/var/lib/docker /var/lib/containerd /etc /var/log')).toEqual([]);
      expect((await sh(`journalctl --no-pager -o cat 2>/dev/null | grep -c -F -- '${v}'; true`)).trim()).toBe('0');
    }
    // and every other file on the host's disks (not /proc, /sys, /dev or the /run tmpfs)
    const grep = async (needle: string): Promise<string[]> => (await sh(
      `for d in /*; do case "$d" in /proc|/sys|/dev|/run) ;; *) grep -rlsF -- '${needle}' "$d" ;; esac; done; true`, 300_000))
      .trim().split('\n').filter(Boolean).sort();
    for (const v of [CANARY, LEGACY.jwt, LEGACY.meshy]) {
      const hits = await grep(v);
      process.stderr.write(`vps: "${v.slice(0, 8)}…" on disk (outside /run): ${hits.join(', ') || 'nowhere'}\n`);
      expect(hits).toEqual([]);
    }
    // the VPS's own key is in exactly one file: root's, 0600; so is the control plane's; an agent token is nowhere
    expect(await grep(VPS_SECRET_KEY)).toEqual(['/etc/ziggie/aws-credentials']);
    expect(await grep(CONTROL_PLANE_SECRET_KEY)).toEqual(['/etc/ziggie/control-plane-credentials']);
    for (const t of [bed.secretValues.agentToken, agentToken]) {
      expect(await grep(t)).toEqual([]);
      expect(await grepIn(t, '/run')).toEqual([]);
    }
    // ... and in no unit or compose file
    expect(await sh('grep -rlsF -e AKIATESTVPS /etc/systemd /opt/ziggie || true')).toBe('');
  });
});
