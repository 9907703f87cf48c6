import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, EC2Client, StartInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeSpotPriceHistoryCommand, DescribeSubnetsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { depsFromEnv, handle, type HandlerDeps, type HttpResponse } from '../../../lambda/gpu-control/handler';
import { fallbackPolicy } from '../../../gpu-control/policy';
import { loadConfig } from '../../../config/load';
import { heartbeatProbe } from '../../../gpu-control/heartbeat';
import { createGpuControl, type GpuAnswer } from '../../../gpu-control/control';

const ec2 = mockClient(EC2Client);
const cloudwatch = mockClient(CloudWatchClient);
const INSTANCE = 'i-0abc1234def567890';
const NOW = new Date('2026-11-22T12:00:00Z');

function instance(state: string, extra: Record<string, unknown> = {}) {
  return { Reservations: [{ Instances: [{ InstanceId: INSTANCE, InstanceType: 'g4dn.xlarge', InstanceLifecycle: 'spot',
    State: { Name: state }, PublicIpAddress: state === 'running' || state === 'pending' ? '13.48.0.10' : undefined,
    LaunchTime: new Date(NOW.getTime() - 20 * 60_000), ...extra }] }] } as never;
}

function heartbeat(alive: boolean) {
  cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: alive ? [{ SampleCount: 1 }] : [] });
}

let log: Array<Record<string, unknown>>;
let webhookCalls: Array<{ url: string; body: string }>;
function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    control: createGpuControl(
      { ec2: new EC2Client({ region: 'eu-north-1' }), probe: heartbeatProbe(new CloudWatchClient({ region: 'eu-north-1' }), INSTANCE), now: () => NOW },
      { instanceId: INSTANCE, project: 'Ziggie', port: 8188 },
      { maxUsdPerHour: 0.3 },
    ),
    maxRuntimeHours: 8,
    fetch: (async (url: string, init: { body: string }) => { webhookCalls.push({ url, body: init.body }); return { ok: true, status: 200 }; }) as unknown as typeof fetch,
    log: (line) => log.push(line),
    ...overrides,
  };
}

const url = (method: string, rawPath: string, body?: string) => ({ requestContext: { http: { method } }, rawPath, body, isBase64Encoded: false });
const json = (r: unknown) => JSON.parse((r as HttpResponse).body) as GpuAnswer & { error?: string };

beforeEach(() => {
  ec2.reset();
  cloudwatch.reset();
  log = [];
  webhookCalls = [];
});

test('start from stopped calls StartInstances once and answers 202 starting', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('stopped'));
  ec2.on(StartInstancesCommand).resolves({ StartingInstances: [{ InstanceId: INSTANCE, PreviousState: { Name: 'stopped' }, CurrentState: { Name: 'pending' } }] });
  const r = await handle(url('POST', '/start'), deps()) as HttpResponse;
  expect(r.statusCode).toBe(202);
  expect(json(r)).toMatchObject({ action: 'start', state: 'starting', changed: true });
  expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(1);
  expect(ec2.commandCalls(StartInstancesCommand)[0].args[0].input).toEqual({ InstanceIds: [INSTANCE] });
});

test('start while stopping is a clear retryable 503 and starts nothing', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('stopping'));
  const r = await handle(url('POST', '/start'), deps()) as HttpResponse;
  expect(r.statusCode).toBe(503);
  expect(r.headers['retry-after']).toBe('60');
  expect(json(r).message).toMatch(/stopping; retry in a minute/);
  expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(0);
});

test('start while pending reports "already starting" without a second StartInstances', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('pending'));
  const r = await handle(url('POST', '/start'), deps()) as HttpResponse;
  expect(r.statusCode).toBe(202);
  expect(json(r)).toMatchObject({ state: 'starting', changed: false, message: expect.stringMatching(/already starting/) });
  expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(0);
});

test('start when running and ComfyUI has a heartbeat answers 200 with the URL', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('running'));
  heartbeat(true);
  const r = await handle(url('POST', '/start'), deps()) as HttpResponse;
  expect(r.statusCode).toBe(200);
  expect(json(r)).toMatchObject({ state: 'running', ready: true, url: 'http://13.48.0.10:8188', changed: false });
  expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(0);
});

test('running without a ComfyUI heartbeat is still "starting" (booting), not "running"', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('running'));
  heartbeat(false);
  const r = await handle(url('GET', '/status'), deps()) as HttpResponse;
  expect(r.statusCode).toBe(202);
  expect(json(r)).toMatchObject({ state: 'starting', ready: false, message: expect.stringMatching(/booting/) });
});

test('stop twice: the first stops, the second says already stopped', async () => {
  ec2.on(DescribeInstancesCommand).resolvesOnce(instance('running')).resolves(instance('stopped'));
  heartbeat(true);
  ec2.on(StopInstancesCommand).resolves({});
  const first = await handle(url('POST', '/stop'), deps()) as HttpResponse;
  const second = await handle(url('POST', '/stop'), deps()) as HttpResponse;
  expect(first.statusCode).toBe(202);
  expect(json(first)).toMatchObject({ state: 'stopping', changed: true });
  expect(second.statusCode).toBe(200);
  expect(json(second)).toMatchObject({ state: 'stopped', changed: false, message: 'already stopped' });
  expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(1);
});

test('Spot capacity error comes back as a retryable 503 naming the cause', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('stopped'));
  ec2.on(StartInstancesCommand).rejects(Object.assign(new Error('Insufficient capacity.'), { name: 'InsufficientInstanceCapacity' }));
  const r = await handle(url('POST', '/start'), deps()) as HttpResponse;
  expect(r.statusCode).toBe(503);
  expect(r.headers['retry-after']).toBe('300');
  expect(json(r)).toMatchObject({ state: 'unavailable', retryable: true, errorCode: 'InsufficientInstanceCapacity' });
});

test.each([
  ['unknown action in the path', url('POST', '/explode'), /unknown action "explode": use start, stop or status/],
  ['unknown action in the body', url('POST', '/', '{"action":"reboot"}'), /unknown action "reboot"/],
  ['body that is not JSON', url('POST', '/', '{start'), /malformed body/],
  ['no action at all', url('POST', '/'), /no action/],
  ['a mutating action over GET', url('GET', '/start'), /use POST/],
])('%s → 400 with a clear message and no EC2 call', async (_name, event, message) => {
  const r = await handle(event, deps()) as HttpResponse;
  expect(r.statusCode).toBe(400);
  expect(json(r).error).toMatch(message);
  expect(ec2.calls()).toHaveLength(0);
});

test.each([
  ['a string', 'start'],
  ['null', null],
  ['an empty object', {}],
  ['an unknown direct action', { action: 'terminate' }],
])('malformed direct event (%s) is refused without touching EC2', async (_name, event) => {
  const r = await handle(event, deps()) as { error: string };
  expect(r.error).toMatch(/malformed event|unknown action/);
  expect(ec2.calls()).toHaveLength(0);
});

test('the idle composite alarm going to ALARM stops the GPU', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('running'));
  heartbeat(true);
  ec2.on(StopInstancesCommand).resolves({});
  const r = await handle({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName: 'ziggie-gpu-idle', state: { value: 'ALARM' } } }, deps()) as GpuAnswer & { reason: string };
  expect(r).toMatchObject({ state: 'stopping', changed: true, reason: 'idle alarm ziggie-gpu-idle' });
});

test('the jobs-waiting alarm going to ALARM starts a stopped GPU, and never stops it', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('stopped'));
  ec2.on(StartInstancesCommand).resolves({ StartingInstances: [{ InstanceId: INSTANCE, PreviousState: { Name: 'stopped' }, CurrentState: { Name: 'pending' } }] });
  const event = { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName: 'ziggie-comfyui-jobs-waiting', state: { value: 'ALARM' } } };
  const r = await handle(event, deps({ jobsWaitingAlarm: 'ziggie-comfyui-jobs-waiting' })) as GpuAnswer & { reason: string };
  expect(r).toMatchObject({ action: 'start', state: 'starting', changed: true, reason: 'jobs waiting (ziggie-comfyui-jobs-waiting)' });
  expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
});

test('the jobs-waiting alarm on a running GPU changes nothing', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('running'));
  heartbeat(true);
  const event = { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName: 'ziggie-comfyui-jobs-waiting', state: { value: 'ALARM' } } };
  const r = await handle(event, deps({ jobsWaitingAlarm: 'ziggie-comfyui-jobs-waiting' })) as GpuAnswer;
  expect(r).toMatchObject({ state: 'running', changed: false });
  expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(0);
  expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
});

test('an alarm returning to OK stops nothing', async () => {
  const r = await handle({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName: 'ziggie-gpu-idle', state: { value: 'OK' } } }, deps()) as { error: string };
  expect(r.error).toMatch(/not ALARM/);
  expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
});

test('the runtime cap stops an instance running longer than the cap, and leaves a younger one alone', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('running', { LaunchTime: new Date(NOW.getTime() - 9 * 3600_000) }));
  heartbeat(true);
  ec2.on(StopInstancesCommand).resolves({});
  const over = await handle({ action: 'enforce-max-runtime' }, deps()) as GpuAnswer & { reason: string };
  expect(over).toMatchObject({ changed: true, reason: expect.stringMatching(/over the 8 h cap/) });

  ec2.reset();
  ec2.on(DescribeInstancesCommand).resolves(instance('running'));
  const under = await handle({ action: 'enforce-max-runtime' }, deps()) as GpuAnswer & { reason: string };
  expect(under).toMatchObject({ changed: false, reason: 'within the 8 h cap' });
  expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
});

test('a Spot interruption warning is forwarded to the configured webhook', async () => {
  ec2.on(DescribeInstancesCommand).resolves(instance('running'));
  heartbeat(true);
  const r = await handle({ source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: { 'instance-id': INSTANCE } },
    deps({ webhookUrl: 'https://n8n.example.com/webhook/gpu' })) as { reason: string };
  expect(r.reason).toMatch(/webhook answered 200/);
  expect(webhookCalls).toEqual([{ url: 'https://n8n.example.com/webhook/gpu', body: expect.stringContaining(INSTANCE) }]);
});

test('with FALLBACK_POLICY (as the stack sets it), the jobs-waiting start falls back to a stand-in when Spot has no capacity', async () => {
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE, InstanceType: 'g4dn.xlarge', State: { Name: 'stopped' },
    VpcId: 'vpc-1', SubnetId: 'subnet-a', Placement: { AvailabilityZone: 'eu-north-1a' }, NetworkInterfaces: [{ SubnetId: 'subnet-a', Groups: [{ GroupId: 'sg-1' }] }] }] }] } as never);
  ec2.on(StartInstancesCommand).rejects(Object.assign(new Error('no capacity'), { name: 'InsufficientInstanceCapacity' }));
  ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-a', AvailabilityZone: 'eu-north-1a' }, { SubnetId: 'subnet-b', AvailabilityZone: 'eu-north-1b' }] });
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [{ SpotPrice: '0.19' }] });
  ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0standin' }] });
  const env = { INSTANCE_ID: INSTANCE, JOBS_WAITING_ALARM: 'ziggie-comfyui-jobs-waiting', FALLBACK_POLICY: JSON.stringify(fallbackPolicy(loadConfig())) };
  const d = { ...depsFromEnv(env), log: (line: Record<string, unknown>) => log.push(line) };
  const r = await handle({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName: 'ziggie-comfyui-jobs-waiting', state: { value: 'ALARM' } } }, d) as GpuAnswer;
  expect(r).toMatchObject({ state: 'starting', instanceId: 'i-0standin', availabilityZone: 'eu-north-1b', fallback: { market: 'spot', usdPerHour: 0.19 } });
  expect(log[0]).toMatchObject({ action: 'jobs-start', message: expect.stringMatching(/stand-in i-0standin, g4dn\.xlarge spot in eu-north-1b, \$0\.190\/h/) });
});
