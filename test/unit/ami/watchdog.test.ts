/**
 * The idle watchdog (playbooks/comfyui/comfyui-watchdog.py), run for real as the timer runs it, against fakes:
 * a ComfyUI answering /queue, nvidia-smi on PATH, the CloudWatch agent's EMF listener, IMDSv2, the AWS CLI and
 * the poweroff command. Its pure decision logic has its own Python unittest (test_watchdog.py), run here too.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { COMFYUI_QUEUE_METRIC, IDLE_THRESHOLDS } from '../../../shared/gpu-signals';
import { WATCHDOG_SCRIPT, watchdogConfig } from '../../../playbooks/comfyui/render';

const run = promisify(execFile);
const PYTHON = process.env.PYTHON ?? 'python3';
const INSTANCE = 'i-0123456789abcdef0';

interface Fakes {
  dir: string;
  queue: { body: unknown; status: number };
  comfy: http.Server;
  comfyPort: number;
  emfLines: string[];
  emf: net.Server;
  emfPort: number;
}

let f: Fakes;

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

beforeEach(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'watchdog-'));
  const queue = { body: { queue_running: [], queue_pending: [] } as unknown, status: 200 };
  const comfy = http.createServer((req, res) => {
    if (req.url === '/queue') {
      res.writeHead(queue.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(queue.body));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  const emfLines: string[] = [];
  const emf = net.createServer((sock) => {
    let buf = '';
    sock.on('data', (d) => (buf += d.toString()));
    sock.on('end', () => emfLines.push(...buf.split('\n').filter(Boolean)));
  });
  const [comfyPort, emfPort] = await Promise.all([listen(comfy), listen(emf)]);
  f = { dir, queue, comfy, comfyPort, emfLines, emf, emfPort };
  fakeCommand('nvidia-smi', 'echo "${FAKE_GPU_UTIL:-0}"');
  fakeCommand('fake-poweroff', `echo "$@" >> ${dir}/poweroff.log`);
});

afterEach(async () => {
  await Promise.all([new Promise((r) => f.comfy.close(r)), new Promise((r) => f.emf.close(r))]);
  rmSync(f.dir, { recursive: true, force: true });
});

function fakeCommand(name: string, body: string): void {
  const bin = path.join(f.dir, 'bin');
  require('node:fs').mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(path.join(bin, name), 0o755);
}

function config(over: Record<string, unknown> = {}): string {
  const base = watchdogConfig({ comfyuiPort: f.comfyPort, idleMinutes: 10 });
  const cfg = {
    ...base,
    emf: { ...base.emf, address: `tcp://127.0.0.1:${f.emfPort}` },
    state_file: path.join(f.dir, 'run', 'state.json'),
    poweroff_command: ['fake-poweroff', '--now'],
    inhibit_files: [path.join(f.dir, 'inhibit')],
    worker_status_file: path.join(f.dir, 'worker-status.json'),
    instance_id: INSTANCE,
    aws_cli_fallback: true,
    ...over,
  };
  const file = path.join(f.dir, 'watchdog.json');
  writeFileSync(file, JSON.stringify(cfg));
  return file;
}

async function watchdog(cfg: string, env: Record<string, string> = {}, args: string[] = []) {
  const r = await run(PYTHON, [WATCHDOG_SCRIPT, '--config', cfg, ...args], {
    env: { ...process.env, PATH: `${path.join(f.dir, 'bin')}:/usr/bin:/bin`, ...env },
    timeout: 20_000,
  });
  // the EMF listener records a line once the client's socket ends; give it a moment
  await new Promise((r) => setTimeout(r, 50));
  return r.stdout;
}

const poweredOff = (): boolean => existsSync(path.join(f.dir, 'poweroff.log'));
const state = (): Record<string, unknown> => JSON.parse(readFileSync(path.join(f.dir, 'run', 'state.json'), 'utf8'));
const setIdleSince = (secondsAgo: number): void => {
  require('node:fs').mkdirSync(path.join(f.dir, 'run'), { recursive: true });
  writeFileSync(path.join(f.dir, 'run', 'state.json'), JSON.stringify({ idle_since: Date.now() / 1000 - secondsAgo }));
};

// each test starts python3 (with its own 20–30 s timeout): on a loaded 2-core CI machine that exceeds jest's 5 s default
jest.setTimeout(60_000);

describe('the watchdog, run as the timer runs it', () => {
  test('the pure decision logic passes its Python unittest', async () => {
    const r = await run(PYTHON, ['-m', 'unittest', 'discover', '-s', path.join(__dirname), '-p', 'test_*.py'], { timeout: 30_000 });
    expect(r.stderr).toMatch(/Ran \d+ tests[\s\S]*OK/);
  });

  test('busy (an item in the queue): stays up, publishes QueueDepth through the agent EMF listener', async () => {
    f.queue.body = { queue_running: [[1, 'prompt']], queue_pending: [] };
    setIdleSince(3600);
    const out = await watchdog(config());
    expect(out).toMatch(/queue=1 .* busy \(queue 1 >= 1\) -> stay up \[published via emf\]/);
    expect(poweredOff()).toBe(false);
    expect(state().idle_since).toBeNull();
    expect(f.emfLines).toHaveLength(1);
    const doc = JSON.parse(f.emfLines[0]!);
    expect(doc._aws.CloudWatchMetrics).toEqual([{
      Namespace: COMFYUI_QUEUE_METRIC.namespace, Dimensions: [['InstanceId']],
      Metrics: [{ Name: COMFYUI_QUEUE_METRIC.name, Unit: 'Count' }],
    }]);
    expect(doc).toMatchObject({ InstanceId: INSTANCE, QueueDepth: 1 });
    expect(Math.abs(doc._aws.Timestamp - Date.now())).toBeLessThan(10_000);
  });

  test('idle for idle_minutes: publishes QueueDepth 0, then powers off', async () => {
    setIdleSince(10 * 60 + 5);
    const out = await watchdog(config());
    expect(out).toMatch(/-> POWER OFF/);
    expect(readFileSync(path.join(f.dir, 'poweroff.log'), 'utf8')).toBe('--now\n');
    expect(JSON.parse(f.emfLines[0]!)).toMatchObject({ QueueDepth: 0, InstanceId: INSTANCE });
    expect(state().poweroff_requested_at).toEqual(expect.any(Number));
  });

  test('idle, but the first run after boot: starts the clock, stays up', async () => {
    const out = await watchdog(config());
    expect(out).toMatch(/idle 0s\/600s -> stay up/);
    expect(poweredOff()).toBe(false);
    expect(state().idle_since).toEqual(expect.any(Number));
    expect(state().cpu_counters).toEqual([expect.any(Number), expect.any(Number)]);
  });

  test('the GPU is busy while the queue is empty: stays up', async () => {
    setIdleSince(3600);
    const out = await watchdog(config(), { FAKE_GPU_UTIL: '87' });
    expect(out).toMatch(/gpu=87% .*busy \(gpu 87% >= 5%\)/);
    expect(poweredOff()).toBe(false);
  });

  test('ComfyUI does not answer: no QueueDepth datapoint (the Lambda must not think it is up), idle clock runs', async () => {
    f.queue.status = 500;
    f.queue.body = 'boom';
    setIdleSince(3600);
    const out = await watchdog(config());
    expect(out).toMatch(/ComfyUI \/queue: /);
    expect(f.emfLines).toEqual([]);
    expect(poweredOff()).toBe(true);
  });

  test('jobs waiting in the SQS queue (the worker\'s status file) keep it up; a stale status file does not', async () => {
    setIdleSince(3600);
    const status = (at: number) => writeFileSync(path.join(f.dir, 'worker-status.json'),
      JSON.stringify({ at, job: null, visible: 2, inFlight: 0 }));
    status(Date.now() / 1000 - 5);
    expect(await watchdog(config())).toMatch(/jobs=2 .*busy \(2 job\(s\) in the SQS queue\) -> stay up/);
    expect(poweredOff()).toBe(false);
    status(Date.now() / 1000 - 600);
    setIdleSince(3600);
    expect(await watchdog(config())).toMatch(/jobs=- .*-> POWER OFF/);
  });

  test('an inhibit file keeps the instance up', async () => {
    writeFileSync(path.join(f.dir, 'inhibit'), '');
    setIdleSince(3600);
    const out = await watchdog(config());
    expect(out).toMatch(/inhibited\) -> stay up/);
    expect(poweredOff()).toBe(false);
  });

  test('--dry-run decides but neither publishes, saves nor powers off', async () => {
    setIdleSince(3600);
    const before = readFileSync(path.join(f.dir, 'run', 'state.json'), 'utf8');
    const out = await watchdog(config(), {}, ['--dry-run']);
    expect(out).toMatch(/-> POWER OFF \[dry run\]/);
    expect(poweredOff()).toBe(false);
    expect(f.emfLines).toEqual([]);
    expect(readFileSync(path.join(f.dir, 'run', 'state.json'), 'utf8')).toBe(before);
  });

  test('no CloudWatch agent listening: falls back to the AWS CLI when it is installed', async () => {
    fakeCommand('aws', `echo "$@" >> ${f.dir}/aws.log`);
    const out = await watchdog(config({ emf: { address: 'tcp://127.0.0.1:1' } }));
    expect(out).toMatch(/\[published via aws-cli\]/);
    expect(readFileSync(path.join(f.dir, 'aws.log'), 'utf8').trim()).toBe(
      `cloudwatch put-metric-data --namespace Ziggie/ComfyUI --metric-name QueueDepth --unit Count --value 0 --dimensions InstanceId=${INSTANCE}`,
    );
  });

  test('no agent and no AWS CLI: says so, still decides', async () => {
    const out = await watchdog(config({ emf: { address: 'tcp://127.0.0.1:1' } }));
    expect(out).toMatch(/publish failed: CloudWatch agent EMF listener tcp:\/\/127\.0\.0\.1:1: .*no AWS CLI/);
    expect(out).toMatch(/-> stay up/);
  });

  test('the instance id comes from IMDSv2 (token first) and is cached in the state', async () => {
    const seen: string[] = [];
    const imds = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['x-aws-ec2-metadata-token'] ?? req.headers['x-aws-ec2-metadata-token-ttl-seconds']}`);
      if (req.method === 'PUT' && req.url === '/latest/api/token') return res.end('tok-123');
      if (req.url === '/latest/meta-data/instance-id' && req.headers['x-aws-ec2-metadata-token'] === 'tok-123') return res.end('i-0fedcba9876543210');
      res.writeHead(401);
      res.end();
    });
    const port = await listen(imds);
    try {
      const cfg = config({ instance_id: null, imds_url: `http://127.0.0.1:${port}` });
      await watchdog(cfg);
      expect(seen).toEqual(['PUT /latest/api/token 300', 'GET /latest/meta-data/instance-id tok-123']);
      expect(JSON.parse(f.emfLines[0]!).InstanceId).toBe('i-0fedcba9876543210');
      expect(state().instance_id).toBe('i-0fedcba9876543210');
      await watchdog(cfg);
      expect(seen).toHaveLength(2); // cached
    } finally {
      await new Promise((r) => imds.close(r));
    }
  });

  test('the rendered config carries the contract from shared/gpu-signals.ts', () => {
    const cfg = watchdogConfig({ comfyuiPort: 8188, idleMinutes: 15 });
    expect(cfg).toMatchObject({
      comfyui_url: 'http://127.0.0.1:8188',
      idle_minutes: 15,
      thresholds: { cpu_percent: IDLE_THRESHOLDS.cpuPercent, gpu_percent: IDLE_THRESHOLDS.gpuPercent, queue_depth: IDLE_THRESHOLDS.queueDepth },
      metric: { namespace: COMFYUI_QUEUE_METRIC.namespace, name: COMFYUI_QUEUE_METRIC.name, dimension: 'InstanceId' },
      emf: { address: 'tcp://127.0.0.1:25888' },
    });
  });
});
