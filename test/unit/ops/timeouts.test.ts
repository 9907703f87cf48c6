/**
 * No silent waits: an endpoint that accepts the connection and never answers fails within the configured
 * per-attempt timeout, with one line naming the endpoint, for the AWS clients (real SDK clients, real sockets)
 * and the Hostinger client. Nothing here asserts a duration: the jest timeout is the bound (without the timeouts
 * these calls would wait for minutes), and the measured latency is printed for the report.
 */
import net from 'node:net';
import { awsClients } from '../../../ops/aws/clients';
import { explainAwsError } from '../../../ops/aws/errors';
import { HostingerApiError, HostingerClient } from '../../../ops/hostinger/client';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

let silent: net.Server;
let silentUrl: string;
const sockets = new Set<net.Socket>();
let closedUrl: string;

beforeAll(async () => {
  // accepts, reads, never writes a byte
  silent = net.createServer((s) => { sockets.add(s); s.on('data', () => undefined); s.on('error', () => undefined); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  closedUrl = `http://127.0.0.1:${(closed.address() as net.AddressInfo).port}`;
  await new Promise((r) => closed.close(r));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

const env = { ...process.env };
beforeEach(() => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'not-a-secret', AWS_EC2_METADATA_DISABLED: 'true' });
});
afterEach(() => {
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL', 'AWS_EC2_METADATA_DISABLED']) {
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
});

const config = { region: 'eu-north-1' as const, ops: { awsMaxAttempts: 2, connectTimeoutMs: 500, requestTimeoutMs: 400 } };

async function timed<T>(p: Promise<T>): Promise<{ err: unknown; ms: number }> {
  const t0 = Date.now();
  const err = await p.then(() => new Error('answered'), (e: unknown) => e);
  return { err, ms: Date.now() - t0 };
}

test('an AWS endpoint that never answers: fails after maxAttempts × requestTimeoutMs, one line naming the endpoint', async () => {
  process.env.AWS_ENDPOINT_URL = silentUrl;
  const aws = awsClients(config);
  const r = await timed(aws.ec2.send(new DescribeInstancesCommand({})));
  process.stderr.write(`timeouts: EC2 DescribeInstances against a silent endpoint failed after ${r.ms} ms (2 attempts × 400 ms)\n`);
  expect((r.err as Error).name).toBe('AwsEndpointError');
  const line = explainAwsError(r.err, 'reading the GPU state');
  expect(line).toBe(`EC2 DescribeInstances: no answer from ${silentUrl} within 400 ms, 2 attempt(s) — check the network, proxy and region ` +
    '(ops.connectTimeoutMs / ops.requestTimeoutMs set the limits) (reading the GPU state)');
  expect(line.split('\n')).toHaveLength(1);
}, 10_000);

test('a closed port: one line naming the endpoint and the error code', async () => {
  process.env.AWS_ENDPOINT_URL = closedUrl;
  const r = await timed(awsClients(config).sts.send(new GetCallerIdentityCommand({})));
  expect((r.err as Error).message).toMatch(new RegExp(`^STS GetCallerIdentity: cannot reach ${closedUrl.replace(/\./g, '\\.')} \\(ECONNREFUSED\\), 2 attempt\\(s\\)`));
}, 10_000);

test('the Hostinger API never answering: a timeout error naming the base URL', async () => {
  const client = new HostingerClient({ token: 't', baseUrl: silentUrl, timeoutMs: 300, maxRetries: 1, sleep: async () => undefined });
  const r = await timed(client.getVirtualMachine(1));
  process.stderr.write(`timeouts: Hostinger GET against a silent endpoint failed after ${r.ms} ms (2 attempts × 300 ms)\n`);
  expect(r.err).toBeInstanceOf(HostingerApiError);
  expect((r.err as HostingerApiError).kind).toBe('timeout');
  expect((r.err as Error).message).toBe(`Hostinger API (${silentUrl}) did not answer GET /api/vps/v1/virtual-machines/1 within 300 ms (ops.requestTimeoutMs)`);
}, 10_000);

test('the Hostinger API sending headers, then stalling the body: the same deadline covers the body', async () => {
  const stall = net.createServer((s) => {
    sockets.add(s);
    s.once('data', () => s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"id":'));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(stall.address() as net.AddressInfo).port}`;
  try {
    const client = new HostingerClient({ token: 't', baseUrl: url, timeoutMs: 300, maxRetries: 0 });
    const r = await timed(client.getVirtualMachine(1));
    expect((r.err as HostingerApiError).kind).toBe('timeout');
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => stall.close(r));
  }
}, 10_000);
