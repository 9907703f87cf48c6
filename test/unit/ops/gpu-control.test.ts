import {
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
  StartInstancesCommand,
  StopInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { buildSync } from 'esbuild';
import { GpuControl, latestSpotPrice, sessionCost, type FetchLike } from '../../../gpu-control/control';

const ec2Mock = mockClient(EC2Client);
const NOW = new Date('2025-06-01T12:00:00Z');
const target = { project: 'Ziggie', port: 8188 };

function instance(state: string, extra: Partial<Instance> = {}): Instance {
  return {
    InstanceId: 'i-0abc',
    InstanceType: 'g4dn.xlarge',
    State: { Name: state as never },
    InstanceLifecycle: 'spot',
    Placement: { AvailabilityZone: 'eu-north-1a' },
    ...(state === 'running' || state === 'pending'
      ? { PublicIpAddress: '198.51.100.7', LaunchTime: new Date(NOW.getTime() - 90 * 60_000) }
      : {}),
    ...extra,
  };
}

function describeReturns(...instances: Instance[]) {
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: instances }] });
}

const okProbe: FetchLike = async () => ({ ok: true, status: 200 });
const downProbe: FetchLike = async () => { throw new Error('ECONNREFUSED'); };

function control(probe: FetchLike = okProbe, rates = { spotUsdPerHour: 0.2, maxUsdPerHour: 0.3 }) {
  return new GpuControl({ ec2: new EC2Client({ region: 'eu-north-1' }), probe, now: () => NOW }, target, rates);
}

beforeEach(() => ec2Mock.reset());

describe('finding the instance', () => {
  test('by Project and Role tags, live states only', async () => {
    describeReturns(instance('stopped'));
    await control().status();
    const input = ec2Mock.commandCalls(DescribeInstancesCommand)[0].args[0].input;
    expect(input.Filters).toEqual([
      { Name: 'tag:Project', Values: ['Ziggie'] },
      { Name: 'tag:Role', Values: ['comfyui-gpu'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
  });

  test('by explicit instance id', async () => {
    describeReturns(instance('stopped'));
    const c = new GpuControl({ ec2: new EC2Client({}), now: () => NOW }, { ...target, instanceId: 'i-0abc' });
    await c.status();
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0].args[0].input).toEqual({ InstanceIds: ['i-0abc'] });
  });

  test('none tagged → not-found with what to do', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const a = await control().start();
    expect(a.state).toBe('not-found');
    expect(a.message).toMatch(/deploy the gpu stack/);
    expect(ec2Mock.commandCalls(StartInstancesCommand)).toHaveLength(0);
  });

  test('two tagged → not-found asking for the id', async () => {
    describeReturns(instance('stopped'), instance('stopped', { InstanceId: 'i-0def' }));
    const a = await control().status();
    expect(a.state).toBe('not-found');
    expect(a.message).toMatch(/i-0abc, i-0def/);
  });
});

describe('start', () => {
  test('stopped → StartInstances → starting', async () => {
    describeReturns(instance('stopped'));
    ec2Mock.on(StartInstancesCommand).resolves({ StartingInstances: [{ InstanceId: 'i-0abc', PreviousState: { Name: 'stopped' }, CurrentState: { Name: 'pending' } }] });
    const a = await control().start();
    expect(a).toMatchObject({ action: 'start', state: 'starting', changed: true, retryable: true, instanceId: 'i-0abc' });
    expect(ec2Mock.commandCalls(StartInstancesCommand)[0].args[0].input).toEqual({ InstanceIds: ['i-0abc'] });
  });

  test('pending → starting without a second StartInstances', async () => {
    describeReturns(instance('pending'));
    const a = await control().start();
    expect(a).toMatchObject({ state: 'starting', changed: false, message: 'already starting (i-0abc)' });
    expect(ec2Mock.commandCalls(StartInstancesCommand)).toHaveLength(0);
  });

  test('running and ComfyUI answers → running with the URL', async () => {
    describeReturns(instance('running'));
    const probed: string[] = [];
    const a = await control(async (url) => { probed.push(url); return { ok: true, status: 200 }; }).start();
    expect(a).toMatchObject({ state: 'running', ready: true, url: 'http://198.51.100.7:8188', changed: false });
    expect(probed).toEqual(['http://198.51.100.7:8188/system_stats']);
    expect(ec2Mock.commandCalls(StartInstancesCommand)).toHaveLength(0);
  });

  test('running but ComfyUI silent → starting, "booting"', async () => {
    describeReturns(instance('running'));
    const a = await control(downProbe).start();
    expect(a).toMatchObject({ state: 'starting', ready: false, retryable: true, url: 'http://198.51.100.7:8188' });
    expect(a.message).toMatch(/^booting/);
  });

  test('a 500 from /system_stats is not ready', async () => {
    describeReturns(instance('running'));
    const a = await control(async () => ({ ok: false, status: 500 })).status();
    expect(a.state).toBe('starting');
  });

  test('falls back to the public DNS name', async () => {
    describeReturns(instance('running', { PublicIpAddress: undefined, PublicDnsName: 'ec2-1.compute.amazonaws.com' }));
    expect((await control().status()).url).toBe('http://ec2-1.compute.amazonaws.com:8188');
  });

  test('stopping → a clear retryable answer', async () => {
    describeReturns(instance('stopping'));
    const a = await control().start();
    expect(a).toMatchObject({ state: 'stopping', retryable: true, retryAfterSeconds: 60, message: 'the GPU is stopping; retry in a minute' });
    expect(ec2Mock.commandCalls(StartInstancesCommand)).toHaveLength(0);
  });

  test.each([
    ['InsufficientInstanceCapacity', /no spare capacity/],
    ['InstanceLimitExceeded', /quota/],
  ])('%s → unavailable, retryable, with what to do', async (code, text) => {
    describeReturns(instance('stopped'));
    ec2Mock.on(StartInstancesCommand).rejects(Object.assign(new Error('nope'), { name: code }));
    const a = await control().start();
    expect(a).toMatchObject({ state: 'unavailable', retryable: true, errorCode: code, changed: false });
    expect(a.message).toMatch(text);
    expect(a.message).toMatch(/runbooks\/gpu-wont-start/);
  });

  test('other errors propagate (the caller maps them)', async () => {
    describeReturns(instance('stopped'));
    ec2Mock.on(StartInstancesCommand).rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));
    await expect(control().start()).rejects.toThrow('denied');
  });

  test('ten concurrent starts in one process → one StartInstances, nine "already starting"', async () => {
    describeReturns(instance('stopped'));
    ec2Mock.on(StartInstancesCommand).callsFake(async () => {
      await new Promise((r) => setTimeout(r, 20));
      return { StartingInstances: [{ InstanceId: 'i-0abc', PreviousState: { Name: 'stopped' } }] };
    });
    const c = control();
    const answers = await Promise.all(Array.from({ length: 10 }, () => c.start()));
    expect(ec2Mock.commandCalls(StartInstancesCommand)).toHaveLength(1);
    expect(answers.filter((a) => a.changed)).toHaveLength(1);
    const joiners = answers.filter((a) => !a.changed);
    expect(joiners).toHaveLength(9);
    for (const a of joiners) expect(a).toMatchObject({ state: 'starting', message: 'already starting (i-0abc)' });
  });

  test('another process won the race (PreviousState pending) → already starting', async () => {
    describeReturns(instance('stopped'));
    ec2Mock.on(StartInstancesCommand).resolves({ StartingInstances: [{ InstanceId: 'i-0abc', PreviousState: { Name: 'pending' }, CurrentState: { Name: 'pending' } }] });
    const a = await control().start();
    expect(a).toMatchObject({ state: 'starting', changed: false, message: 'already starting (i-0abc)' });
  });

  test('a later start after the flight landed asks EC2 again', async () => {
    ec2Mock.on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ Instances: [instance('stopped')] }] })
      .resolves({ Reservations: [{ Instances: [instance('pending')] }] });
    ec2Mock.on(StartInstancesCommand).resolves({ StartingInstances: [{ PreviousState: { Name: 'stopped' } }] });
    const c = control();
    expect((await c.start()).changed).toBe(true);
    expect((await c.start()).message).toBe('already starting (i-0abc)');
    expect(ec2Mock.commandCalls(StartInstancesCommand)).toHaveLength(1);
  });
});

describe('stop', () => {
  test('running → StopInstances → stopping, with the session cost', async () => {
    describeReturns(instance('running'));
    ec2Mock.on(StopInstancesCommand).resolves({});
    const a = await control().stop();
    expect(a).toMatchObject({ state: 'stopping', changed: true, url: undefined });
    expect(a.message).toMatch(/session cost ≈ \$0\.30/);
    expect(ec2Mock.commandCalls(StopInstancesCommand)).toHaveLength(1);
  });

  test('stop twice is fine', async () => {
    describeReturns(instance('stopped'));
    const c = control();
    expect(await c.stop()).toMatchObject({ state: 'stopped', changed: false, message: 'already stopped' });
    describeReturns(instance('stopping'));
    expect(await c.stop()).toMatchObject({ state: 'stopping', changed: false, message: 'already stopping' });
    expect(ec2Mock.commandCalls(StopInstancesCommand)).toHaveLength(0);
  });

  test('pending that EC2 will not stop yet → retryable', async () => {
    describeReturns(instance('pending'));
    ec2Mock.on(StopInstancesCommand).rejects(Object.assign(new Error('x'), { name: 'IncorrectInstanceState' }));
    const a = await control().stop();
    expect(a).toMatchObject({ retryable: true, changed: false });
    expect(a.message).toMatch(/retry in a minute/);
  });
});

describe('status and cost', () => {
  test('state, launch time, uptime, URL and the session cost at the spot price', async () => {
    describeReturns(instance('running'));
    const a = await control().status();
    expect(a).toMatchObject({
      action: 'status', state: 'running', lifecycle: 'spot', launchTime: '2025-06-01T10:30:00.000Z', uptimeSeconds: 5400,
      cost: { usdPerHour: 0.2, source: 'spot-price', sessionUsd: 0.3 },
    });
  });

  test('stopped has no uptime or cost', async () => {
    describeReturns(instance('stopped', { StateReason: { Code: 'Server.SpotInstanceTermination' } }));
    const a = await control().status();
    expect(a.state).toBe('stopped');
    expect(a.uptimeSeconds).toBeUndefined();
    expect(a.cost).toBeUndefined();
    expect(a.message).toMatch(/Spot interruption/);
  });

  test('rate fallbacks: spot price → on-demand → max price', () => {
    expect(sessionCost(3600, 'spot', { spotUsdPerHour: 0.2, onDemandUsdPerHour: 0.5 })?.source).toBe('spot-price');
    expect(sessionCost(3600, 'spot', { onDemandUsdPerHour: 0.5 })).toEqual({ usdPerHour: 0.5, source: 'on-demand', sessionUsd: 0.5 });
    expect(sessionCost(1800, 'on-demand', { spotUsdPerHour: 0.2, maxUsdPerHour: 0.3 })).toEqual({ usdPerHour: 0.3, source: 'max-price', sessionUsd: 0.15 });
    expect(sessionCost(1800, 'spot', {})).toBeUndefined();
  });

  test('latestSpotPrice reads DescribeSpotPriceHistory', async () => {
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [{ SpotPrice: '0.1912' }] });
    expect(await latestSpotPrice(new EC2Client({}), 'g4dn.xlarge', 'eu-north-1a')).toBe(0.1912);
    expect(ec2Mock.commandCalls(DescribeSpotPriceHistoryCommand)[0].args[0].input).toMatchObject({
      InstanceTypes: ['g4dn.xlarge'], ProductDescriptions: ['Linux/UNIX'], AvailabilityZone: 'eu-north-1a',
    });
  });

  test('the core bundles without Node built-ins', () => {
    const out = buildSync({ entryPoints: ['gpu-control/control.ts'], bundle: true, platform: 'neutral', write: false,
      external: ['@aws-sdk/*'], format: 'esm', logLevel: 'silent' });
    expect(out.errors).toHaveLength(0);
  });
});
