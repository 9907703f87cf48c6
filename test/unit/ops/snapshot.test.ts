import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { AuditLog } from '../../../ops/audit/audit';
import { awsClients } from '../../../ops/aws/clients';
import { opsContext } from '../../../ops/context';
import { restoreLatestSnapshot, snapshotBeforeChange } from '../../../ops/hostinger/snapshot';
import { MissingTokenError, resolveHostingerToken } from '../../../ops/hostinger/token';
import { FakeHostinger, fixture, reply } from './hostinger-server';

const config = loadConfig(EXAMPLE_CONFIG);
const sm = mockClient(SecretsManagerClient);
const logs = mockClient(CloudWatchLogsClient);
const sts = mockClient(STSClient);
const VM = '/api/vps/v1/virtual-machines/100001';
let api: FakeHostinger;

beforeEach(async () => {
  sm.reset(); logs.reset(); sts.reset();
  logs.on(PutLogEventsCommand).resolves({});
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::111122223333:user/ci' });
  api = await new FakeHostinger().start();
});
afterEach(() => api.stop());

function context(env: NodeJS.ProcessEnv) {
  const aws = awsClients(config);
  const audit = new AuditLog({ logs: aws.logs, sts: aws.sts, logGroup: config.audit.logGroup, spoolDir: mkdtempSync(path.join(os.tmpdir(), 'z-')) });
  return opsContext(config, { aws, audit, env: { ...env, HOSTINGER_API_URL: api.url }, hostingerOptions: { sleep: async () => undefined } });
}

describe('the Hostinger token', () => {
  test('HOSTINGER_API_TOKEN wins', async () => {
    expect(await resolveHostingerToken({ secretId: 'ziggie/hostinger-api-token', secrets: new SecretsManagerClient({}), env: { HOSTINGER_API_TOKEN: ' abc ' } }))
      .toEqual({ token: 'abc', source: 'env' });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  test('else the secret from config', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'from-sm' });
    expect(await resolveHostingerToken({ secretId: 'ziggie/hostinger-api-token', secrets: new SecretsManagerClient({}), env: {} }))
      .toEqual({ token: 'from-sm', source: 'secrets-manager' });
    expect(sm.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: 'ziggie/hostinger-api-token' });
  });

  test('neither → one line with both ways to set it', async () => {
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error("Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"), { name: 'ResourceNotFoundException' }));
    const err = await resolveHostingerToken({ secretId: 'ziggie/hostinger-api-token', secrets: new SecretsManagerClient({}), env: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(MissingTokenError);
    expect(err.message).toBe('no Hostinger API token: set HOSTINGER_API_TOKEN or store it with `npm run ziggie -- secrets put ziggie/hostinger-api-token` (ziggie/hostinger-api-token has no value yet)');
  });
});

describe('snapshotBeforeChange (for provision:vps --snapshot-first)', () => {
  test('replaces the snapshot, waits for the action, audits it; token from Secrets Manager', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'sm-token' });
    api.on(`GET ${VM}`, reply(200, 'virtual-machine.json'))
      .on(`GET ${VM}/snapshot`, reply(200, 'snapshot.json'))
      .on(`POST ${VM}/snapshot`, reply(200, 'action-snapshot-created.json'))
      .on(`GET ${VM}/actions/8123712`, reply(200, 'action-snapshot-success.json'));
    const lines: string[] = [];
    const r = await snapshotBeforeChange(config, { context: context({}), pollIntervalMs: 1, reason: 'provision', log: (l) => lines.push(l) });
    expect(r).toMatchObject({ vmId: 100001, replaced: { id: 325 }, action: { state: 'success' }, snapshot: { id: 325 } });
    expect(api.requests.every((q) => q.headers.authorization === 'Bearer sm-token')).toBe(true);
    expect(lines[0]).toMatch(/replacing the snapshot of 2025-05-30T08:12:01Z/);
    const rec = JSON.parse(logs.commandCalls(PutLogEventsCommand)[0].args[0].input.logEvents![0].message!);
    expect(rec).toMatchObject({ action: 'vps.snapshot', target: 'hostinger-vm/100001', result: 'ok', who: 'arn:aws:iam::111122223333:user/ci', detail: { actionId: 8123712, reason: 'provision' } });
  });

  test('a locked VM is refused before anything is changed, and the failure is audited', async () => {
    const vm = { ...fixture<Record<string, unknown>>('virtual-machine.json'), actions_lock: 'locked' };
    api.on(`GET ${VM}`, { status: 200, body: vm });
    await expect(snapshotBeforeChange(config, { context: context({ HOSTINGER_API_TOKEN: 't' }) })).rejects.toThrow(/busy with another action/);
    expect(api.requests.filter((q) => q.method === 'POST')).toHaveLength(0);
    const rec = JSON.parse(logs.commandCalls(PutLogEventsCommand)[0].args[0].input.logEvents![0].message!);
    expect(rec).toMatchObject({ action: 'vps.snapshot', result: 'error' });
  });

  test('restoreLatestSnapshot restores and waits', async () => {
    api.on(`GET ${VM}/snapshot`, reply(200, 'snapshot.json'))
      .on(`POST ${VM}/snapshot/restore`, reply(200, 'action-snapshot-success.json'));
    const r = await restoreLatestSnapshot(config, { context: context({ HOSTINGER_API_TOKEN: 't' }) });
    expect(r).toMatchObject({ vmId: 100001, snapshot: { id: 325 }, action: { state: 'success' } });
  });
});
