/**
 * A capability's IAM declaration (`iam(config)`, control/iam.ts) against what its handler really sends: every
 * capability runs through the pipeline with every AWS client behind aws-sdk-client-mock (answers good enough to
 * walk the whole path), and each request it sends must be one it declares. The IAM simulation then checks the
 * declarations against the control plane's policy (test/unit/control/iam.test.ts), so the handler, the
 * declaration and the policy cannot drift apart. `sts:GetCallerIdentity` needs no permission and is not declared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { DescribeInstancesCommand, DescribeSpotPriceHistoryCommand, EC2Client, type Instance, StartInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { pipelineCalls } from '../../../control/iam';
import { resetAuditMocks, testPlane, type TestPlane } from './helpers';

jest.setTimeout(60_000);

const clients = {
  ec2: [EC2Client, 'ec2'], cloudwatch: [CloudWatchClient, 'cloudwatch'], ce: [CostExplorerClient, 'ce'], budgets: [BudgetsClient, 'budgets'],
  secrets: [SecretsManagerClient, 'secretsmanager'], s3: [S3Client, 's3'], cloudfront: [CloudFrontClient, 'cloudfront'], bedrock: [BedrockRuntimeClient, 'bedrock'],
} as const;
const mocks = Object.fromEntries(Object.entries(clients).map(([k, [cls]]) => [k, mockClient(cls as never)])) as Record<keyof typeof clients, ReturnType<typeof mockClient>>;
/** SDK operation → IAM action where the two differ (Bedrock's Converse is authorized as InvokeModel). */
const IAM_NAME: Record<string, string> = { 'budgets:DescribeBudget': 'budgets:ViewBudget', 's3:ListObjectsV2': 's3:ListBucket', 'bedrock:Converse': 'bedrock:InvokeModel' };

const GPU: Instance = { InstanceId: 'i-0123456789abcdef0', InstanceType: 'g4dn.xlarge', State: { Name: 'stopped' }, InstanceLifecycle: 'spot',
  Placement: { AvailabilityZone: 'eu-north-1a' }, Tags: [{ Key: 'Project', Value: 'Ziggie' }, { Key: 'Role', Value: 'comfyui-gpu' }] };

/** Sample params that walk each capability's AWS path (the hostinger halves need no AWS). */
const PARAMS: Record<string, Record<string, unknown>> = {
  'cloud:status': {},
  'cloud:start-instance': { provider: 'aws', id: 'gpu' },
  'cloud:stop-instance': { provider: 'aws', id: 'gpu' },
  'cloud:deploy': { provider: 'aws', app: 'web', version: 'v2' },
  'cloud:rollback': { provider: 'aws', app: 'web' },
  'cloud:costs': {},
  'cloud:cost-daily': { days: 7 },
  'cloud:gpu-hours': { days: 7 },
  health: { scope: 'aws' },
  'aws:bedrock-invoke': { model: 'anthropic.claude-3-haiku-20240307-v1:0', prompt: 'hello' },
};

let t: TestPlane;

beforeAll(() => {
  t = testPlane({ patch: (c) => {
    c.controlCenter.deploy.frontend.cloudfrontDistributionId = 'E2ABCDEFGHIJKL';
    c.agents['agent-all'] = { description: 'holds every capability', capabilities: Object.fromEntries(Object.keys(PARAMS).map((k) => [k, {}])) };
  } });
  const file = path.join(t.dir, 'artifacts', 'web', 'v2', 'index.html');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '<h1>v2</h1>');
});

/** Run one capability; the IAM actions its handler sent (the pipeline's audit writes and sts:GetCallerIdentity left out). */
async function actionsOf(capability: string): Promise<string[]> {
  Object.values(mocks).forEach((m) => { m.reset(); m.onAnyCommand().resolves({}); });
  resetAuditMocks();
  mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [GPU] }] });
  mocks.ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [{ SpotPrice: '0.19' }] });
  mocks.ec2.on(StartInstancesCommand).resolves({ StartingInstances: [{ InstanceId: GPU.InstanceId!, PreviousState: { Name: 'stopped' }, CurrentState: { Name: 'pending' } }] });
  mocks.ec2.on(StopInstancesCommand).resolves({ StoppingInstances: [{ InstanceId: GPU.InstanceId, PreviousState: { Name: 'running' }, CurrentState: { Name: 'stopping' } }] });
  // The last release recorded is v1 (a rollback target, and a deploy of v2 changes something).
  mocks.s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify({ version: 'v2', previous: 'v2', releases: ['v2', 'v2'] }) } } as never);
  mocks.cloudfront.on(CreateInvalidationCommand).resolves({ Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } });
  mocks.bedrock.on(InvokeModelCommand).resolves({ body: new TextEncoder().encode(JSON.stringify({ content: [{ type: 'text', text: 'hi' }], usage: { input_tokens: 1, output_tokens: 1 } })) } as never);
  await t.plane.pipeline.call({ agent: 'agent-all', capability, params: PARAMS[capability], surface: 'cli' }).catch(() => undefined);
  const sent = Object.entries(clients).flatMap(([k, [, prefix]]) => mocks[k as keyof typeof clients].calls()
    .map((call) => `${prefix}:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`));
  return [...new Set(sent.map((a) => IAM_NAME[a] ?? a))].sort();
}

test('the sample params cover every capability of the registry', () => {
  expect(Object.keys(PARAMS).sort()).toEqual(t.plane.registry.names().sort());
});

test.each(Object.keys(PARAMS))('%s sends only what it declares', async (capability) => {
  const cap = t.plane.registry.get(capability)!;
  const declared = new Set([...cap.iam(t.plane.ctx.config), ...pipelineCalls(t.plane.ctx.config)].map((c) => c.action));
  const sent = await actionsOf(capability);
  // Every capability reaches AWS at least once with these params (a test that sent nothing would prove nothing).
  expect([capability, sent.length > 0]).toEqual([capability, true]);
  expect([capability, sent.filter((a) => !declared.has(a))]).toEqual([capability, []]);
});
