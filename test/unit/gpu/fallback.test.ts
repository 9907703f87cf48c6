/**
 * Capacity fallback in the GPU control core (gpu-control/fallback.ts), with the EC2 client mocked
 * (aws-sdk-client-mock) for each capacity error: the order of the alternatives, which one is taken, what it costs
 * (Spot price history, the max price, cost/prices' on-demand rate, or unknown), and how status/stop see it.
 */
import {
  DescribeInstancesCommand, DescribeSpotPriceHistoryCommand, DescribeSubnetsCommand, EC2Client, RunInstancesCommand,
  StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type Instance,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { createGpuControl, latestSpotPrice } from '../../../gpu-control/control';
import { FALLBACK_TAGS, fallbackCandidates, type FallbackPolicy } from '../../../gpu-control/fallback';
import { fallbackPolicy } from '../../../ops/gpu/service';

const ec2 = mockClient(EC2Client);
const NOW = new Date('2026-11-28T12:00:00Z');
const PRIMARY = 'i-0primary000000001';
const config = loadConfig(EXAMPLE_CONFIG);

const primary: Instance = {
  InstanceId: PRIMARY, InstanceType: 'g4dn.xlarge', InstanceLifecycle: 'spot', State: { Name: 'stopped' }, VpcId: 'vpc-1', SubnetId: 'subnet-a',
  Placement: { AvailabilityZone: 'eu-north-1a' }, NetworkInterfaces: [{ SubnetId: 'subnet-a', Groups: [{ GroupId: 'sg-comfy' }] }],
};
const subnets = { Subnets: [{ SubnetId: 'subnet-b', AvailabilityZone: 'eu-north-1b' }, { SubnetId: 'subnet-a', AvailabilityZone: 'eu-north-1a' }] };

function capacityError(code: string) {
  return Object.assign(new Error(`${code}: there is no capacity`), { name: code, Code: code });
}

function policy(over: Partial<FallbackPolicy> = {}): FallbackPolicy {
  return { ...fallbackPolicy(config), ...over };
}

function control(over: Partial<FallbackPolicy> = {}) {
  const client = new EC2Client({ region: 'eu-north-1' });
  return createGpuControl(
    { ec2: client, now: () => NOW, fallback: { policy: policy(over), spotPrice: (t, az) => latestSpotPrice(client, t, az) } },
    { instanceId: PRIMARY, project: 'Ziggie', port: 8188 },
  );
}

/** RunInstances calls as "type market subnet". */
const launches = () => ec2.commandCalls(RunInstancesCommand).map((c) => {
  const i = c.args[0].input;
  return `${i.InstanceType} ${i.InstanceMarketOptions ? 'spot' : 'on-demand'} ${i.NetworkInterfaces![0]!.SubnetId}`;
});

/** RunInstances fails with `code` for these "type market subnet" keys and succeeds otherwise. */
function runInstances(failing: Record<string, string>) {
  let n = 0;
  ec2.on(RunInstancesCommand).callsFake((input) => {
    const key = `${input.InstanceType} ${input.InstanceMarketOptions ? 'spot' : 'on-demand'} ${input.NetworkInterfaces[0].SubnetId}`;
    const code = Object.entries(failing).find(([k]) => k === key || k === '*')?.[1];
    if (code) throw capacityError(code);
    return { Instances: [{ InstanceId: `i-0standin00000000${++n}` }] };
  });
}

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeInstancesCommand, { InstanceIds: [PRIMARY] }).resolves({ Reservations: [{ Instances: [primary] }] });
  ec2.on(DescribeInstancesCommand, { Filters: [{ Name: `tag:${FALLBACK_TAGS.standsInFor}`, Values: [PRIMARY] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping'] }] })
    .resolves({ Reservations: [] });
  ec2.on(DescribeSubnetsCommand).resolves(subnets);
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [{ SpotPrice: '0.2100' }] });
});

test('the order: other zones, then other types in every zone, then on-demand (only if allowed)', () => {
  const p = policy({ instanceTypes: ['g4dn.2xlarge'], allowOnDemand: true });
  const order = fallbackCandidates({ subnetId: 'subnet-a', availabilityZone: 'eu-north-1a', instanceType: 'g4dn.xlarge' },
    [{ subnetId: 'subnet-a', availabilityZone: 'eu-north-1a' }, { subnetId: 'subnet-b', availabilityZone: 'eu-north-1b' }], p)
    .map((c) => `${c.instanceType} ${c.market} ${c.availabilityZone}`);
  expect(order).toEqual([
    'g4dn.xlarge spot eu-north-1b',
    'g4dn.2xlarge spot eu-north-1a', 'g4dn.2xlarge spot eu-north-1b',
    'g4dn.xlarge on-demand eu-north-1a', 'g4dn.xlarge on-demand eu-north-1b',
    'g4dn.2xlarge on-demand eu-north-1a', 'g4dn.2xlarge on-demand eu-north-1b',
  ]);
  expect(fallbackCandidates({ subnetId: 'subnet-a', availabilityZone: 'eu-north-1a', instanceType: 'g4dn.xlarge' },
    [{ subnetId: 'subnet-b', availabilityZone: 'eu-north-1b' }], policy({ otherZones: false, instanceTypes: [], allowOnDemand: false }))).toEqual([]);
});

test('InsufficientInstanceCapacity: a Spot stand-in of the same type in the other zone, priced from the Spot price history', async () => {
  ec2.on(StartInstancesCommand).rejects(capacityError('InsufficientInstanceCapacity'));
  runInstances({});
  const a = await control().start();
  expect(launches()).toEqual(['g4dn.xlarge spot subnet-b']);
  expect(a).toMatchObject({
    state: 'starting', changed: true, instanceId: 'i-0standin000000001', instanceType: 'g4dn.xlarge', availabilityZone: 'eu-north-1b',
    lifecycle: 'spot', errorCode: 'InsufficientInstanceCapacity',
    fallback: { standsInFor: PRIMARY, market: 'spot', usdPerHour: 0.21, priceSource: 'spot-price', tried: [] },
  });
  expect(a.message).toBe('InsufficientInstanceCapacity for g4dn.xlarge in eu-north-1a: started a stand-in i-0standin000000001, g4dn.xlarge spot in eu-north-1b, $0.210/h (spot-price)');
  const input = ec2.commandCalls(RunInstancesCommand)[0]!.args[0].input;
  expect(input).toMatchObject({
    LaunchTemplate: { LaunchTemplateName: 'ziggie-comfyui', Version: '$Latest' }, InstanceInitiatedShutdownBehavior: 'terminate',
    InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate', MaxPrice: '0.3000' } },
    NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-b', Groups: ['sg-comfy'], AssociatePublicIpAddress: true }],
  });
  expect(input.TagSpecifications![0]!.Tags).toEqual(expect.arrayContaining([
    { Key: FALLBACK_TAGS.standsInFor, Value: PRIMARY }, { Key: FALLBACK_TAGS.usdPerHour, Value: '0.21' }, { Key: FALLBACK_TAGS.market, Value: 'spot' },
  ]));
});

test('SpotMaxPriceTooLow in every zone: the next configured type, and the tried alternative is reported', async () => {
  ec2.on(StartInstancesCommand).rejects(capacityError('SpotMaxPriceTooLow'));
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [] }); // no history: priced at the max price
  runInstances({ 'g4dn.xlarge spot subnet-b': 'SpotMaxPriceTooLow' });
  const a = await control({ instanceTypes: ['g4dn.2xlarge'] }).start();
  expect(launches()).toEqual(['g4dn.xlarge spot subnet-b', 'g4dn.2xlarge spot subnet-a']);
  expect(a).toMatchObject({ instanceType: 'g4dn.2xlarge', availabilityZone: 'eu-north-1a',
    fallback: { market: 'spot', usdPerHour: 0.3, priceSource: 'spot-max-price',
      tried: [expect.objectContaining({ instanceType: 'g4dn.xlarge', availabilityZone: 'eu-north-1b', error: 'SpotMaxPriceTooLow' })] } });
  expect(a.message).toMatch(/started a stand-in .*g4dn\.2xlarge spot in eu-north-1a, \$0\.300\/h \(spot-max-price\) after 1 alternative/);
});

test('MaxSpotInstanceCountExceeded everywhere and on-demand not allowed: unavailable, every alternative named, nothing on-demand', async () => {
  ec2.on(StartInstancesCommand).rejects(capacityError('MaxSpotInstanceCountExceeded'));
  runInstances({ '*': 'MaxSpotInstanceCountExceeded' });
  const a = await control({ instanceTypes: ['g4dn.2xlarge'], allowOnDemand: false }).start();
  expect(launches()).toEqual(['g4dn.xlarge spot subnet-b', 'g4dn.2xlarge spot subnet-a', 'g4dn.2xlarge spot subnet-b']);
  expect(a).toMatchObject({ state: 'unavailable', changed: false, retryable: true, errorCode: 'MaxSpotInstanceCountExceeded' });
  expect(a.message).toMatch(/none of 3 alternative\(s\) had capacity \(g4dn\.xlarge spot eu-north-1b: MaxSpotInstanceCountExceeded; /);
});

test('…and with on-demand allowed: the on-demand template, priced at cost/prices\' on-demand rate', async () => {
  ec2.on(StartInstancesCommand).rejects(capacityError('MaxSpotInstanceCountExceeded'));
  runInstances({ 'g4dn.xlarge spot subnet-b': 'MaxSpotInstanceCountExceeded' });
  const a = await control({ instanceTypes: [], allowOnDemand: true }).start();
  expect(launches()).toEqual(['g4dn.xlarge spot subnet-b', 'g4dn.xlarge on-demand subnet-a']);
  const input = ec2.commandCalls(RunInstancesCommand)[1]!.args[0].input;
  expect(input.LaunchTemplate).toEqual({ LaunchTemplateName: 'ziggie-comfyui-on-demand', Version: '$Latest' });
  expect(input.InstanceMarketOptions).toBeUndefined();
  expect(a).toMatchObject({ lifecycle: 'on-demand', fallback: { market: 'on-demand', usdPerHour: fallbackPolicy(config).onDemandUsdPerHour['g4dn.xlarge'], priceSource: 'on-demand' } });
  expect(fallbackPolicy(config).onDemandUsdPerHour['g4dn.xlarge']).toBeGreaterThan(0);
});

test('a type cost/prices does not know is priced unknown on-demand, never zero', async () => {
  ec2.on(StartInstancesCommand).rejects(capacityError('InsufficientInstanceCapacity'));
  runInstances({ 'g4dn.xlarge spot subnet-b': 'InsufficientInstanceCapacity', 'g5.xlarge spot subnet-a': 'InsufficientInstanceCapacity', 'g5.xlarge spot subnet-b': 'InsufficientInstanceCapacity', 'g4dn.xlarge on-demand subnet-a': 'InsufficientInstanceCapacity', 'g4dn.xlarge on-demand subnet-b': 'InsufficientInstanceCapacity' });
  const a = await control({ instanceTypes: ['g5.xlarge'], allowOnDemand: true, onDemandUsdPerHour: {} }).start();
  expect(a.fallback).toMatchObject({ market: 'on-demand', usdPerHour: undefined, priceSource: 'unknown' });
  expect(a.cost).toBeUndefined();
  expect(a.message).toMatch(/g5\.xlarge on-demand in eu-north-1a, price unknown/);
});

test('an error that is not about capacity stops the search and is raised', async () => {
  ec2.on(StartInstancesCommand).rejects(capacityError('InsufficientInstanceCapacity'));
  ec2.on(RunInstancesCommand).rejects(Object.assign(new Error('not allowed'), { name: 'UnauthorizedOperation' }));
  await expect(control().start()).rejects.toThrow(/not allowed/);
  expect(ec2.commandCalls(RunInstancesCommand)).toHaveLength(1);
});

test('status and stop see the stand-in: what it is and costs; stop terminates it and leaves the GPU stopped', async () => {
  const standIn: Instance = {
    InstanceId: 'i-0standin000000009', InstanceType: 'g4dn.2xlarge', InstanceLifecycle: 'spot', State: { Name: 'running' },
    Placement: { AvailabilityZone: 'eu-north-1b' }, LaunchTime: new Date(NOW.getTime() - 30 * 60_000), PublicIpAddress: '198.51.100.9',
    Tags: [{ Key: FALLBACK_TAGS.standsInFor, Value: PRIMARY }, { Key: FALLBACK_TAGS.market, Value: 'spot' }, { Key: FALLBACK_TAGS.usdPerHour, Value: '0.4' }],
  };
  ec2.on(DescribeInstancesCommand, { Filters: [{ Name: `tag:${FALLBACK_TAGS.standsInFor}`, Values: [PRIMARY] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping'] }] })
    .resolves({ Reservations: [{ Instances: [standIn] }] });
  ec2.on(TerminateInstancesCommand).resolves({});
  const c = control();
  const s = await c.status();
  expect(s).toMatchObject({ state: 'running', instanceId: 'i-0standin000000009', fallback: { standsInFor: PRIMARY, market: 'spot', usdPerHour: 0.4 },
    cost: { usdPerHour: 0.4, sessionUsd: 0.2 } });
  expect(s.message).toMatch(/a stand-in \(g4dn\.2xlarge, spot, \$0\.400\/h\) for i-0primary000000001, which had no Spot capacity/);
  // start while the stand-in runs: no StartInstances for the GPU, no second stand-in
  expect((await c.start()).instanceId).toBe('i-0standin000000009');
  expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(0);
  const stopped = await c.stop();
  expect(ec2.commandCalls(TerminateInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: ['i-0standin000000009'] });
  expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
  expect(stopped).toMatchObject({ changed: true, message: expect.stringMatching(/terminating the stand-in i-0standin000000009 \(i-0primary000000001 stays stopped\)/) });
});

test('found by tags, a stand-in is never taken for the GPU itself', async () => {
  ec2.reset();
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [
    { ...primary, State: { Name: 'running' } },
    { InstanceId: 'i-0standin000000009', State: { Name: 'running' }, Tags: [{ Key: FALLBACK_TAGS.standsInFor, Value: PRIMARY }] },
  ] }] });
  const c = createGpuControl({ ec2: new EC2Client({ region: 'eu-north-1' }) }, { project: 'Ziggie', port: 8188 });
  expect((await c.find()).InstanceId).toBe(PRIMARY);
});
