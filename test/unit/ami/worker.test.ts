/**
 * The ComfyUI job worker (playbooks/comfyui/comfyui-worker.py) run for real, with the boto3 on this machine, against
 * real engines: fauxqs (an SQS/S3 emulator from npm speaking SQS's JSON protocol) for the queue and the results
 * bucket, and the ComfyUI stand-in from test/fixtures/comfyui. Only IMDS is faked (a Spot notice cannot be had
 * off EC2). The same scenarios run on the Debian test host with the installed service (test/testhost/comfyui-worker).
 *
 * Each scenario: a fresh queue (+ DLQ) and a fresh worker process; interruption notices are switched on by the
 * fake IMDS at a chosen phase (queued, running, uploading) and by SIGTERM.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startFauxqs, FAUXQS_ACCOUNT, type Fauxqs } from '../../support/fauxqs';
import { startComfyStandIn, type ComfyStandIn } from '../../fixtures/comfyui/standin';
import { WORKER_SCRIPT } from '../../../playbooks/comfyui/render';

const PYTHON = process.env.PYTHON ?? 'python3';
const REGION = 'eu-north-1';
const BUCKET = 'ziggie-test-assets';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function hasBoto3(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import boto3'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${PYTHON} has no boto3`;
  }
}

const missing = hasBoto3();
if (missing) {
  process.stderr.write(`SKIPPED: unit: comfyui worker: ${missing}\n`);
  test.skip(`SKIPPED: comfyui worker: ${missing}`, () => undefined);
} else {
  describe('the ComfyUI job worker', scenarios);
}

type Notice = false | (() => Promise<boolean>);

function scenarios(): void {
  jest.setTimeout(90_000);
  let aws: Fauxqs;
  let comfy: ComfyStandIn;
  let sqs: SQSClient;
  let s3: S3Client;
  let imds: http.Server;
  let hooks: http.Server;
  let imdsUrl: string;
  let notice: Notice = false;
  let callbacks: unknown[] = [];
  let callbackUrl: string;
  let dir: string;
  const workers: Worker[] = [];

  beforeAll(async () => {
    [aws, comfy] = await Promise.all([startFauxqs({ region: REGION, buckets: [BUCKET] }), startComfyStandIn()]);
    sqs = new SQSClient({ region: REGION, endpoint: aws.endpoint, credentials });
    s3 = new S3Client({ region: REGION, endpoint: aws.endpoint, credentials, forcePathStyle: true });
    dir = mkdtempSync(path.join(tmpdir(), 'worker-'));
    imds = http.createServer((req, res) => {
      if (req.method === 'PUT' && req.url === '/latest/api/token') return void res.end('token-1');
      if (req.headers['x-aws-ec2-metadata-token'] !== 'token-1') return void res.writeHead(401).end();
      if (req.url !== '/latest/meta-data/spot/instance-action') return void res.writeHead(404).end();
      void (async () => {
        const on = notice && (await notice());
        if (!on) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify({ action: 'stop', time: '2026-11-28T13:00:00Z' }));
      })();
    });
    hooks = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d)).on('end', () => {
        callbacks.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await Promise.all([listen(imds), listen(hooks)]);
    imdsUrl = `http://127.0.0.1:${(imds.address() as net.AddressInfo).port}`;
    callbackUrl = `http://127.0.0.1:${(hooks.address() as net.AddressInfo).port}/done`;
  });

  afterEach(async () => {
    notice = false;
    callbacks = [];
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  afterAll(async () => {
    sqs?.destroy();
    s3?.destroy();
    await Promise.all([aws?.stop(), comfy?.stop(), close(imds), close(hooks)]);
    rmSync(dir, { recursive: true, force: true });
  });

  // --- helpers ---------------------------------------------------------------------------------------------
  async function queue(name: string, maxReceiveCount = 5): Promise<{ url: string; dlq: string }> {
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
    const url = (await sqs.send(new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${REGION}:${FAUXQS_ACCOUNT}:${name}-dlq`, maxReceiveCount }),
      },
    }))).QueueUrl!;
    return { url, dlq };
  }

  function startWorker(queueUrl: string, over: Record<string, unknown> = {}): Worker {
    const config = path.join(dir, `worker-${workers.length}-${Date.now()}.json`);
    writeFileSync(config, JSON.stringify({
      queue_url: queueUrl, region: REGION, bucket: BUCKET, endpoint_url: aws.endpoint, comfyui_url: comfy.url,
      imds_url: imdsUrl, wait_seconds: 1, poll_seconds: 0.2, visibility_seconds: 3, checkpoint_seconds: 1,
      retry_delay_seconds: 0, status_file: path.join(dir, 'status.json'), ...over,
    }));
    const w = new Worker(config);
    workers.push(w);
    return w;
  }

  const depth = async (url: string) => {
    const a = (await sqs.send(new GetQueueAttributesCommand({
      QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }))).Attributes!;
    return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible) };
  };

  const send = (url: string, jobId: string, workflow: object, extra: object = {}) =>
    sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify({ jobId, workflow, ...extra }) }));

  const keys = async (jobId: string) => ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `comfyui/generated/${jobId}/` }))).Contents ?? [])
    .map((o) => o.Key!.slice(`comfyui/generated/${jobId}/`.length)).sort();

  const json = async (key: string) => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString());

  /** How many times ComfyUI ran this job's prompt (its SaveImage prefix is the job id). */
  const runs = async (jobId: string) => Object.values(await comfy.history())
    .filter((h) => Object.values(h.prompt[2]).some((n) => n.class_type === 'SaveImage' && n.inputs.filename_prefix === jobId)).length;

  const running = async () => ((await (await fetch(`${comfy.url}/queue`)).json()) as { queue_running: unknown[] }).queue_running.length > 0;

  /** Two images after `seconds` of "sampling". */
  const workflow = (jobId: string, seconds = 1.5) => ({
    '3': { class_type: 'KSampler', inputs: { seed: 7, steps: 20 } },
    '5': { class_type: 'Sleep', inputs: { seconds } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: jobId, count: 2 } },
  });

  async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${workers.map((w) => w.out).join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function expectOneResult(jobId: string, q: { url: string }) {
    await until('result.json', async () => (await keys(jobId)).includes('result.json'));
    await until('the message deleted', async () => { const d = await depth(q.url); return d.visible + d.inFlight === 0; });
    expect(await keys(jobId)).toEqual(['9-0.png', '9-1.png', 'result.json', 'state.json']);
    const result = await json(`comfyui/generated/${jobId}/result.json`);
    expect(result).toMatchObject({ jobId, status: 'succeeded' });
    expect(result.outputs.map((o: { url: string }) => o.url)).toEqual([
      `s3://${BUCKET}/comfyui/generated/${jobId}/9-0.png`, `s3://${BUCKET}/comfyui/generated/${jobId}/9-1.png`,
    ]);
    // every output uploaded exactly once, over every worker process that touched the job
    const uploads = workers.flatMap((w) => w.out.split('\n')).filter((l) => l.includes(`job ${jobId}: uploaded`));
    expect(uploads.map((l) => l.replace(/ \(.*$/, '')).sort()).toEqual([
      `job ${jobId}: uploaded comfyui/generated/${jobId}/9-0.png`, `job ${jobId}: uploaded comfyui/generated/${jobId}/9-1.png`,
    ]);
    return result;
  }

  // --- scenarios -------------------------------------------------------------------------------------------
  test('a job: ComfyUI runs it, two outputs and result.json under comfyui/generated/<job>/, callback called, message deleted', async () => {
    const q = await queue('happy');
    const w = startWorker(q.url);
    await send(q.url, 'job-happy', workflow('job-happy', 4), { callbackUrl });
    // 4 s of work with a 3 s visibility timeout: the worker must extend it, or the message would be visible again
    await until('the job running in ComfyUI', running);
    await new Promise((r) => setTimeout(r, 3500));
    expect(await depth(q.url)).toEqual({ visible: 0, inFlight: 1 });
    const result = await expectOneResult('job-happy', q);
    expect(await runs('job-happy')).toBe(1);
    await until('the callback', async () => callbacks.length === 1);
    expect(callbacks[0]).toEqual(result);
    const image = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'comfyui/generated/job-happy/9-0.png' }));
    expect(image.ContentType).toBe('image/png');
    expect(w.out).toMatch(/job job-happy: done, 2 output\(s\)/);
    // the status file the idle watchdog reads: empty queue, no job
    const status = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8'));
    expect(status).toMatchObject({ visible: 0, inFlight: 0 });
  });

  test('a job delivered twice produces one result: the second delivery is deleted without running', async () => {
    const q = await queue('twice');
    await send(q.url, 'job-twice', workflow('job-twice'));
    await send(q.url, 'job-twice', workflow('job-twice'));
    const w = startWorker(q.url);
    await expectOneResult('job-twice', q);
    await until('the duplicate deleted', async () => /job job-twice: result.json exists: a duplicate delivery, deleted/.test(w.out));
    expect(await runs('job-twice')).toBe(1);
  });

  test('interruption notice while the job is queued: the worker takes nothing; after the restart the job runs once', async () => {
    const q = await queue('queued');
    notice = async () => true;
    const w = startWorker(q.url);
    await until('the notice seen', async () => /spot interruption notice .*taking no jobs/.test(w.out));
    await send(q.url, 'job-queued', workflow('job-queued'));
    await new Promise((r) => setTimeout(r, 2000));
    expect(await depth(q.url)).toEqual({ visible: 1, inFlight: 0 });
    expect(await keys('job-queued')).toEqual([]);
    await w.stop();
    notice = false;
    startWorker(q.url);
    await expectOneResult('job-queued', q);
    expect(await runs('job-queued')).toBe(1);
  });

  test('interruption notice while ComfyUI runs the job: released at once with its prompt checkpointed; the retry reuses that prompt', async () => {
    const q = await queue('running');
    notice = running;
    const w = startWorker(q.url);
    await send(q.url, 'job-running', workflow('job-running', 3));
    await until('the release', async () => /released job-running \(spot interruption notice/.test(w.out));
    notice = async () => true; // the instance is going down: nothing more is taken
    expect(await depth(q.url)).toEqual({ visible: 1, inFlight: 0 });
    const state = await json('comfyui/generated/job-running/state.json');
    expect(state).toMatchObject({ phase: 'running', uploaded: {}, releases: [expect.objectContaining({ phase: 'running' })] });
    expect(state.promptId).toEqual(expect.any(String));
    expect(await keys('job-running')).toEqual(['state.json']);
    await w.stop();
    notice = false;
    startWorker(q.url);
    const result = await expectOneResult('job-running', q);
    expect(result.promptId).toBe(state.promptId);
    expect(await runs('job-running')).toBe(1);
  });

  test('interruption notice while uploading: released after the first output; the retry uploads only the rest', async () => {
    const q = await queue('uploading');
    notice = async () => (await keys('job-uploading')).includes('9-0.png');
    const w = startWorker(q.url);
    await send(q.url, 'job-uploading', workflow('job-uploading'));
    await until('the release', async () => /released job-uploading \(spot interruption notice/.test(w.out));
    expect(await depth(q.url)).toEqual({ visible: 1, inFlight: 0 });
    const state = await json('comfyui/generated/job-uploading/state.json');
    expect(state.phase).toBe('uploading');
    expect(Object.keys(state.uploaded)).toEqual(['9-0.png']);
    expect(await keys('job-uploading')).toEqual(['9-0.png', 'state.json']);
    await w.stop();
    notice = false;
    startWorker(q.url);
    await expectOneResult('job-uploading', q);
    expect(await runs('job-uploading')).toBe(1);
  });

  test('SIGTERM (shutdown) mid-job: released, the process exits 0; the next worker finishes it', async () => {
    const q = await queue('sigterm');
    const w = startWorker(q.url);
    await send(q.url, 'job-sigterm', workflow('job-sigterm', 3));
    await until('the job running in ComfyUI', running);
    expect(await w.stop()).toBe(0);
    expect(w.out).toMatch(/released job-sigterm \(SIGTERM\)/);
    expect(await depth(q.url)).toEqual({ visible: 1, inFlight: 0 });
    startWorker(q.url);
    await expectOneResult('job-sigterm', q);
    expect(await runs('job-sigterm')).toBe(1);
  });

  test('a job that always fails lands in the dead-letter queue after the configured receives, with no result', async () => {
    const q = await queue('failing', 3);
    const w = startWorker(q.url);
    await send(q.url, 'job-fails', { '1': { class_type: 'Fail', inputs: { message: 'out of VRAM' } } });
    await until('the dead-letter queue', async () => (await depth(q.dlq)).visible === 1);
    expect(await depth(q.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(w.out.match(/job job-fails failed \(receive \d\): ComfyUI: out of VRAM/g)).toHaveLength(3);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.dlq, WaitTimeSeconds: 0 }));
    expect(JSON.parse(dead.Messages![0]!.Body!).jobId).toBe('job-fails');
    expect(await keys('job-fails')).toEqual(['state.json']);
    expect(await json('comfyui/generated/job-fails/state.json')).toMatchObject({ phase: 'failed', attempts: 3, lastError: 'ComfyUI: out of VRAM' });
  });

  test('a malformed message is never run and reaches the dead-letter queue', async () => {
    const q = await queue('malformed', 2);
    const w = startWorker(q.url);
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: '{"jobId": "../etc", "workflow": {}}' }));
    await until('the dead-letter queue', async () => (await depth(q.dlq)).visible === 1);
    expect(w.out).toMatch(/bad job \(receive .*\): jobId must be 1-64 letters/);
  });

  test('a config without a queue: one line, exit 2', async () => {
    const config = path.join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ region: REGION, bucket: BUCKET, queue_urll: 'x' }));
    const w = new Worker(config);
    expect(await w.exited).toBe(2);
    expect(w.out.trim().split('\n')).toEqual([expect.stringMatching(/comfyui-worker: .*bad\.json: unknown keys queue_urll/)]);
  });
}

class Worker {
  out = '';
  readonly exited: Promise<number | null>;
  private child: ChildProcess;

  constructor(config: string) {
    this.child = spawn(PYTHON, [WORKER_SCRIPT, '--config', config], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.out += d));
    this.child.stderr!.on('data', (d) => (this.out += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

function listen(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
}

function close(server: net.Server | undefined): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
