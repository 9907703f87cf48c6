import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { BudgetsClient, DescribeBudgetCommand } from '@aws-sdk/client-budgets';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient, GetCostAndUsageCommand, GetCostForecastCommand } from '@aws-sdk/client-cost-explorer';
import { DescribeInstancesCommand, EC2Client, StartInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import {
  DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, PutSecretValueCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { AuditLog } from '../../../ops/audit/audit';
import { runCli, type CliDeps } from '../../../ops/cli/program';
import { opsContext } from '../../../ops/context';
import { GpuControl } from '../../../gpu-control/control';
import { HostingerClient } from '../../../ops/hostinger/client';
import { FakeHostinger, reply } from './hostinger-server';

const config = loadConfig(EXAMPLE_CONFIG);
const mocks = {
  ec2: mockClient(EC2Client), sts: mockClient(STSClient), sm: mockClient(SecretsManagerClient), logs: mockClient(CloudWatchLogsClient),
  cw: mockClient(CloudWatchClient), ce: mockClient(CostExplorerClient), budgets: mockClient(BudgetsClient),
};
let spoolDir: string;
let api: FakeHostinger;

function text(stream: PassThrough): string {
  return stream.read()?.toString() ?? '';
}

async function cli(args: string[], opts: { stdin?: string; ssh?: CliDeps['ssh'] } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = Object.assign(Readable.from(opts.stdin === undefined ? [] : [opts.stdin]), { isTTY: false });
  const aws = {
    ec2: new EC2Client({}), sts: new STSClient({}), secrets: new SecretsManagerClient({}), logs: new CloudWatchLogsClient({}),
    cloudwatch: new CloudWatchClient({}), costExplorer: new CostExplorerClient({}), budgets: new BudgetsClient({}),
  };
  const audit = new AuditLog({ logs: aws.logs, sts: aws.sts, logGroup: config.audit.logGroup, spoolDir, streamName: 'test' });
  const code = await runCli(args, {
    config,
    io: { stdout, stderr, stdin },
    context: (c) => opsContext(c, { aws, audit, hostinger: async () => new HostingerClient({ token: 't', baseUrl: api.url, maxRetries: 0 }) }),
    gpu: async (ctx) => new GpuControl({ ec2: ctx.aws.ec2, probe: async () => ({ ok: true, status: 200 }), now: () => new Date('2025-06-15T12:00:00Z') },
      { project: 'Ziggie', port: 8188 }, { spotUsdPerHour: 0.2 }),
    ssh: opts.ssh,
    sleep: async () => undefined,
    now: () => new Date('2025-06-15T12:00:00Z'),
  });
  return { code, out: text(stdout), err: text(stderr), audit };
}

const running: Instance = {
  InstanceId: 'i-0abc', InstanceType: 'g4dn.xlarge', State: { Name: 'running' }, InstanceLifecycle: 'spot',
  PublicIpAddress: '198.51.100.7', LaunchTime: new Date('2025-06-15T11:00:00Z'), Placement: { AvailabilityZone: 'eu-north-1a' },
};

beforeEach(async () => {
  Object.values(mocks).forEach((m) => m.reset());
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::111122223333:assumed-role/ops/alice', Account: '111122223333' });
  mocks.logs.on(PutLogEventsCommand).resolves({});
  spoolDir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-cli-'));
  api = await new FakeHostinger().start();
});
afterEach(() => api.stop());

const audited = () => mocks.logs.commandCalls(PutLogEventsCommand).flatMap((c) => c.args[0].input.logEvents!.map((e) => JSON.parse(e.message!)));

describe('gpu', () => {
  test('start: one StartInstances, audited, with the next step', async () => {
    mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ ...running, State: { Name: 'stopped' } }] }] });
    mocks.ec2.on(StartInstancesCommand).resolves({ StartingInstances: [{ PreviousState: { Name: 'stopped' } }] });
    const r = await cli(['gpu', 'start']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^starting i-0abc/);
    expect(audited()).toEqual([expect.objectContaining({ action: 'gpu.start', target: 'i-0abc', result: 'ok', who: expect.stringContaining('alice') })]);
  });

  test('status --json: state, URL, uptime and session cost', async () => {
    mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [running] }] });
    const r = await cli(['--json', 'gpu', 'status']);
    expect(JSON.parse(r.out)).toMatchObject({ state: 'running', url: 'http://198.51.100.7:8188', uptimeSeconds: 3600, cost: { sessionUsd: 0.2 } });
    expect(audited()).toHaveLength(0);
  });

  test('status (human) shows the session cost', async () => {
    mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [running] }] });
    const r = await cli(['gpu', 'status']);
    expect(r.out).toContain('running: http://198.51.100.7:8188');
    expect(r.out).toMatch(/session cost +\$0\.20 so far at \$0\.200\/h \(spot-price\)/);
    expect(r.out).toMatch(/uptime +1h 00m/);
  });

  test('start --wait reports progress until ComfyUI answers', async () => {
    mocks.ec2.on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ Instances: [{ ...running, State: { Name: 'stopped' } }] }] })
      .resolvesOnce({ Reservations: [{ Instances: [{ ...running, State: { Name: 'pending' } }] }] })
      .resolves({ Reservations: [{ Instances: [running] }] });
    mocks.ec2.on(StartInstancesCommand).resolves({ StartingInstances: [{ PreviousState: { Name: 'stopped' } }] });
    const r = await cli(['gpu', 'start', '--wait']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/starting i-0abc/);
    expect(r.err).toMatch(/\[0s\] starting \(i-0abc is pending\)/);
    expect(r.out).toMatch(/running: http:\/\/198\.51\.100\.7:8188/);
  });

  test('url exits 1 while stopped, with what to do', async () => {
    mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ ...running, State: { Name: 'stopped' } }] }] });
    const r = await cli(['gpu', 'url']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/gpu start --wait/);
  });

  test('CloudWatch unreachable: the command still works and the audit record lands in the local file', async () => {
    mocks.logs.on(PutLogEventsCommand).rejects(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }));
    mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ ...running, State: { Name: 'stopped' } }] }] });
    mocks.ec2.on(StartInstancesCommand).resolves({ StartingInstances: [{ PreviousState: { Name: 'stopped' } }] });
    const r = await cli(['gpu', 'start']);
    expect(r.code).toBe(0);
    const spool = path.join(spoolDir, 'audit-pending.jsonl');
    expect(existsSync(spool)).toBe(true);
    expect(JSON.parse(readFileSync(spool, 'utf8').trim())).toMatchObject({ action: 'gpu.start', target: 'i-0abc', result: 'ok' });
  });

  test('AWS errors end in one line with what to do', async () => {
    mocks.ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredToken' }));
    const r = await cli(['gpu', 'status']);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/credentials have expired.*aws sso login/);
    const j = await cli(['--json', 'gpu', 'status']);
    expect(JSON.parse(j.out).error).toMatch(/expired/);
  });
});

describe('secrets', () => {
  test('put reads the value from stdin, never argv, and never prints or audits it', async () => {
    mocks.sm.on(PutSecretValueCommand).resolves({ VersionId: 'v2' });
    const r = await cli(['secrets', 'put', 'jwt-secret'], { stdin: 'sup3r-s3cret\n' });
    expect(r.code).toBe(0);
    expect(mocks.sm.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({ SecretId: 'ziggie/prod/jwt-secret', SecretString: 'sup3r-s3cret' });
    expect(r.out + r.err).not.toContain('sup3r-s3cret');
    const rec = audited()[0];
    expect(rec).toMatchObject({ action: 'secrets.put', target: 'ziggie/prod/jwt-secret', result: 'ok', detail: { bytes: 12 } });
    expect(JSON.stringify(audited())).not.toContain('sup3r-s3cret');
  });

  test('a value on the command line is refused', async () => {
    const r = await cli(['secrets', 'put', 'jwt-secret', 'sup3r-s3cret']);
    expect(r.code).toBe(2);
    expect(mocks.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  test('unknown names and empty values are refused', async () => {
    expect((await cli(['secrets', 'put', 'nope'], { stdin: 'x' })).err).toMatch(/not a configured secret/);
    expect((await cli(['secrets', 'put', 'jwt-secret'], { stdin: '\n' })).err).toMatch(/empty/);
  });

  test('get hides the value unless --reveal (which is audited)', async () => {
    mocks.sm.on(GetSecretValueCommand).resolves({ SecretString: 'sup3r-s3cret', VersionId: 'v2' });
    mocks.sm.on(DescribeSecretCommand).resolves({ LastChangedDate: new Date('2025-06-01T00:00:00Z') });
    const hidden = await cli(['secrets', 'get', 'jwt-secret']);
    expect(hidden.out).not.toContain('sup3r-s3cret');
    expect(hidden.out).toMatch(/12 characters, last changed 2025-06-01/);
    expect(audited()).toHaveLength(0);
    const shown = await cli(['secrets', 'get', 'jwt-secret', '--reveal']);
    expect(shown.out.trim()).toBe('sup3r-s3cret');
    expect(audited()).toEqual([expect.objectContaining({ action: 'secrets.reveal', target: 'ziggie/prod/jwt-secret' })]);
  });

  test('list shows last-changed dates and which are still empty', async () => {
    mocks.sm.on(ListSecretsCommand).resolves({ SecretList: [
      { Name: 'ziggie/prod/jwt-secret', LastChangedDate: new Date('2025-06-01T10:00:00Z'), SecretVersionsToStages: { v1: ['AWSCURRENT'] } },
      { Name: 'ziggie/prod/openai-api-key', CreatedDate: new Date('2025-05-01T10:00:00Z'), SecretVersionsToStages: {} },
      ...config.secrets.names.filter((n) => !/jwt|openai/.test(n)).map((Name) => ({ Name, SecretVersionsToStages: { v: ['AWSCURRENT'] } })),
      { Name: 'ziggie/hostinger-api-token' },
    ] });
    const r = await cli(['secrets', 'list']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ziggie\/prod\/jwt-secret\s+set\s+2025-06-01 10:00/);
    expect(r.out).toMatch(/ziggie\/prod\/openai-api-key\s+empty/);
    expect(r.out).toMatch(/ziggie\/hostinger-api-token\s+empty/);
    expect(r.out).toMatch(/2 without a value/);
    expect(mocks.sm.commandCalls(ListSecretsCommand)[0].args[0].input.Filters).toEqual([{ Key: 'name', Values: ['ziggie/'] }]);
  });
});

describe('cost', () => {
  test('month to date by service, forecast, budget and the VPS, combined', async () => {
    mocks.ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [
      { Keys: ['Amazon Elastic Compute Cloud - Compute'], Metrics: { UnblendedCost: { Amount: '31.4159', Unit: 'USD' } } },
      { Keys: ['AWS Secrets Manager'], Metrics: { UnblendedCost: { Amount: '2.8', Unit: 'USD' } } },
      { Keys: ['Tax'], Metrics: { UnblendedCost: { Amount: '0', Unit: 'USD' } } },
    ] }] });
    mocks.ce.on(GetCostForecastCommand).resolves({ Total: { Amount: '40', Unit: 'USD' } });
    mocks.budgets.on(DescribeBudgetCommand).resolves({ Budget: { BudgetName: 'ziggie-prod-monthly', BudgetLimit: { Amount: '150', Unit: 'USD' },
      CalculatedSpend: { ActualSpend: { Amount: '60', Unit: 'USD' }, ForecastedSpend: { Amount: '95', Unit: 'USD' } }, TimeUnit: 'MONTHLY', BudgetType: 'COST' } });
    const r = await cli(['--json', 'cost']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(mocks.ce.commandCalls(GetCostAndUsageCommand)[0].args[0].input.TimePeriod).toEqual({ Start: '2025-06-01', End: '2025-06-15' });
    expect(mocks.ce.commandCalls(GetCostForecastCommand)[0].args[0].input.TimePeriod).toEqual({ Start: '2025-06-15', End: '2025-07-01' });
    expect(report).toMatchObject({
      awsUsd: 34.22, awsForecastUsd: 74.22, vpsMonthlyUsd: 19.99, totalUsd: 54.21, totalForecastUsd: 94.21,
      byService: [{ service: 'Amazon Elastic Compute Cloud - Compute', usd: 31.42 }, { service: 'AWS Secrets Manager', usd: 2.8 }],
      budget: { name: 'ziggie-prod-monthly', limitUsd: 150, actualUsd: 60, crossed: [50], nextThreshold: 100, status: 'warning' },
    });
    expect(mocks.budgets.commandCalls(DescribeBudgetCommand)[0].args[0].input).toEqual({ AccountId: '111122223333', BudgetName: 'ziggie-prod-monthly' });
  });

  test('a past month is whole, without forecast; a bad --month is one line', async () => {
    mocks.ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [] }] });
    const r = await cli(['cost', '--month', '2024-02']);
    expect(r.out).toMatch(/2024-02 \(whole month\)/);
    expect(r.out).toMatch(/Hostinger VPS +\$19\.99/);
    expect(mocks.ce.commandCalls(GetCostAndUsageCommand)[0].args[0].input.TimePeriod).toEqual({ Start: '2024-02-01', End: '2024-03-01' });
    expect(mocks.ce.commandCalls(GetCostForecastCommand)).toHaveLength(0);
    const calls = mocks.ce.calls().length;
    const bad = await cli(['cost', '--month', '2024-13']);
    expect(bad.code).toBe(2); // a usage error, caught while parsing: no call is made
    expect(bad.err).toBe("error: option '--month <YYYY-MM>' argument '2024-13' is invalid. expected a month such as 2025-06\n");
    expect(mocks.ce.calls()).toHaveLength(calls);
  });

  test('cost report --month: the monthly report as text, --json and --html with the chart', async () => {
    mocks.ce.on(GetCostAndUsageCommand).callsFake(async (input: { Granularity: string; TimePeriod: { Start: string }; Filter?: unknown }) => {
      if (input.Granularity === 'DAILY') return { ResultsByTime: Array.from({ length: 28 }, (_, i) => ({ TimePeriod: { Start: `2025-02-${String(i + 1).padStart(2, '0')}` }, Total: { UnblendedCost: { Amount: '1', Unit: 'USD' } } })) };
      if (input.Filter) return { ResultsByTime: [{ Total: { UsageQuantity: { Amount: '10', Unit: 'Hrs' }, UnblendedCost: { Amount: '2', Unit: 'USD' } } }] };
      return { ResultsByTime: [{ Groups: [{ Keys: ['Amazon Elastic Compute Cloud - Compute'], Metrics: { UnblendedCost: { Amount: input.TimePeriod.Start === '2025-02-01' ? '28' : '20', Unit: 'USD' } } }] }] };
    });
    mocks.ce.on(GetCostForecastCommand).resolves({ Total: { Amount: '40', Unit: 'USD' } });
    const text = await cli(['cost', 'report', '--month', '2025-02']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^Ziggie cost report 2025-02/);
    expect(text.out).toMatch(/Total \$47\.99 = AWS \$28\.00 \+ Hostinger VPS \$19\.99/);
    expect(text.out).toMatch(/GPU g4dn\.xlarge: 10\.0 h, \$2\.00, \$0\.200\/h/);
    const json = JSON.parse((await cli(['--json', 'cost', 'report', '--month', '2025-02'])).out);
    expect(json).toMatchObject({ kind: 'monthly', title: '2025-02', awsUsd: 28, previousAwsUsd: 20, changeUsd: 8 });
    const html = (await cli(['cost', 'report', '--month', '2025-02', '--html'])).out;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<rect class="point"/g)).toHaveLength(28);
  });
});

describe('health', () => {
  function allGood(vm = true) {
    mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ ...running, State: { Name: 'stopped' } }] }] });
    mocks.cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'ziggie-gpu-idle-cpu', StateValue: 'ALARM' }], CompositeAlarms: [{ AlarmName: 'ziggie-gpu-idle', StateValue: 'OK' }] });
    if (vm) api.on('GET /api/vps/v1/virtual-machines/100001', reply(200, 'virtual-machine.json'));
  }
  const docker = config.containers.map((c) => JSON.stringify({ Names: `ziggie-${c.name}-1`, State: 'running', Status: 'Up 2 days (healthy)' })).join('\n');

  test('all pass → exit 0, one line per check', async () => {
    allGood();
    const r = await cli(['health'], { ssh: async () => docker });
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.slice(0, -1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'PASS aws.identity', 'PASS aws.gpu', 'PASS aws.alarms', 'PASS aws.audit', 'PASS hostinger.api', 'PASS hostinger.ssh',
    ]);
    expect(r.out).toMatch(/hostinger\.ssh +8\/8 containers running/);
    expect(lines.at(-1)).toBe('6 passed, 0 failed');
  });

  test('a failing check → exit 1 and a reason', async () => {
    allGood();
    const r = await cli(['health'], { ssh: async () => { throw new Error('ssh root@203.0.113.10: Connection timed out'); } });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL +hostinger\.ssh +ssh root@203\.0\.113\.10: Connection timed out/);
  });

  test('wrong account and a stopped container are failures', async () => {
    allGood();
    mocks.sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::999999999999:user/bob', Account: '999999999999' });
    const broken = docker.replace('"Names":"ziggie-redis-1","State":"running"', '"Names":"ziggie-redis-1","State":"exited"');
    const r = await cli(['--json', 'health'], { ssh: async () => broken });
    const checks = JSON.parse(r.out).checks as { name: string; ok: boolean; detail: string }[];
    expect(checks.find((c) => c.name === 'aws.identity')).toMatchObject({ ok: false, detail: expect.stringMatching(/wrong AWS_PROFILE/) });
    expect(checks.find((c) => c.name === 'hostinger.ssh')).toMatchObject({ ok: false, detail: expect.stringMatching(/ziggie-redis-1 exited/) });
    expect(r.code).toBe(1);
  });

  test('Hostinger 401 is a failed check with what to do', async () => {
    allGood(false);
    api.on('GET /api/vps/v1/virtual-machines/100001', reply(401, 'error-401.json'));
    const r = await cli(['health', '--no-ssh']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL +hostinger\.api .*secrets put hostinger-api-token/);
  });
});

describe('vps', () => {
  test('restore without --yes only says what it would do', async () => {
    api.on('GET /api/vps/v1/virtual-machines/100001/snapshot', reply(200, 'snapshot.json'));
    const r = await cli(['vps', 'restore']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/would restore VPS 100001 to its snapshot of 2025-05-30T08:12:01Z; run again with --yes/);
    expect(api.requests.filter((x) => x.method === 'POST')).toHaveLength(0);
  });

  test('snapshot waits for the action and is audited', async () => {
    api.on('GET /api/vps/v1/virtual-machines/100001', reply(200, 'virtual-machine.json'))
      .on('GET /api/vps/v1/virtual-machines/100001/snapshot', reply(200, 'snapshot.json'))
      .on('POST /api/vps/v1/virtual-machines/100001/snapshot', reply(200, 'action-snapshot-success.json'));
    const r = await cli(['vps', 'snapshot', '--reason', 'before n8n upgrade']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/snapshot success/);
    expect(audited()).toEqual([expect.objectContaining({ action: 'vps.snapshot', target: 'hostinger-vm/100001', detail: expect.objectContaining({ reason: 'before n8n upgrade' }) })]);
  });
});
