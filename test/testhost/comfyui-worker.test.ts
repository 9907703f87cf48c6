/**
 * The job worker as the AMI runs it: installed by the comfyui-ami playbook on a real Debian host (systemd unit,
 * DynamicUser, boto3 from apt), the ComfyUI stand-in from test/fixtures/comfyui, and the queue + results bucket
 * behind fauxqs on this machine, reached from the guest through an ssh reverse tunnel. Only IMDS is faked.
 *
 * boto3: fauxqs speaks SQS's JSON protocol only, which botocore uses from 1.31 on; bookworm's python3-boto3
 * (1.26) still sends the query protocol. So the guest first gets trixie's python3-boto3/botocore/s3transfer
 * (pure Python, their dependencies are in bookworm), and the playbook's apt task finds boto3 installed. On the
 * AMI the distribution's boto3 talks to real SQS with either protocol.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import {
  CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { describeTier } from '../support/tier';
import { bootHost, freePort, inventoryYaml, stopOwnHosts, testhostTierReason, type TestHost } from '../harness/testhost';
import { buildComfyFixture, type ComfyFixture } from '../fixtures/comfyui/build';
import { startFauxqs, FAUXQS_ACCOUNT, type Fauxqs } from '../support/fauxqs';
import { EXAMPLE_CONFIG, loadConfig } from '../../config/load';
import { comfyuiAmiPlaybook, varsFromConfig, type ComfyAmiVars } from '../../playbooks/comfyui-ami';
import { PATHS, UNITS } from '../../playbooks/comfyui/render';
import { parseInventory } from '../../provision/inventory';
import { MemoryOutput } from '../../provision/output';
import { runPlaybook } from '../../provision/runner';

const reason = testhostTierReason();
const REGION = 'eu-north-1';
const BUCKET = 'ziggie-test-assets';
const GUEST_AWS = 4566;
const GUEST_IMDS = 8169;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describeTier('testhost', reason, () => {
  jest.setTimeout(600_000);
  let host: TestHost;
  let fx: ComfyFixture;
  let aws: Fauxqs;
  let sqs: SQSClient;
  let s3: S3Client;
  let imds: http.Server;
  let tunnel: ChildProcess;
  let comfyUrl: string;
  let notice: false | (() => Promise<boolean>) = false;
  let q: { url: string; dlq: string };

  beforeAll(async () => {
    fx = buildComfyFixture();
    [host, aws] = await Promise.all([bootHost({ withDocker: false }), startFauxqs({ region: REGION, buckets: [BUCKET] })]);
    sqs = new SQSClient({ region: REGION, endpoint: aws.endpoint, credentials });
    s3 = new S3Client({ region: REGION, endpoint: aws.endpoint, credentials, forcePathStyle: true });
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'jobs-dlq' }))).QueueUrl!;
    const url = (await sqs.send(new CreateQueueCommand({
      QueueName: 'jobs',
      Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${REGION}:${FAUXQS_ACCOUNT}:jobs-dlq`, maxReceiveCount: 3 }) },
    }))).QueueUrl!;
    q = { url, dlq };

    imds = http.createServer((req, res) => {
      if (req.method === 'PUT' && req.url === '/latest/api/token') return void res.end('t');
      if (req.url !== '/latest/meta-data/spot/instance-action') return void res.writeHead(404).end();
      void (async () => {
        if (!(notice && (await notice()))) return void res.writeHead(404).end();
        res.end(JSON.stringify({ action: 'stop', time: '2026-11-28T13:00:00Z' }));
      })();
    });
    await new Promise<void>((r) => imds.listen(0, '127.0.0.1', () => r()));
    const comfyPort = await freePort();
    comfyUrl = `http://127.0.0.1:${comfyPort}`;
    // guest -> fauxqs and the fake IMDS on this machine; this machine -> the guest's ComfyUI (the IMDS fake
    // watches it to raise the notice while a prompt runs)
    const ssh = host.sshArgs();
    tunnel = spawn('ssh', [...ssh.slice(0, -1), '-N', '-o', 'ExitOnForwardFailure=yes',
      '-R', `127.0.0.1:${GUEST_AWS}:127.0.0.1:${aws.port}`,
      '-R', `127.0.0.1:${GUEST_IMDS}:127.0.0.1:${(imds.address() as net.AddressInfo).port}`,
      '-L', `127.0.0.1:${comfyPort}:127.0.0.1:8188`, ssh[ssh.length - 1]!], { stdio: 'ignore' });

    const up = await host.exec('mkdir -p /srv/ziggie-fixtures && tar -x -C /srv/ziggie-fixtures', { input: fx.tar });
    if (up.code !== 0) throw new Error(`fixture upload failed: ${up.stderr}`);
    const boto = await host.exec(`set -e
m=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
A=/tmp/trixie-apt; mkdir -p $A/lists/partial $A/cache/archives/partial
echo "deb $m trixie main" > $A/sources.list
O="-o Dir::Etc::SourceList=$A/sources.list -o Dir::Etc::SourceParts=- -o Dir::State::Lists=$A/lists -o Dir::Cache=$A/cache -o APT::Sandbox::User=root"
apt-get -q $O update >/dev/null
cd $A && apt-get -q $O download python3-boto3 python3-botocore python3-s3transfer >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ./python3-*.deb >/dev/null
mkdir -p /etc/systemd/system/${UNITS.worker}.d
printf '[Service]\\nEnvironment=AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\\n' > /etc/systemd/system/${UNITS.worker}.d/test-credentials.conf`,
    { timeoutMs: 300_000 });
    if (boto.code !== 0) throw new Error(`boto3 from trixie: ${boto.stderr}`);

    const out = new MemoryOutput();
    const config = loadConfig(EXAMPLE_CONFIG);
    const extraVars: Partial<ComfyAmiVars> = {
      comfyui: { repoUrl: fx.comfyuiRepo, ref: fx.refs.v1, torchIndexUrl: fx.torchIndex, customNodes: [], models: [] },
      allow_cpu: true,
      install_cloudwatch_agent: false,
      pip_args: ['--no-index', '--find-links', fx.pypiDir],
      start_timeout: 60,
      worker: { queueUrl: q.url, region: REGION, bucket: BUCKET, visibilitySeconds: 30 },
      start_worker: true,
      worker_overrides: {
        endpoint_url: `http://127.0.0.1:${GUEST_AWS}`, imds_url: `http://127.0.0.1:${GUEST_IMDS}`,
        wait_seconds: 1, poll_seconds: 0.3, checkpoint_seconds: 2, retry_delay_seconds: 0,
      },
    };
    const inventory = parseInventory(inventoryYaml([host], { hostVars: { ssh_host_key_fingerprint: host.hostKeyFingerprint } }), '<comfyui-worker-test>');
    const report = await runPlaybook(comfyuiAmiPlaybook(varsFromConfig(config)), inventory, { extraVars, output: out });
    if (!report.ok) throw new Error(out.text());
  });

  afterEach(() => {
    notice = false;
  });

  afterAll(async () => {
    tunnel?.kill('SIGTERM');
    sqs?.destroy();
    s3?.destroy();
    await new Promise<void>((r) => (imds ? imds.close(() => r()) : r()));
    await aws?.stop();
    fx?.cleanup();
    await stopOwnHosts();
  });

  // --- helpers ---------------------------------------------------------------------------------------------
  const journal = async () => (await host.exec(`journalctl -u ${UNITS.worker} --no-pager -o cat`)).stdout;
  const depth = async (url: string) => {
    const a = (await sqs.send(new GetQueueAttributesCommand({
      QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }))).Attributes!;
    return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible) };
  };
  const send = (jobId: string, workflow: object) =>
    sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: JSON.stringify({ jobId, workflow }) }));
  const keys = async (jobId: string) => ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `comfyui/generated/${jobId}/` }))).Contents ?? [])
    .map((o) => o.Key!.slice(`comfyui/generated/${jobId}/`.length)).sort();
  const json = async (key: string) => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString());
  const running = async () => {
    try {
      return ((await (await fetch(`${comfyUrl}/queue`, { signal: AbortSignal.timeout(2000) })).json()) as { queue_running: unknown[] }).queue_running.length > 0;
    } catch {
      return false;
    }
  };
  const workflow = (jobId: string, seconds = 2) => ({
    '3': { class_type: 'KSampler', inputs: { seed: 11 } },
    '5': { class_type: 'Sleep', inputs: { seconds } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: jobId, count: 2 } },
  });
  async function until(what: string, probe: () => Promise<unknown>, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${await journal()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  async function expectOneResult(jobId: string) {
    await until('result.json', async () => (await keys(jobId)).includes('result.json'));
    await until('the message deleted', async () => { const d = await depth(q.url); return d.visible + d.inFlight === 0; });
    expect(await keys(jobId)).toEqual(['9-0.png', '9-1.png', 'result.json', 'state.json']);
    const uploads = (await journal()).split('\n').filter((l) => l.includes(`job ${jobId}: uploaded`));
    expect(uploads).toHaveLength(2);
    return json(`comfyui/generated/${jobId}/result.json`);
  }

  // --- scenarios -------------------------------------------------------------------------------------------
  test('the installed service runs a job: outputs and result.json in the bucket, the status file for the watchdog', async () => {
    expect((await host.exec(`systemctl is-enabled ${UNITS.worker}; systemctl is-active ${UNITS.worker}`)).stdout).toBe('enabled\nactive\n');
    await send('th-happy', workflow('th-happy'));
    const result = await expectOneResult('th-happy');
    expect(result).toMatchObject({ jobId: 'th-happy', status: 'succeeded', attempts: 1 });
    const status = JSON.parse((await host.exec(`cat ${PATHS.workerStatus}`)).stdout);
    expect(status).toMatchObject({ visible: 0, inFlight: 0 });
    // the worker runs as a dynamic, unprivileged user (systemd allocates those uids from 61184-65519)
    const uid = Number((await host.exec(`ps -o uid= -p $(systemctl show -p MainPID --value ${UNITS.worker})`)).stdout.trim());
    expect(uid).toBeGreaterThanOrEqual(61184);
    expect(uid).toBeLessThanOrEqual(65519);
  });

  test('Spot notice while ComfyUI runs the job: released, nothing taken while the notice stands; after a restart the job finishes once', async () => {
    notice = running;
    await send('th-running', workflow('th-running', 3));
    await until('the release', async () => /released th-running \(spot interruption notice/.test(await journal()));
    notice = async () => true;
    await new Promise((r) => setTimeout(r, 1500));
    expect(await depth(q.url)).toEqual({ visible: 1, inFlight: 0 });
    expect(await json('comfyui/generated/th-running/state.json')).toMatchObject({ phase: 'running', uploaded: {} });
    notice = false;
    await host.exec(`systemctl restart ${UNITS.worker}`);
    await expectOneResult('th-running');
  });

  test('Spot notice while uploading: released after the first output; the retry uploads only the second', async () => {
    notice = async () => (await keys('th-upload')).includes('9-0.png');
    await send('th-upload', workflow('th-upload', 0.5));
    await until('the release', async () => /released th-upload \(spot interruption notice/.test(await journal()));
    notice = async () => true;
    expect(Object.keys((await json('comfyui/generated/th-upload/state.json')).uploaded)).toEqual(['9-0.png']);
    notice = false;
    await host.exec(`systemctl restart ${UNITS.worker}`);
    await expectOneResult('th-upload');
  });

  test('systemctl stop (shutdown) mid-job releases it; the next start finishes it', async () => {
    await send('th-stop', workflow('th-stop', 3));
    await until('the job running in ComfyUI', running);
    const stop = await host.exec(`systemctl stop ${UNITS.worker}; systemctl show -p Result --value ${UNITS.worker}`);
    expect(stop.stdout.trim()).toBe('success');
    expect(await journal()).toMatch(/released th-stop \(SIGTERM\)/);
    expect(await depth(q.url)).toEqual({ visible: 1, inFlight: 0 });
    await host.exec(`systemctl start ${UNITS.worker}`);
    await expectOneResult('th-stop');
  });

  test('a job that always fails lands in the dead-letter queue after maxReceiveCount (3) receives', async () => {
    await send('th-fails', { '1': { class_type: 'Fail', inputs: { message: 'CUDA error' } } });
    await until('the dead-letter queue', async () => (await depth(q.dlq)).visible === 1);
    expect((await journal()).match(/job th-fails failed \(receive \S+\): ComfyUI: CUDA error/g)).toHaveLength(3);
    expect(await keys('th-fails')).toEqual(['state.json']);
  });
});
