/**
 * `ziggie gpu submit` and the library behind it (ops/gpu/submit.ts, also the control plane's gpu:submit).
 * End to end against real engines: the SDK v3 SQS/S3 clients → fauxqs (SQS JSON protocol) → the real worker
 * (python, boto3) → the ComfyUI stand-in → result.json read back. The CLI's flag and file handling with the
 * clients mocked (aws-sdk-client-mock), since its queue URL is the deployment's real one.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetObjectCommand, S3Client, NoSuchKey } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { AuditLog } from '../../../ops/audit/audit';
import { awsClients } from '../../../ops/aws/clients';
import { runCli } from '../../../ops/cli/program';
import { opsContext } from '../../../ops/context';
import { parseWorkflow, submitJob, submitTarget, waitForResult } from '../../../ops/gpu/submit';
import { WORKER_SCRIPT } from '../../../playbooks/comfyui/render';
import { startComfyStandIn } from '../../fixtures/comfyui/standin';
import { startFauxqs } from '../../support/fauxqs';

const config = loadConfig(EXAMPLE_CONFIG);
const workflow = {
  '3': { class_type: 'KSampler', inputs: { seed: 1 } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'cli', count: 2 } },
};

function hasBoto3(): boolean {
  try {
    execFileSync(process.env.PYTHON ?? 'python3', ['-c', 'import boto3'], { stdio: 'ignore' });
    return true;
  } catch {
    process.stderr.write('SKIPPED: unit: gpu submit end to end: python3 has no boto3\n');
    return false;
  }
}

(hasBoto3() ? test : test.skip)('submit → the worker on a real queue → waitForResult returns the output URLs', async () => {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const [aws, comfy] = await Promise.all([startFauxqs({ region: config.region, buckets: [config.storage.assetsBucket] }), startComfyStandIn()]);
  const dir = mkdtempSync(path.join(tmpdir(), 'submit-'));
  const sqs = new SQSClient({ region: config.region, endpoint: aws.endpoint, credentials, useQueueUrlAsEndpoint: false });
  const s3 = new S3Client({ region: config.region, endpoint: aws.endpoint, credentials, forcePathStyle: true });
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'ziggie-comfyui-jobs' }))).QueueUrl!;
  const target = { queueUrl, bucket: config.storage.assetsBucket };
  writeFileSync(path.join(dir, 'worker.json'), JSON.stringify({
    queue_url: queueUrl, region: config.region, bucket: target.bucket, endpoint_url: aws.endpoint, comfyui_url: comfy.url,
    imds_url: 'http://127.0.0.1:9', wait_seconds: 1, poll_seconds: 0.2, visibility_seconds: 30, status_file: path.join(dir, 'status.json'),
  }));
  const worker = spawn(process.env.PYTHON ?? 'python3', [WORKER_SCRIPT, '--config', path.join(dir, 'worker.json')], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }, stdio: 'ignore',
  });
  try {
    const sent = await submitJob({ sqs, s3 }, target, { workflow, jobId: 'submit-1' });
    expect(sent).toMatchObject({ jobId: 'submit-1', resultUrl: `s3://${target.bucket}/comfyui/generated/submit-1/result.json` });
    const result = await waitForResult({ s3 }, target, sent.jobId, { timeoutMs: 30_000, intervalMs: 200 });
    expect(result?.outputs.map((o) => o.url)).toEqual([
      `s3://${target.bucket}/comfyui/generated/submit-1/9-0.png`, `s3://${target.bucket}/comfyui/generated/submit-1/9-1.png`,
    ]);
  } finally {
    worker.kill('SIGTERM');
    sqs.destroy();
    s3.destroy();
    await Promise.all([aws.stop(), comfy.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test('waitForResult gives up after its timeout with undefined (the job stays queued), never a guess', async () => {
  const s3 = mockClient(S3Client);
  s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no', $metadata: {} }));
  const r = await waitForResult({ s3: new S3Client({}) }, { queueUrl: 'q', bucket: 'b' }, 'j', { timeoutMs: 0 });
  expect(r).toBeUndefined();
  expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
  s3.restore();
});

test('parseWorkflow names what is wrong with a workflow file', () => {
  expect(() => parseWorkflow('nope', 'w.json')).toThrow(/w.json: not JSON/);
  expect(() => parseWorkflow('{"nodes": [], "links": []}', 'w.json')).toThrow(/UI format; export it with "Export \(API\)"/);
  expect(() => parseWorkflow('{"3": {"inputs": {}}}', 'w.json')).toThrow(/node 3 has no class_type/);
  expect(parseWorkflow(JSON.stringify(workflow), 'w.json')).toEqual(workflow);
});

describe('npm run ziggie -- gpu submit', () => {
  // created here, not at collection time: a mock patches every client of its class, the end-to-end test's too
  const makeMocks = () => ({ sqs: mockClient(SQSClient), s3: mockClient(S3Client), logs: mockClient(CloudWatchLogsClient), sts: mockClient(STSClient) });
  let m: ReturnType<typeof makeMocks>;
  let dir: string;
  beforeAll(() => {
    m = makeMocks();
  });
  afterAll(() => Object.values(m).forEach((x) => x.restore()));
  beforeEach(() => {
    const { sqs, logs, sts } = m;
    Object.values(m).forEach((x) => x.reset());
    logs.on(PutLogEventsCommand).resolves({});
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111122223333:assumed-role/ops/alice', Account: '111122223333' });
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    dir = mkdtempSync(path.join(tmpdir(), 'submit-cli-'));
    writeFileSync(path.join(dir, 'wf.json'), JSON.stringify(workflow));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(args: string[]) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const code = await runCli(args, {
      config,
      io: { stdout, stderr, stdin: Object.assign(Readable.from([]), { isTTY: false }) },
      context: (c) => {
        const aws = awsClients(c);
        return opsContext(c, { aws, audit: new AuditLog({ logs: aws.logs, sts: aws.sts, logGroup: c.audit.logGroup, spoolDir: dir, streamName: 't' }) });
      },
      sleep: async () => undefined,
    });
    return { code, out: stdout.read()?.toString() ?? '', err: stderr.read()?.toString() ?? '' };
  }

  test('prints the job id; the message goes to the configured queue with the workflow', async () => {
    const r = await cli(['gpu', 'submit', path.join(dir, 'wf.json'), '--job-id', 'job-7']);
    expect(r).toMatchObject({ code: 0, out: 'job-7\n' });
    const input = m.sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    expect(input.QueueUrl).toBe(submitTarget(config).queueUrl);
    expect(input.QueueUrl).toBe('https://sqs.eu-north-1.amazonaws.com/111122223333/ziggie-comfyui-jobs');
    expect(JSON.parse(input.MessageBody!)).toEqual({ jobId: 'job-7', workflow });
  });

  test('--wait prints the output URLs from result.json', async () => {
    const result = { jobId: 'job-8', status: 'succeeded', outputs: [{ url: 's3://ziggie-cloud-assets/comfyui/generated/job-8/9-0.png' }] };
    m.s3.on(GetObjectCommand).rejectsOnce(new NoSuchKey({ message: 'no', $metadata: {} }))
      .resolves({ Body: { transformToString: async () => JSON.stringify(result) } as never });
    const r = await cli(['gpu', 'submit', path.join(dir, 'wf.json'), '--job-id', 'job-8', '--wait']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('job-8\ns3://ziggie-cloud-assets/comfyui/generated/job-8/9-0.png\n');
  });

  test.each([
    [['gpu', 'submit', 'missing.json'], /missing\.json: ENOENT/],
    [['gpu', 'submit', '__WF__', '--job-id', '../x'], /job id "\.\.\/x": use 1-64 letters/],
    [['gpu', 'submit', '__WF__', '--timeout', 'soon'], /--timeout soon: a number of minutes/],
  ])('bad input %j: one line, exit 2, nothing sent', async (args, message) => {
    const r = await cli(args.map((a) => (a === '__WF__' ? path.join(dir, 'wf.json') : a)));
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(message)]);
    expect(m.sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});
