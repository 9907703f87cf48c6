import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { eitherProbe, gpuControlFor, onDemandRate, waitUntilReady } from '../../../ops/gpu/service';

const config = loadConfig(EXAMPLE_CONFIG);
const ec2 = mockClient(EC2Client);
const cw = mockClient(CloudWatchClient);
beforeEach(() => { ec2.reset(); cw.reset(); });

const running = { InstanceId: 'i-0abc', State: { Name: 'running' as const }, PublicIpAddress: '198.51.100.7', LaunchTime: new Date(), InstanceLifecycle: 'spot' as const };

test('either probe: the first that answers ok wins; errors fall through', async () => {
  const down = async () => { throw new Error('ECONNREFUSED'); };
  expect(await eitherProbe(down, async () => ({ ok: true, status: 200 }))('http://x')).toEqual({ ok: true, status: 200 });
  expect(await eitherProbe(down, async () => ({ ok: false, status: 503 }))('http://x')).toEqual({ ok: false, status: 503 });
});

test('on-demand rate from the cost price book', () => {
  expect(onDemandRate(config)).toBe(0.558);
  expect(onDemandRate({ ...config, region: 'us-east-1' })).toBeUndefined();
});

test('when ComfyUI cannot be reached directly, the watchdog heartbeat says it is up; spot price prices the session', async () => {
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [{ SpotPrice: '0.19' }] });
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [running] }] });
  cw.on(GetMetricStatisticsCommand).resolves({ Datapoints: [{ SampleCount: 2 }] });
  const control = await gpuControlFor(config, { ec2: new EC2Client({}), cloudwatch: new CloudWatchClient({}), fetch: async () => { throw new Error('timeout'); } });
  const a = await control.status();
  expect(a).toMatchObject({ state: 'running', ready: true, cost: { source: 'spot-price', usdPerHour: 0.19 } });
  expect(cw.commandCalls(GetMetricStatisticsCommand)[0].args[0].input.Dimensions).toEqual([{ Name: 'InstanceId', Value: 'i-0abc' }]);
});

test('no spot price → on-demand estimate; no heartbeat → booting', async () => {
  ec2.on(DescribeSpotPriceHistoryCommand).rejects(new Error('denied'));
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [running] }] });
  cw.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
  const control = await gpuControlFor(config, { ec2: new EC2Client({}), cloudwatch: new CloudWatchClient({}), fetch: async () => ({ ok: false, status: 502 }) });
  const a = await control.status();
  expect(a).toMatchObject({ state: 'starting', ready: false, cost: { source: 'on-demand', usdPerHour: 0.558 } });
});

test('waitUntilReady stops waiting on a final state or the timeout', async () => {
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({});
  ec2.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [{ Instances: [{ ...running, State: { Name: 'pending' } }] }] })
    .resolves({ Reservations: [{ Instances: [{ ...running, State: { Name: 'stopping' } }] }] });
  const control = await gpuControlFor(config, { ec2: new EC2Client({}), fetch: async () => ({ ok: true, status: 200 }) });
  const seen: string[] = [];
  const a = await waitUntilReady(control, { sleep: async () => undefined, onProgress: (x) => seen.push(x.state) });
  expect(a.state).toBe('stopping');
  expect(seen).toEqual(['starting', 'stopping']);

  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ ...running, State: { Name: 'pending' } }] }] });
  const t = await waitUntilReady(control, { timeoutMs: -1, sleep: async () => undefined });
  expect(t.state).toBe('starting');
});
