/**
 * A test bed for the VPS playbook (`npm run provision:vps`): a Docker test host, the example config with its
 * services as busybox stand-ins (vps-containers.yaml), Secrets Manager and S3 as a local stand-in (fake-aws.ts)
 * that the guest reaches on its own 127.0.0.1:GUEST_AWS_PORT through an `ssh -R` tunnel, and the inventory and
 * environment a run needs. Used by the testhost tier's VPS suite and by `npm run bench:provision`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { startFakeAws, type FakeAws } from './fake-aws';
import { bootHost, type TestHost } from './host';
import { inventoryYaml } from './inventory';

export const GUEST_AWS_PORT = 18080;
/** The control center's runtime on the test host (no registry there): this machine's own node, imported as an image. */
export const NODE_TEST_IMAGE = 'local/node:20';
/** The agent whose token the bed puts in the control center's token store. */
export const TEST_AGENT = 'agent-viewer';
const REPO = path.resolve(__dirname, '..');

export interface VpsTestbed {
  host: TestHost;
  aws: FakeAws;
  /** the config file (example config + stand-in services); `config()`/`writeConfig()` edit it */
  configFile: string;
  inventory: string;
  /** the environment of a provision:vps run: the config, the VPS key's value, the operator's stand-in AWS */
  env: NodeJS.ProcessEnv;
  /** the secret values this bed created (none may appear in any output; the agent token never reaches the VPS) */
  secretValues: { vpsSecretKey: string; operatorSecretKey: string; controlPlaneSecretKey: string; agentToken: string };
  /** a token store (hashes only) for these agents' new tokens, as the control center's secret holds it */
  tokenStore(tokens: Record<string, string>): string;
  config(): Record<string, any>;
  writeConfig(c: Record<string, any>): void;
  stop(): Promise<void>;
}

const hex = (): string => randomBytes(8).toString('hex');

export async function vpsTestbed(o: { dir: string }): Promise<VpsTestbed> {
  const configFile = path.join(o.dir, 'vps-config.yaml');
  const c = parse(readFileSync(path.join(REPO, 'config/ziggie.example.yaml'), 'utf8')) as Record<string, any>;
  c.containers = parse(readFileSync(path.join(__dirname, 'vps-containers.yaml'), 'utf8'));
  c.controlCenter.vps.image = NODE_TEST_IMAGE;
  writeFileSync(configFile, stringify(c));
  const names = [...(c.secrets.names as string[])];
  const agentToken = newToken();
  const aws = await startFakeAws({
    ...Object.fromEntries(names.map((n) => [n, `value-of-${n.split('/').pop()}-${hex()}`])),
    [c.controlCenter.vps.tokenStoreSecret]: tokenStore({ [TEST_AGENT]: agentToken }),
  });
  let host: TestHost | undefined;
  let tunnel: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (tunnel?.pid) tunnel.kill('SIGTERM');
    await aws.close();
    await host?.stop();
  };
  try {
    host = await bootHost({ waitForSystem: true });
    await importNodeRuntime(host);
    const secretValues = { vpsSecretKey: `vpssk-${hex()}`, operatorSecretKey: `opsk-${hex()}`, controlPlaneSecretKey: `cpsk-${hex()}`, agentToken };
    const inventory = path.join(o.dir, 'vps-inventory.yaml');
    writeFileSync(inventory, inventoryYaml([host], {
      hostVars: {
        ssh_host_key_fingerprint: host.hostKeyFingerprint,
        vps_aws_access_key_id: 'AKIATESTVPS000000001',
        vps_control_plane_aws_access_key_id: 'AKIATESTCONTROL00001',
        vps_aws_endpoints: { secretsmanager: `http://127.0.0.1:${GUEST_AWS_PORT}`, s3: `http://127.0.0.1:${GUEST_AWS_PORT}` },
        vps_backup_destination: 's3://ziggie-cloud-backups',
      },
      rawHostVars: {
        vps_aws_secret_access_key: '!secret_env ZIGGIE_TEST_VPS_SECRET_KEY',
        vps_control_plane_aws_secret_access_key: '!secret_env ZIGGIE_TEST_CONTROL_PLANE_SECRET_KEY',
      },
    }));
    const ssh = host.sshArgs();
    tunnel = spawn('ssh', [...ssh.slice(0, -1), '-N', '-o', 'ExitOnForwardFailure=yes',
      '-R', `127.0.0.1:${GUEST_AWS_PORT}:127.0.0.1:${aws.port}`, ssh.at(-1)!], { stdio: 'ignore' });
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = (await host.exec(`bash -c 'exec 3<>/dev/tcp/127.0.0.1/${GUEST_AWS_PORT}'`)).code === 0;
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) throw new Error(`the ssh -R tunnel to the AWS stand-in did not come up on the guest's port ${GUEST_AWS_PORT}`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1',
      ZIGGIE_CONFIG: configFile,
      ZIGGIE_TEST_VPS_SECRET_KEY: secretValues.vpsSecretKey,
      ZIGGIE_TEST_CONTROL_PLANE_SECRET_KEY: secretValues.controlPlaneSecretKey,
      // the operator's credentials (only --migrate-env-files uses them), pointed at the stand-in
      AWS_ACCESS_KEY_ID: 'AKIAOPERATOR00000001', AWS_SECRET_ACCESS_KEY: secretValues.operatorSecretKey, AWS_REGION: 'eu-north-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    };
    return {
      host, aws, configFile, inventory, env, secretValues, stop, tokenStore,
      config: () => parse(readFileSync(configFile, 'utf8')) as Record<string, any>,
      writeConfig: (x) => writeFileSync(configFile, stringify(x)),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** An agent token as `npm run ziggie -- agent token issue` makes one (control/tokens.ts). */
export function newToken(): string {
  return `zgt_${randomBytes(32).toString('base64url')}`;
}

/** The token store's JSON for these agents' tokens: their SHA-256 only (control/tokens.ts's format). */
export function tokenStore(tokens: Record<string, string>): string {
  const entries = Object.entries(tokens).map(([agent, t]) => [agent, {
    sha256: createHash('sha256').update(t, 'utf8').digest('hex'), hint: t.slice(0, 8), issuedAt: '2026-11-28T00:00:00.000Z',
  }]);
  return `${JSON.stringify({ version: 1, tokens: Object.fromEntries(entries) }, null, 2)}\n`;
}

/**
 * NODE_TEST_IMAGE on the host: this machine's node binary and the libraries it links, `docker import`ed (the
 * official image's layout: /usr/local/bin/node). Returns milliseconds spent.
 */
export async function importNodeRuntime(host: TestHost): Promise<number> {
  const t0 = Date.now();
  if ((await host.exec(`docker image inspect ${NODE_TEST_IMAGE} >/dev/null 2>&1`)).code === 0) return Date.now() - t0;
  const node = process.execPath;
  const libs = spawnSync('ldd', [node], { encoding: 'utf8' }).stdout.split('\n')
    .map((l) => /(\/\S+) \(0x/.exec(l)?.[1]).filter((p): p is string => !!p);
  const tar = spawnSync('tar', ['-cf', '-', '--dereference', '-C', '/', `--transform=s,^${node.slice(1)}$,usr/local/bin/node,`,
    node.slice(1), ...libs.map((l) => l.slice(1))], { maxBuffer: 1 << 30 });
  if (tar.status !== 0) throw new Error(`tar of ${node} and its libraries failed: ${tar.stderr.toString().trim()}`);
  const r = await host.exec(`docker import -c 'CMD ["node"]' - ${NODE_TEST_IMAGE} >/dev/null`, { input: tar.stdout, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`docker import of ${NODE_TEST_IMAGE} on ${host.name} failed: ${r.stderr}`);
  return Date.now() - t0;
}
