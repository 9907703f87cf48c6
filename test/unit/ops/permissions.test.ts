import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { AuditLog } from '../../../ops/audit/audit';
import { runCli } from '../../../ops/cli/program';
import { opsContext } from '../../../ops/context';
import { opsCommandNeeds } from '../../../ops/permissions';
import { IamStack } from '../../../stacks/iam';
import { asList, statements, synth } from '../stacks/helpers';

jest.setTimeout(30_000);

const config = loadConfig(EXAMPLE_CONFIG);
const needs = opsCommandNeeds(config);
const clients = {
  ec2: [EC2Client, 'ec2'], sts: [STSClient, 'sts'], secrets: [SecretsManagerClient, 'secretsmanager'], logs: [CloudWatchLogsClient, 'logs'],
  cloudwatch: [CloudWatchClient, 'cloudwatch'], costExplorer: [CostExplorerClient, 'ce'], budgets: [BudgetsClient, 'budgets'],
  sqs: [SQSClient, 'sqs'], s3: [S3Client, 's3'],
} as const;
const mocks = Object.fromEntries(Object.entries(clients).map(([k, [cls]]) => [k, mockClient(cls as never)])) as Record<keyof typeof clients, ReturnType<typeof mockClient>>;
/** SDK operation → IAM action where the two differ. */
const IAM_NAME: Record<string, string> = { 'budgets:DescribeBudget': 'budgets:ViewBudget' };

const WORKFLOW = path.join(mkdtempSync(path.join(os.tmpdir(), 'ziggie-perm-wf-')), 'workflow.json');
writeFileSync(WORKFLOW, JSON.stringify({ 1: { class_type: 'SaveImage', inputs: {} } }));

const instance = (state: string): Instance => ({
  InstanceId: 'i-0abc', InstanceType: 'g4dn.xlarge', State: { Name: state as never }, InstanceLifecycle: 'spot',
  PublicIpAddress: '127.0.0.1', LaunchTime: new Date(), Placement: { AvailabilityZone: 'eu-north-1a' },
  Tags: [{ Key: 'Project', Value: 'Ziggie' }],
});

/** Run a command against mocked AWS (every call answered) and an unreachable Hostinger; the IAM actions it sent. */
async function actionsOf(argv: string[], gpuState = 'running'): Promise<string[]> {
  Object.values(mocks).forEach((m) => { m.reset(); m.onAnyCommand().resolves({}); });
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::111122223333:user/operator', Account: '111122223333' });
  mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance(gpuState)] }] });
  mocks.secrets.on(ListSecretsCommand).resolves({ SecretList: [] });
  mocks.secrets.on(GetSecretValueCommand).resolves({ SecretString: 'value' });
  mocks.logs.on(PutLogEventsCommand).rejectsOnce(Object.assign(new Error('no stream'), { name: 'ResourceNotFoundException' })).resolves({});
  const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-perm-'));
  // One record waiting from an earlier offline run, so the flushing commands have something to send.
  writeFileSync(path.join(spoolDir, 'audit-pending.jsonl'), `${JSON.stringify({
    id: 'spooled', time: new Date().toISOString(), who: 'operator', localUser: 'op', host: 'h', action: 'gpu.stop', target: 'gpu', result: 'ok', durationMs: 1,
  })}\n`);
  try {
    const aws = Object.fromEntries(Object.entries(clients).map(([k, [cls]]) => [k, new (cls as new (c: object) => unknown)({ region: 'eu-north-1' })])) as never;
    const audit = new AuditLog({ logs: (aws as { logs: CloudWatchLogsClient }).logs, sts: (aws as { sts: STSClient }).sts, logGroup: config.audit.logGroup, spoolDir, streamName: 'test' });
    const stdin = Object.assign(Readable.from(['a value']), { isTTY: false });
    await runCli(argv, {
      config,
      io: { stdout: new PassThrough(), stderr: new PassThrough(), stdin },
      context: (c) => opsContext(c, { aws, audit, env: {}, hostingerOptions: { baseUrl: 'http://127.0.0.1:9', maxRetries: 0 } }),
      sleep: async () => undefined,
    });
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
  const sent = Object.entries(clients).flatMap(([k, [, prefix]]) => mocks[k as keyof typeof clients].calls()
    .map((call) => `${prefix}:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`));
  return [...new Set(sent.map((a) => IAM_NAME[a] ?? a))].filter((a) => a !== 'sts:GetCallerIdentity').sort();
}

/** Leaf commands from `--help`, recursively. */
async function leafCommands(prefix: string[] = []): Promise<string[]> {
  const stdout = new PassThrough();
  await runCli([...prefix, '--help'], { config, io: { stdout, stderr: new PassThrough(), stdin: Object.assign(Readable.from([]), { isTTY: false }) } });
  const help: string = stdout.read()?.toString() ?? '';
  const names = (help.split('Commands:')[1] ?? '').split('\n').map((l) => /^ {2}([a-z][a-z-]*)/.exec(l)?.[1]).filter((n): n is string => !!n && n !== 'help');
  if (names.length === 0) return [prefix.join(' ')];
  return (await Promise.all(names.map((n) => leafCommands([...prefix, n])))).flat();
}

describe('what each ops command declares (ops/permissions.ts)', () => {
  test('every command of the CLI has a declaration, and every declaration a command', async () => {
    expect((await leafCommands()).sort()).toEqual(needs.map((n) => n.command).sort());
  });

  // [command, argv, the GPU's state]: three columns in every row (jest would take a missing one for `done`).
  const runs: Array<[string, string[], string]> = [
    ['gpu start', ['gpu', 'start'], 'stopped'], ['gpu stop', ['gpu', 'stop'], 'running'], ['gpu status', ['gpu', 'status'], 'running'],
    ['gpu url', ['gpu', 'url'], 'running'], ['gpu submit', ['gpu', 'submit', WORKFLOW, '--wait', '--timeout', '1'], '-'], ['secrets list', ['secrets', 'list'], '-'], ['secrets put', ['secrets', 'put', 'openai-api-key'], '-'],
    ['secrets get', ['secrets', 'get', 'openai-api-key', '--reveal'], '-'], ['cost report', ['cost', 'report'], '-'], ['health', ['health', '--no-ssh'], 'running'],
    ['audit tail', ['audit', 'tail'], '-'], ['audit flush', ['audit', 'flush'], '-'], ['vps status', ['vps', 'status'], '-'],
    ['vps snapshot', ['vps', 'snapshot', '--no-wait'], '-'], ['vps restore', ['vps', 'restore', '--yes', '--no-wait'], '-'],
    ['vps firewall', ['vps', 'firewall'], '-'], ['dns get', ['dns', 'get', 'example.com'], '-'],
    ['dns set', ['dns', 'set', 'example.com', 'www', 'A', '203.0.113.5'], '-'],
  ];
  test.each(runs)('%s: every AWS call it makes is declared', async (command, argv, state) => {
    const declared = [...new Set(needs.find((n) => n.command === command)!.calls.map((c) => c.action))];
    const made = await actionsOf(argv, state);
    expect(made.length).toBeGreaterThan(0);
    expect(made.filter((a) => !declared.includes(a))).toEqual([]);
  });

  test('ziggie-agent grants exactly the union of the declared actions', () => {
    const s = synth((app) => new IamStack(app, 'iam', config));
    const agent = statements(s.of('aws_iam_policy').find((p) => p.config.name === 'ziggie-agent')!.config.policy);
    const granted = [...new Set(agent.flatMap((st) => asList(st.Action as string | string[])))].sort();
    const declared = [...new Set(needs.flatMap((n) => n.calls.map((c) => c.action)))].sort();
    expect(granted).toEqual(declared);
  });
});
