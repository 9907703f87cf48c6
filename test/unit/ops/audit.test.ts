import { mkdtempSync, readFileSync, existsSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { AuditLog, type AuditRecord } from '../../../ops/audit/audit';

const logs = mockClient(CloudWatchLogsClient);
const sts = mockClient(STSClient);
let dir: string;

function auditLog(now = () => new Date()) {
  return new AuditLog({ logs: new CloudWatchLogsClient({}), sts: new STSClient({}), logGroup: '/ziggie/infrastructure-audit', spoolDir: dir, streamName: 'test', now });
}
const lines = (file: string): AuditRecord[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const unreachable = () => Object.assign(new Error('getaddrinfo ENOTFOUND logs.eu-north-1.amazonaws.com'), { name: 'Error', code: 'ENOTFOUND' });

beforeEach(() => {
  logs.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111122223333:assumed-role/ops/alice', Account: '111122223333' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-audit-'));
});

test('a record goes to CloudWatch with who, what, target, result and duration', async () => {
  logs.on(PutLogEventsCommand).resolves({});
  const a = auditLog();
  const value = await a.run('gpu.start', 'i-0abc', async () => 'started');
  expect(value).toBe('started');
  const input = logs.commandCalls(PutLogEventsCommand)[0].args[0].input;
  expect(input).toMatchObject({ logGroupName: '/ziggie/infrastructure-audit', logStreamName: 'test' });
  const rec = JSON.parse(input.logEvents![0].message!) as AuditRecord;
  expect(rec).toMatchObject({ who: 'arn:aws:sts::111122223333:assumed-role/ops/alice', action: 'gpu.start', target: 'i-0abc', result: 'ok' });
  expect(rec.durationMs).toBeGreaterThanOrEqual(0);
  expect(input.logEvents![0].timestamp).toBe(Date.parse(rec.time));
});

test('errors are recorded and rethrown; classify marks no-change and can name the target', async () => {
  logs.on(PutLogEventsCommand).resolves({});
  const a = auditLog();
  await expect(a.run('gpu.stop', 'gpu', async () => { throw new Error('denied\nstack'); })).rejects.toThrow('denied');
  await a.run('gpu.start', 'gpu', async () => ({ changed: false, id: 'i-9' }), (r) => ({ result: r.changed ? 'ok' : 'no-change', target: r.id }));
  const recs = logs.commandCalls(PutLogEventsCommand).map((c) => JSON.parse(c.args[0].input.logEvents![0].message!));
  expect(recs[0]).toMatchObject({ result: 'error', error: 'denied' });
  expect(recs[1]).toMatchObject({ result: 'no-change', target: 'i-9' });
});

test('the first write from a host creates its log stream', async () => {
  logs.on(PutLogEventsCommand).rejectsOnce(Object.assign(new Error('The specified log stream does not exist.'), { name: 'ResourceNotFoundException' })).resolves({});
  logs.on(CreateLogStreamCommand).resolves({});
  const d = await auditLog().record({ action: 'x', target: 'y', result: 'ok', durationMs: 1 });
  expect(d.delivered).toBe('cloudwatch');
  expect(logs.commandCalls(CreateLogStreamCommand)[0].args[0].input).toEqual({ logGroupName: '/ziggie/infrastructure-audit', logStreamName: 'test' });
  expect(logs.commandCalls(PutLogEventsCommand)).toHaveLength(2);
});

test('a failed CloudWatch write lands in the local audit file, and is sent later', async () => {
  logs.on(PutLogEventsCommand).rejects(unreachable());
  const a = auditLog();
  const d = await a.record({ action: 'secrets.put', target: 'ziggie/prod/jwt-secret', result: 'ok', durationMs: 12 });
  expect(d.delivered).toBe('local');
  expect(d.reason).toMatch(/ENOTFOUND/);
  expect(lines(a.spoolFile)).toEqual([expect.objectContaining({ action: 'secrets.put', target: 'ziggie/prod/jwt-secret', who: expect.stringContaining('alice') })]);

  // CloudWatch is back: the next record flushes the spool first, in order.
  logs.reset();
  logs.on(PutLogEventsCommand).resolves({});
  await a.record({ action: 'gpu.stop', target: 'i-0abc', result: 'ok', durationMs: 3 });
  const sent = logs.commandCalls(PutLogEventsCommand).map((c) => c.args[0].input.logEvents!.map((e) => JSON.parse(e.message!).action));
  expect(sent).toEqual([['secrets.put'], ['gpu.stop']]);
  expect(a.pendingCount()).toBe(0);
  expect(readdirSync(dir).filter((f) => f.endsWith('.sending'))).toEqual([]);
});

test('records whose CloudWatch write fails again stay spooled (never lost)', async () => {
  logs.on(PutLogEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
  const a = auditLog();
  await a.record({ action: 'a', target: 't', result: 'ok', durationMs: 1 });
  await a.record({ action: 'b', target: 't', result: 'ok', durationMs: 1 });
  expect(await a.flushPending()).toMatchObject({ sent: 0, remaining: 2 });
  expect(lines(a.spoolFile).map((r) => r.action).sort()).toEqual(['a', 'b']);
});

test('spooled records older than CloudWatch accepts are kept in the rejected file', async () => {
  const a = auditLog();
  const old = { id: '1', time: new Date(Date.now() - 20 * 86_400_000).toISOString(), who: 'x', localUser: 'u', host: 'h', action: 'old', target: 't', result: 'ok', durationMs: 1 };
  const fresh = { ...old, id: '2', time: new Date().toISOString(), action: 'fresh' };
  writeFileSync(a.spoolFile, `${JSON.stringify(old)}\n${JSON.stringify(fresh)}\n`);
  logs.on(PutLogEventsCommand).resolves({});
  expect(await a.flushPending()).toEqual({ sent: 1, remaining: 0, rejected: 1 });
  expect(lines(a.rejectedFile).map((r) => r.action)).toEqual(['old']);
});

test('two flushes at once send each record once', async () => {
  const a = auditLog();
  const rec = (i: number) => JSON.stringify({ id: String(i), time: new Date().toISOString(), who: 'x', localUser: 'u', host: 'h', action: `a${i}`, target: 't', result: 'ok', durationMs: 1 });
  writeFileSync(a.spoolFile, `${rec(1)}\n${rec(2)}\n`);
  logs.on(PutLogEventsCommand).callsFake(async () => { await new Promise((r) => setTimeout(r, 10)); return {}; });
  const [x, y] = await Promise.all([a.flushPending(), auditLog().flushPending()]);
  expect(x.sent + y.sent).toBe(2);
  const actions = logs.commandCalls(PutLogEventsCommand).flatMap((c) => c.args[0].input.logEvents!.map((e) => JSON.parse(e.message!).action));
  expect(actions.sort()).toEqual(['a1', 'a2']);
});

test('tail returns the latest records, oldest first', async () => {
  const ev = (i: number) => ({ message: JSON.stringify({ time: `2025-06-01T10:0${i}:00.000Z`, action: `a${i}` }) });
  logs.on(FilterLogEventsCommand)
    .resolvesOnce({ events: [ev(1), ev(2)], nextToken: 'n' })
    .resolves({ events: [ev(3), { message: 'not json' }] });
  const recs = await auditLog(() => new Date('2025-06-01T12:00:00Z')).tail({ limit: 2, sinceMs: 3_600_000 * 3 });
  expect(recs.map((r) => r.action)).toEqual(['a2', 'a3']);
  expect(logs.commandCalls(FilterLogEventsCommand)[0].args[0].input).toMatchObject({
    logGroupName: '/ziggie/infrastructure-audit', startTime: Date.parse('2025-06-01T09:00:00Z'),
  });
});

test('an unknown identity still records (who = unknown (local user))', async () => {
  sts.reset();
  sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('expired'), { name: 'ExpiredToken' }));
  logs.on(PutLogEventsCommand).resolves({});
  const d = await auditLog().record({ action: 'x', target: 'y', result: 'ok', durationMs: 0 });
  expect(d.record.who).toMatch(/^unknown \(.+@.+\)$/);
});
