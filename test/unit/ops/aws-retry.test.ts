/**
 * Throttling is retried by the SDK's own adaptive retry strategy (not by our code). aws-sdk-client-mock replaces
 * `send` and so skips the retry middleware; these tests instead point real clients at a local HTTP server that
 * answers like AWS: throttled first, then success.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { EC2Client } from '@aws-sdk/client-ec2';
import { awsClientConfig } from '../../../ops/aws/clients';
import { explainAwsError, isThrottling } from '../../../ops/aws/errors';
import { GpuControl } from '../../../gpu-control/control';

interface Canned { status: number; body: string; type: string }
let server: http.Server;
let endpoint: string;
let queue: Canned[] = [];
const seen: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      seen.push(String(req.headers['x-amz-target'] ?? new URLSearchParams(body).get('Action')));
      const next = queue.length > 1 ? queue.shift()! : queue[0];
      res.writeHead(next.status, { 'Content-Type': next.type, 'x-amzn-RequestId': 'req-1' });
      res.end(next.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
beforeEach(() => { queue = []; seen.length = 0; });

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const ops = { awsMaxAttempts: 4, connectTimeoutMs: 3000, requestTimeoutMs: 10_000 };
const config = { region: 'eu-north-1' as const, ops };

const json = (status: number, body: unknown): Canned => ({ status, body: JSON.stringify(body), type: 'application/x-amz-json-1.1' });
const throttledJson = json(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
const xml = (status: number, body: string): Canned => ({ status, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`, type: 'text/xml' });
const ec2Throttled = xml(503, '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>');

test('the ops clients use the adaptive retry mode with ops.awsMaxAttempts', () => {
  expect(awsClientConfig(config)).toEqual({ region: 'eu-north-1', maxAttempts: 4, retryMode: 'adaptive',
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000, socketTimeout: 10_000, throwOnRequestTimeout: true } });
  expect(awsClientConfig(config, 'us-east-1').region).toBe('us-east-1');
});

test('Cost Explorer throttling is retried until it succeeds', async () => {
  queue = [throttledJson, throttledJson, json(200, { ResultsByTime: [{ Groups: [{ Keys: ['Amazon EC2'], Metrics: { UnblendedCost: { Amount: '1.5', Unit: 'USD' } } }] }] })];
  const ce = new CostExplorerClient({ ...awsClientConfig(config, 'us-east-1'), endpoint, credentials });
  const out = await ce.send(new GetCostAndUsageCommand({ TimePeriod: { Start: '2025-06-01', End: '2025-06-02' }, Granularity: 'MONTHLY', Metrics: ['UnblendedCost'] }));
  expect(out.ResultsByTime?.[0].Groups?.[0].Metrics?.UnblendedCost.Amount).toBe('1.5');
  expect(out.$metadata.attempts).toBe(3);
  expect(seen).toHaveLength(3);
});

test('persistent throttling gives up after maxAttempts with a one-line message', async () => {
  queue = [throttledJson];
  const ce = new CostExplorerClient({ ...awsClientConfig({ ...config, ops: { ...ops, awsMaxAttempts: 2 } }, 'us-east-1'), endpoint, credentials });
  const err = await ce.send(new GetCostAndUsageCommand({ TimePeriod: { Start: '2025-06-01', End: '2025-06-02' }, Granularity: 'MONTHLY', Metrics: ['UnblendedCost'] })).catch((e) => e);
  expect(isThrottling(err)).toBe(true);
  expect(seen).toHaveLength(2);
  expect(explainAwsError(err, 'reading costs')).toBe(
    'AWS is throttling requests while reading costs (ThrottlingException, gave up after 2 attempts with adaptive back-off): wait a minute and run it again, or raise ops.awsMaxAttempts');
});

test('EC2 RequestLimitExceeded during gpu start is retried by the SDK; one start lands', async () => {
  const described = xml(200, `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>
    <reservationSet><item><reservationId>r-1</reservationId><instancesSet><item><instanceId>i-0abc</instanceId><instanceType>g4dn.xlarge</instanceType>
    <instanceState><code>80</code><name>stopped</name></instanceState></item></instancesSet></item></reservationSet></DescribeInstancesResponse>`);
  const started = xml(200, `<StartInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><instancesSet><item>
    <instanceId>i-0abc</instanceId><currentState><code>0</code><name>pending</name></currentState><previousState><code>80</code><name>stopped</name></previousState>
    </item></instancesSet></StartInstancesResponse>`);
  queue = [ec2Throttled, described, ec2Throttled, started];
  const ec2 = new EC2Client({ ...awsClientConfig(config), endpoint, credentials });
  const answer = await new GpuControl({ ec2 }, { project: 'Ziggie', port: 8188 }).start();
  expect(answer).toMatchObject({ state: 'starting', changed: true, instanceId: 'i-0abc' });
  expect(seen).toEqual(['DescribeInstances', 'DescribeInstances', 'StartInstances', 'StartInstances']);
});
