/**
 * A test bed for the VPS playbook (`npm run provision:vps`): a Docker test host, the example config with its
 * services as busybox stand-ins (vps-containers.yaml), Secrets Manager and S3 as a local stand-in (fake-aws.ts)
 * that the guest reaches on its own 127.0.0.1:GUEST_AWS_PORT through an `ssh -R` tunnel, and the inventory and
 * environment a run needs. Used by the testhost tier's VPS suite and by `npm run bench:provision`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { startFakeAws, type FakeAws } from './fake-aws';
import { bootHost, type TestHost } from './host';
import { inventoryYaml } from './inventory';

export const GUEST_AWS_PORT = 18080;
const REPO = path.resolve(__dirname, '..');

export interface VpsTestbed {
  host: TestHost;
  aws: FakeAws;
  /** the config file (example config + stand-in services); `config()`/`writeConfig()` edit it */
  configFile: string;
  inventory: string;
  /** the environment of a provision:vps run: the config, the VPS key's value, the operator's stand-in AWS */
  env: NodeJS.ProcessEnv;
  /** the secret values this bed created (none may appear in any output) */
  secretValues: { vpsSecretKey: string; operatorSecretKey: string };
  config(): Record<string, any>;
  writeConfig(c: Record<string, any>): void;
  stop(): Promise<void>;
}

const hex = (): string => randomBytes(8).toString('hex');

export async function vpsTestbed(o: { dir: string }): Promise<VpsTestbed> {
  const configFile = path.join(o.dir, 'vps-config.yaml');
  const c = parse(readFileSync(path.join(REPO, 'config/ziggie.example.yaml'), 'utf8')) as Record<string, any>;
  c.containers = parse(readFileSync(path.join(__dirname, 'vps-containers.yaml'), 'utf8'));
  writeFileSync(configFile, stringify(c));
  const names = [...(c.secrets.names as string[])];
  const aws = await startFakeAws(Object.fromEntries(names.map((n) => [n, `value-of-${n.split('/').pop()}-${hex()}`])));
  let host: TestHost | undefined;
  let tunnel: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (tunnel?.pid) tunnel.kill('SIGTERM');
    await aws.close();
    await host?.stop();
  };
  try {
    host = await bootHost({ waitForSystem: true });
    const secretValues = { vpsSecretKey: `vpssk-${hex()}`, operatorSecretKey: `opsk-${hex()}` };
    const inventory = path.join(o.dir, 'vps-inventory.yaml');
    writeFileSync(inventory, inventoryYaml([host], {
      hostVars: {
        ssh_host_key_fingerprint: host.hostKeyFingerprint,
        vps_aws_access_key_id: 'AKIATESTVPS000000001',
        vps_aws_endpoints: { secretsmanager: `http://127.0.0.1:${GUEST_AWS_PORT}`, s3: `http://127.0.0.1:${GUEST_AWS_PORT}` },
        vps_backup_destination: 's3://ziggie-cloud-backups',
      },
      rawHostVars: { vps_aws_secret_access_key: '!secret_env ZIGGIE_TEST_VPS_SECRET_KEY' },
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
      // the operator's credentials (only --migrate-env-files uses them), pointed at the stand-in
      AWS_ACCESS_KEY_ID: 'AKIAOPERATOR00000001', AWS_SECRET_ACCESS_KEY: secretValues.operatorSecretKey, AWS_REGION: 'eu-north-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    };
    return {
      host, aws, configFile, inventory, env, secretValues, stop,
      config: () => parse(readFileSync(configFile, 'utf8')) as Record<string, any>,
      writeConfig: (x) => writeFileSync(configFile, stringify(x)),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
