/**
 * cloud:deploy / cloud:rollback on the VPS, through the control plane's pipeline, against a real Debian host
 * (systemd + Docker + Compose v2): a good version rolls out, a version whose health check fails is rolled back
 * automatically, the previous version is kept for a later rollback, and no other service restarts.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeTier } from '../support/tier';
import { bootHost, importBusybox, inventoryYaml, stopOwnHosts, testhostTierReason, RECIPE, type TestHost } from '../harness/testhost';
import { composeFile, projectDir, projectName } from '../../playbooks/hostinger-vps/render';
import { parseInventory } from '../../provision';
import type { ContainerConfig } from '../../config/schema';
import { ControlError } from '../../control/errors';
import { auditRecords, resetAuditMocks, testPlane, type TestPlane } from '../unit/control/helpers';

const reason = testhostTierReason();

const service = (name: string, image: string): ContainerConfig => ({
  name, image, command: ['sleep', '3600'], ports: [], volumes: [], env: {}, secrets: {}, secretsAs: 'file', publicPorts: false, backupPaths: [], init: true,
  healthcheck: { test: ['CMD-SHELL', 'test -f /healthy'], intervalSeconds: 1, retries: 2, startPeriodSeconds: 0 },
});

describeTier('testhost', reason, () => {
  jest.setTimeout(300_000);
  let host: TestHost;
  let t: TestPlane;

  const sh = async (cmd: string, input?: string): Promise<string> => {
    const r = await host.exec(cmd, { timeoutMs: 120_000, ...(input !== undefined ? { input: Buffer.from(input) } : {}) });
    if (r.code !== 0) throw new Error(`${cmd.slice(0, 80)}: exit ${r.code}: ${r.stderr}`);
    return r.stdout.toString();
  };
  const started = async (svc: string) => (await sh(`docker inspect -f '{{.State.StartedAt}} {{.Config.Image}} {{.State.Health.Status}}' ziggie-${svc}`)).trim();
  const deploy = (params: Record<string, unknown>, capability = 'cloud:deploy') =>
    t.plane.pipeline.call({ agent: 'agent-marcus', capability, params: { provider: 'hostinger', app: 'api', ...params }, surface: 'cli' });

  beforeAll(async () => {
    host = await bootHost({ waitForSystem: true });
    await importBusybox(host);
    // versions of an app: v1 and v2 pass the health check (/healthy exists), "bad" does not
    await sh(`docker rm -f mk >/dev/null 2>&1; docker run --name mk ${RECIPE.busyboxImage} touch /healthy && docker commit mk local/app:v1 >/dev/null `
      + `&& docker tag local/app:v1 local/app:v2 && docker tag local/app:v1 local/app:v3 && docker rm mk >/dev/null && docker tag ${RECIPE.busyboxImage} local/app:bad`);
    await sh('docker network create ziggie >/dev/null');
    for (const svc of [service('api', 'local/app:v1'), service('other', 'local/app:v1')]) {
      await sh(`mkdir -p ${projectDir(svc.name)} && cat > ${projectDir(svc.name)}/compose.yaml`, composeFile(svc));
      await sh(`docker compose -p ${projectName(svc.name)} --project-directory ${projectDir(svc.name)} -f ${projectDir(svc.name)}/compose.yaml up -d --wait`);
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-inv-'));
    const inventory = parseInventory(inventoryYaml([host], { hostVars: { ssh_host_key_fingerprint: host.hostKeyFingerprint } }), path.join(dir, 'inventory.yaml'));
    resetAuditMocks();
    t = testPlane({
      vps: { inventory },
      patch: (c) => {
        c.containers = [service('api', 'local/app:v1'), service('other', 'local/app:v1')];
        c.controlCenter.deploy.healthTimeoutSeconds = 30;
      },
    });
  });

  afterAll(async () => {
    await stopOwnHosts();
  });

  test('dry run: exactly what would change, nothing changed', async () => {
    const before = await started('api');
    const r = await deploy({ version: 'v2', dryRun: true });
    expect(r.result).toMatchObject({ provider: 'hostinger', dryRun: true, changed: true, from: 'local/app:v1', to: 'local/app:v2', service: 'api' });
    expect(await started('api')).toBe(before);
  });

  test('a good version rolls out, passes its health check, and nothing else restarts', async () => {
    const other = await started('other');
    const r = await deploy({ version: 'v2' });
    expect(r.result).toMatchObject({ changed: true, from: 'local/app:v1', to: 'local/app:v2', rolledBack: false, health: 'healthy' });
    expect(await started('api')).toMatch(/ local\/app:v2 healthy$/);
    expect(await started('other')).toBe(other);
    expect(JSON.parse(await sh('cat /var/lib/ziggie/deploy/api.json'))).toMatchObject({ current: 'local/app:v2', previous: 'local/app:v1' });
    // again: nothing to do
    expect((await deploy({ version: 'v2' })).result).toMatchObject({ changed: false });
  });

  test('a version that fails its health check is rolled back automatically; the deploy fails saying so', async () => {
    const other = await started('other');
    const err = await deploy({ version: 'bad' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect((err as ControlError).message).toMatch(/^local\/app:bad failed: health check failed \(unhealthy after \d+ s\); rolled back to local\/app:v2 \(healthy after \d+ s\)$/);
    expect(await started('api')).toMatch(/ local\/app:v2 healthy$/);
    expect(await started('other')).toBe(other);
    expect(await sh(`grep -c 'image: local/app:v2' ${projectDir('api')}/compose.yaml`)).toBe('1\n');
    expect(JSON.parse(await sh('cat /var/lib/ziggie/deploy/api.json'))).toMatchObject({ current: 'local/app:v2', previous: 'local/app:v1' });
  });

  test('rollback later returns to the previous version; the audit trail has every step with the agent id', async () => {
    const other = await started('other');
    const r = await deploy({}, 'cloud:rollback');
    expect(r.result).toMatchObject({ changed: true, from: 'local/app:v2', to: 'local/app:v1', health: 'healthy' });
    expect(await started('other')).toBe(other);
    const trail = auditRecords().filter((x) => x.detail?.phase === 'result').map((x) => [x.action, x.result, x.detail?.agent]);
    expect(trail).toEqual([
      ['cloud:deploy', 'ok', 'agent-marcus'], ['cloud:deploy', 'ok', 'agent-marcus'], ['cloud:deploy', 'no-change', 'agent-marcus'],
      ['cloud:deploy', 'error', 'agent-marcus'], ['cloud:rollback', 'ok', 'agent-marcus'],
    ]);
  });

  test('a service that is not installed on the host: one line, nothing changed', async () => {
    await expect(t.plane.pipeline.call({ agent: 'agent-marcus', capability: 'cloud:deploy', params: { provider: 'hostinger', app: 'nope', version: 'v1' }, surface: 'cli' }))
      .rejects.toThrow(/^app "nope" is not a VPS service/);
  });
});
