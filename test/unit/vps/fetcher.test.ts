/**
 * ziggie-vps fetch-secrets (the Python fetcher the VPS runs at boot) against the local Secrets Manager stand-in:
 * SigV4 with the credentials file's key, one file per variable holding exactly the value (root-only directories),
 * all-or-nothing per service, and no value in its output. Needs python3 with botocore (as the VPS has from apt); skips loudly otherwise.
 */
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeTier } from '../../support/tier';
import { startFakeAws, type FakeAws } from '../../../testhost/fake-aws';

const SCRIPT = path.resolve(__dirname, '../../../playbooks/hostinger-vps/ziggie-vps.py');
// the interpreter itself, not a shim (pyenv's would put its own bin dir first on PATH)
const probe = spawnSync('python3', ['-c', 'import botocore, sys; print(sys.executable)'], { encoding: 'utf8' });
const PYTHON = probe.stdout?.trim() || 'python3';
const reason = probe.status !== 0 ? `python3 with botocore is not available here (${(probe.stderr || String(probe.error)).trim().split('\n').pop()})`
  : process.getuid?.() !== 0 ? 'ziggie-vps runs as root only' : undefined;

describeTier('python-fetcher', reason, () => {
  jest.setTimeout(60_000); // python3 + botocore start in ~1-2 s each on a loaded machine
  let aws: FakeAws;
  let dir: string;
  const tricky = `a'b"c$d\${HOME}\\e f#g\nline2\ttab \`x\` \r end`;

  beforeAll(async () => {
    aws = await startFakeAws({ 'ziggie/prod/jwt-secret': tricky, 'ziggie/prod/redis-password': 'redis-pw-1' });
  });
  afterAll(() => aws.close());
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vps-fetcher-'));
    writeFileSync(path.join(dir, 'creds'), '[default]\naws_access_key_id = AKIAFETCHERTEST00001\naws_secret_access_key = fetcher-sk\n', { mode: 0o600 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const settings = (services: { name: string; secrets: Record<string, string>; fileMode?: string }[]) => {
    writeFileSync(path.join(dir, 'vps.json'), JSON.stringify({
      region: 'eu-north-1', credentialsFile: path.join(dir, 'creds'), secretsDir: path.join(dir, 'secrets'), mappingDigest: 'digest-1',
      endpoints: { secretsmanager: aws.url }, services: services.map((s) => ({ ...s, container: `ziggie-${s.name}` })), backup: { destination: 'file:///tmp', archives: [] },
    }));
  };
  const run = (...args: string[]) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(PYTHON, [SCRIPT, 'fetch-secrets', '--allow-any-dir', ...args], {
      env: { PATH: process.env.PATH, HOME: dir, ZIGGIE_VPS_CONFIG: path.join(dir, 'vps.json'), AWS_ACCESS_KEY_ID: 'AKIASHOULDNOTBEUSED1', AWS_SECRET_ACCESS_KEY: 'x' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });

  test('writes one file per variable, exactly the value, in a root-only directory per service', async () => {
    settings([{ name: 'api', secrets: { JWT_SECRET: 'ziggie/prod/jwt-secret' } }, { name: 'redis', secrets: { REDIS_PASSWORD: 'ziggie/prod/redis-password', JWT: 'ziggie/prod/jwt-secret' } }, { name: 'grafana', secrets: {} }]);
    const r = await run();
    expect(r.code).toBe(0);
    const sd = path.join(dir, 'secrets');
    expect(readdirSync(sd).sort()).toEqual(['.mapping', 'api', 'redis']);
    for (const d of ['', 'api', 'redis']) expect(statSync(path.join(sd, d)).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(sd, '.mapping')).mode & 0o777).toBe(0o600);
    // 0444: compose bind-mounts each file into the container, whose user is not always root
    for (const f of ['api/JWT_SECRET', 'redis/JWT', 'redis/REDIS_PASSWORD']) expect(statSync(path.join(sd, f)).mode & 0o777).toBe(0o444);
    expect(readFileSync(path.join(sd, '.mapping'), 'utf8')).toBe('digest-1\n');
    expect(readFileSync(path.join(sd, 'api/JWT_SECRET'), 'utf8')).toBe(tricky);
    expect(readdirSync(path.join(sd, 'redis')).sort()).toEqual(['JWT', 'REDIS_PASSWORD']);
    expect(readFileSync(path.join(sd, 'redis/REDIS_PASSWORD'), 'utf8')).toBe('redis-pw-1');
    // fetched once per secret, signed with the credentials file's key (not the environment's)
    expect(aws.calls.filter((c) => c.action === 'GetSecretValue').map((c) => [c.target, c.accessKeyId])).toEqual([
      ['ziggie/prod/jwt-secret', 'AKIAFETCHERTEST00001'], ['ziggie/prod/redis-password', 'AKIAFETCHERTEST00001'],
    ]);
    expect(r.out).not.toContain('redis-pw-1');
    expect(r.out).toContain('api: 1 secret(s)');
  });

  test('a service may ask for root-only files (fileMode 0400: the control center\'s token store)', async () => {
    settings([{ name: 'control-center', secrets: { TOKEN_STORE: 'ziggie/prod/redis-password' }, fileMode: '0400' }, { name: 'api', secrets: { JWT_SECRET: 'ziggie/prod/jwt-secret' } }]);
    expect((await run()).code).toBe(0);
    expect(statSync(path.join(dir, 'secrets/control-center/TOKEN_STORE')).mode & 0o777).toBe(0o400);
    expect(statSync(path.join(dir, 'secrets/api/JWT_SECRET')).mode & 0o777).toBe(0o444);
    expect(readFileSync(path.join(dir, 'secrets/control-center/TOKEN_STORE'), 'utf8')).toBe('redis-pw-1');
  });

  test('the env-file layout of earlier versions is removed; a variable no longer mapped loses its file', async () => {
    settings([{ name: 'redis', secrets: { REDIS_PASSWORD: 'ziggie/prod/redis-password', JWT: 'ziggie/prod/jwt-secret' } }]);
    require('node:fs').mkdirSync(path.join(dir, 'secrets'), { recursive: true });
    writeFileSync(path.join(dir, 'secrets/redis.env'), 'REDIS_PASSWORD="old"\n');
    expect((await run()).code).toBe(0);
    settings([{ name: 'redis', secrets: { REDIS_PASSWORD: 'ziggie/prod/redis-password' } }]);
    const r = await run();
    expect(r.code).toBe(0);
    expect(readdirSync(path.join(dir, 'secrets')).sort()).toEqual(['.mapping', 'redis']);
    expect(readdirSync(path.join(dir, 'secrets/redis'))).toEqual(['REDIS_PASSWORD']);
  });

  test('a missing secret: exit 1 naming it, the service\'s previous file kept, no half-filled file, no mapping mark', async () => {
    settings([{ name: 'api', secrets: { JWT_SECRET: 'ziggie/prod/jwt-secret' } }]);
    expect((await run()).code).toBe(0);
    const before = readFileSync(path.join(dir, 'secrets/api/JWT_SECRET'), 'utf8');
    rmSync(path.join(dir, 'secrets/.mapping'));
    settings([{ name: 'api', secrets: { JWT_SECRET: 'ziggie/prod/jwt-secret', MISSING: 'ziggie/prod/nope' } }]);
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.out).toContain('ziggie/prod/nope: ResourceNotFoundException');
    expect(readFileSync(path.join(dir, 'secrets/api/JWT_SECRET'), 'utf8')).toBe(before);
    expect(readdirSync(path.join(dir, 'secrets/api'))).toEqual(['JWT_SECRET']);
    expect(readdirSync(path.join(dir, 'secrets'))).not.toContain('.mapping');
    expect(r.out).not.toContain('a\'b"c');
  });

  test('the secrets of services no longer configured are removed', async () => {
    settings([{ name: 'api', secrets: { JWT_SECRET: 'ziggie/prod/jwt-secret' } }, { name: 'old', secrets: { X: 'ziggie/prod/redis-password' } }]);
    await run();
    settings([{ name: 'api', secrets: { JWT_SECRET: 'ziggie/prod/jwt-secret' } }]);
    const r = await run();
    expect(r.out).toContain('removed old/');
    expect(readdirSync(path.join(dir, 'secrets')).sort()).toEqual(['.mapping', 'api']);
  });

  test('without botocore it falls back to the AWS CLI v2 (same credentials file, endpoint, region)', async () => {
    settings([{ name: 'api', secrets: { JWT_SECRET: 'ziggie/prod/jwt-secret' } }]);
    // a botocore that cannot be imported, and an `aws` that answers like the CLI and records how it was called
    const stub = path.join(dir, 'stub');
    require('node:fs').mkdirSync(path.join(stub, 'botocore'), { recursive: true });
    writeFileSync(path.join(stub, 'botocore/__init__.py'), 'raise ImportError("no botocore in this test")\n');
    writeFileSync(path.join(stub, 'aws'), [
      '#!/bin/sh',
      `echo "$AWS_SHARED_CREDENTIALS_FILE $*" >> ${path.join(dir, 'aws-calls')}`,
      'printf \'{"Name": "x", "SecretString": "from-the-cli \\\\" q"}\'',
      '',
    ].join('\n'), { mode: 0o755 });
    const child = spawnSync(PYTHON, [SCRIPT, 'fetch-secrets', '--allow-any-dir'], {
      env: { PATH: `${stub}:${process.env.PATH}`, PYTHONPATH: stub, ZIGGIE_VPS_CONFIG: path.join(dir, 'vps.json') }, encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(readFileSync(path.join(dir, 'aws-calls'), 'utf8').trim()).toBe(
      `${path.join(dir, 'creds')} secretsmanager get-secret-value --secret-id ziggie/prod/jwt-secret --region eu-north-1 --output json --endpoint-url ${aws.url}`);
    expect(readFileSync(path.join(dir, 'secrets/api/JWT_SECRET'), 'utf8')).toBe('from-the-cli " q');
  });

  test('refuses a secrets dir outside /run (tmpfs) unless told otherwise', async () => {
    settings([{ name: 'api', secrets: { JWT_SECRET: 'ziggie/prod/jwt-secret' } }]);
    const child = spawnSync(PYTHON, [SCRIPT, 'fetch-secrets'], { env: { PATH: process.env.PATH, ZIGGIE_VPS_CONFIG: path.join(dir, 'vps.json') }, encoding: 'utf8' });
    expect(child.status).toBe(1);
    expect(child.stderr).toContain('secretsDir must be on tmpfs under /run');
  });
});
