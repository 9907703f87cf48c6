/**
 * --snapshot-first through the ops issue's Hostinger client (ops/hostinger/snapshot.ts), against its local
 * Hostinger stand-in and recorded responses: the provision:vps adapter takes the snapshot, waits, and refuses
 * to go on when the action did not succeed.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { AuditLog } from '../../../ops/audit/audit';
import { awsClients } from '../../../ops/aws/clients';
import { opsContext } from '../../../ops/context';
import { hostingerSnapshot } from '../../../scripts/lib/provision-vps';
import { FakeHostinger, reply } from '../ops/hostinger-server';

const config = loadConfig(EXAMPLE_CONFIG);
const logs = mockClient(CloudWatchLogsClient);
const sts = mockClient(STSClient);
const VM = '/api/vps/v1/virtual-machines/100001';
let api: FakeHostinger;

beforeEach(async () => {
  logs.reset(); sts.reset();
  logs.on(PutLogEventsCommand).resolves({});
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::111122223333:user/ci' });
  api = await new FakeHostinger().start();
  api.on(`GET ${VM}`, reply(200, 'virtual-machine.json')).on(`GET ${VM}/snapshot`, reply(200, 'snapshot.json'))
    .on(`POST ${VM}/snapshot`, reply(200, 'action-snapshot-created.json'));
});
afterEach(() => api.stop());

const context = () => {
  const aws = awsClients(config);
  const audit = new AuditLog({ logs: aws.logs, sts: aws.sts, logGroup: config.audit.logGroup, spoolDir: mkdtempSync(path.join(os.tmpdir(), 'vps-snap-')) });
  return opsContext(config, { aws, audit, env: { HOSTINGER_API_TOKEN: 'test-token', HOSTINGER_API_URL: api.url }, hostingerOptions: { sleep: async () => undefined } });
};

test('takes the snapshot, waits for it and says so; audited as vps.snapshot with the reason', async () => {
  api.on(`GET ${VM}/actions/8123712`, reply(200, 'action-snapshot-success.json'));
  const lines: string[] = [];
  const note = await hostingerSnapshot(config, (l) => lines.push(l), { context: context(), pollIntervalMs: 1 });
  expect(note).toMatch(/^snapshot of VPS 100001 taken/);
  expect(api.requests.filter((q) => q.method === 'POST').map((q) => q.url)).toEqual([`${VM}/snapshot`]);
  expect(lines.join('\n')).toMatch(/replacing the snapshot of/);
  const rec = JSON.parse(logs.commandCalls(PutLogEventsCommand)[0]!.args[0].input.logEvents![0]!.message!);
  expect(rec).toMatchObject({ action: 'vps.snapshot', result: 'ok', detail: { reason: 'provision:vps --snapshot-first' } });
});

test('an action that ends in error is a failure (provision:vps then changes nothing)', async () => {
  api.on(`GET ${VM}/actions/8123712`, reply(200, 'action-error.json'));
  await expect(hostingerSnapshot(config, () => undefined, { context: context(), pollIntervalMs: 1 })).rejects.toThrow(/Hostinger action .* #8123799 failed/);
});
