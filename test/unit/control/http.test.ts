/**
 * The control-center HTTP API over real HTTP on loopback (Fastify listening on 127.0.0.1), AWS behind
 * aws-sdk-client-mock, Hostinger behind the local stand-in that replays recorded responses.
 */
import { CostExplorerClient, GetCostAndUsageCommand, GetCostForecastCommand } from '@aws-sdk/client-cost-explorer';
import { BudgetsClient, DescribeBudgetCommand } from '@aws-sdk/client-budgets';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, DescribeSpotPriceHistoryCommand, EC2Client, StartInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer } from '../../../control/http/server';
import { FakeHostinger, fixture, reply } from '../ops/hostinger-server';
import { auditRecords, resetAuditMocks, testPlane, type TestPlane } from './helpers';

const ec2 = mockClient(EC2Client);
const ce = mockClient(CostExplorerClient);
const budgets = mockClient(BudgetsClient);
const cw = mockClient(CloudWatchClient);

let hostinger: FakeHostinger;
let t: TestPlane;
let app: FastifyInstance;
let base: string;
let gpuState: NonNullable<Instance['State']>['Name'];

const gpu = (): Instance => ({
  InstanceId: 'i-0123456789abcdef0', InstanceType: 'g4dn.xlarge', State: { Name: gpuState }, InstanceLifecycle: 'spot',
  Placement: { AvailabilityZone: 'eu-north-1a' }, Tags: [{ Key: 'Project', Value: 'Ziggie' }, { Key: 'Role', Value: 'comfyui-gpu' }],
});

async function start(patch?: (c: Record<string, any>) => void): Promise<void> {
  t = testPlane({ hostingerUrl: hostinger.url, patch });
  app = await buildHttpServer(t.plane);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
}

function call(method: string, path: string, agent?: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(base + path, {
    method,
    headers: { ...(agent ? { authorization: `Bearer ${t.tokens[agent] ?? agent}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const VM = 'GET /api/vps/v1/virtual-machines/100001';

beforeEach(async () => {
  for (const m of [ec2, ce, budgets, cw]) m.reset();
  resetAuditMocks();
  hostinger = await new FakeHostinger().start();
  gpuState = 'stopped';
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [{ SpotPrice: '0.19' }] });
  ec2.on(DescribeInstancesCommand).callsFake(async () => ({ Reservations: [{ Instances: [gpu()] }] }));
  ec2.on(StartInstancesCommand).callsFake(async () => {
    await new Promise((r) => setTimeout(r, 20));
    gpuState = 'pending';
    return { StartingInstances: [{ InstanceId: 'i-0123456789abcdef0', PreviousState: { Name: 'stopped' }, CurrentState: { Name: 'pending' } }] };
  });
  await start();
});
afterEach(async () => {
  await app.close();
  await hostinger.stop();
});

test('GET /api/cloud/instances: the GPU and the VPS in one shape; a burst of polls makes one AWS call', async () => {
  hostinger.on(VM, reply(200, 'virtual-machine.json'));
  const answers = await Promise.all(Array.from({ length: 20 }, () => call('GET', '/api/cloud/instances', 'agent-viewer')));
  expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
  const body = await answers[0]!.json() as { instances: Record<string, unknown>[] };
  expect(body.instances).toEqual([
    expect.objectContaining({ provider: 'aws', id: 'i-0123456789abcdef0', role: 'gpu', state: 'stopped', costBasis: expect.any(String) }),
    expect.objectContaining({ provider: 'hostinger', id: '100001', role: 'vps', state: 'running', address: '203.0.113.10', costUsd: 19.99, costBasis: 'monthly-fixed' }),
  ]);
  for (const i of body.instances) expect(Object.keys(i).sort()).toEqual(['address', 'costBasis', 'costUsd', 'detail', 'gpu', 'id', 'provider', 'role', 'state', 'vps']);
  // One status for the whole burst: the GPU's lookup, then (the config has a fallback policy and the GPU is stopped)
  // the lookup of a stand-in launched for it. Twenty polls must not make forty.
  const lookups = ec2.commandCalls(DescribeInstancesCommand).map((c) => JSON.stringify(c.args[0].input));
  expect(lookups).toHaveLength(2);
  expect(lookups[1]).toContain('"Name":"tag:ziggie:fallback-for"');
  expect(hostinger.calls(VM)).toHaveLength(1);
});

test('a state nobody can determine is unknown, with the reason; never a guess', async () => {
  ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'UnauthorizedOperation' }));
  hostinger.on(VM, { status: 200, body: { ...fixture<Record<string, unknown>>('virtual-machine.json'), state: 'recovery' } });
  const r = await call('GET', '/api/cloud/instances', 'agent-viewer');
  const body = await r.json() as { instances: { provider: string; state: string; detail: string; costUsd: unknown }[] };
  expect(body.instances[0]).toMatchObject({ provider: 'aws', state: 'unknown', costUsd: null });
  expect(body.instances[0]!.detail).toMatch(/AWS denied access .*UnauthorizedOperation/);
  expect(body.instances[1]).toMatchObject({ provider: 'hostinger', state: 'unknown' });
});

test('ten concurrent POST …/start make one StartInstances; every call is audited with its agent', async () => {
  const answers = await Promise.all(Array.from({ length: 10 }, () => call('POST', '/api/cloud/instances/aws/gpu/start', 'agent-ops')));
  expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
  expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(1);
  const bodies = await Promise.all(answers.map((r) => r.json() as Promise<{ changed: boolean; state: string }>));
  expect(bodies.every((b) => b.state === 'starting')).toBe(true);
  const results = auditRecords().filter((r) => r.action === 'cloud:start-instance' && r.detail?.phase === 'result');
  expect(results).toHaveLength(10);
  for (const r of results) {
    expect(r.detail).toMatchObject({ agent: 'agent-ops', surface: 'http', params: { provider: 'aws', id: 'gpu' } });
    expect(r.durationMs).toEqual(expect.any(Number));
    expect(r.who).toMatch(/ziggie-control-plane/);
  }
  expect(auditRecords().filter((r) => r.action === 'cloud:start-instance' && r.detail?.phase === 'start')).toHaveLength(10);
});

test('another agent\'s token → 403, audited as refused with that agent; nothing started', async () => {
  const r = await call('POST', '/api/cloud/instances/aws/gpu/start', 'agent-viewer');
  expect(r.status).toBe(403);
  expect(await r.json()).toEqual({ error: { kind: 'forbidden', message: expect.stringMatching(/^agent-viewer does not hold cloud:start-instance/) } });
  expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(0);
  expect(auditRecords()).toContainEqual(expect.objectContaining({ action: 'cloud:start-instance', result: 'refused', detail: expect.objectContaining({ agent: 'agent-viewer' }) }));
  // a grant limited to some values: agent-marcus may deploy to hostinger only
  const d = await call('POST', '/api/cloud/deploy', 'agent-marcus', { provider: 'aws', app: 'web', version: 'v1' });
  expect(d.status).toBe(403);
  expect((await d.json() as { error: { message: string } }).error.message).toBe('agent-marcus may use cloud:deploy only with provider in [hostinger], not "aws"');
});

test('no token, an unknown token, a revoked token → 401 (audited); a rotated token replaces the old one', async () => {
  expect((await call('GET', '/api/cloud/instances')).status).toBe(401);
  expect((await call('GET', '/api/cloud/instances', `zgt_${'A'.repeat(43)}`)).status).toBe(401);
  const old = t.tokens['agent-viewer']!;
  const fresh = t.plane.tokens!.rotate('agent-viewer');
  expect((await call('GET', '/api/cloud/instances', old)).status).toBe(401);
  expect((await call('GET', '/api/cloud/instances', fresh)).status).toBe(200);
  t.plane.tokens!.revoke('agent-viewer');
  expect((await call('GET', '/api/cloud/instances', fresh)).status).toBe(401);
  const refused = auditRecords().filter((r) => r.action === 'http.authenticate' && r.result === 'refused');
  expect(refused).toHaveLength(4);
  // Each names the route and the capability it would have run.
  expect(refused.map((r) => [r.target, r.detail?.capability, r.detail?.agent, r.error])).toEqual([
    ['GET /api/cloud/instances', 'cloud:status', null, 'no bearer token'],
    ...Array(3).fill(['GET /api/cloud/instances', 'cloud:status', null, 'unknown or revoked token']),
  ]);
});

test('bad params → 400 with one line naming the field; oversized body → 413; not JSON → 415; nothing runs', async () => {
  const bad = await call('POST', '/api/cloud/deploy', 'agent-marcus', { provider: 'gcp', app: 'ziggie-api', version: 'v1', extra: 1 });
  expect(bad.status).toBe(400);
  const msg = (await bad.json() as { error: { message: string } }).error.message;
  expect(msg).toMatch(/^cloud:deploy: /);
  expect(msg).toMatch(/provider: /);
  expect(msg).toMatch(/unknown parameter extra/);
  expect(msg.split('\n')).toHaveLength(1);
  const badId = await call('POST', '/api/cloud/instances/aws/not-an-id/start', 'agent-ops');
  expect(badId.status).toBe(400);
  const big = await call('POST', '/api/cloud/deploy', 'agent-marcus', { provider: 'hostinger', app: 'ziggie-api', version: 'x'.repeat(70_000) });
  expect(big.status).toBe(413);
  expect(((await big.json()) as { error: { kind: string } }).error.kind).toBe('too-large');
  const text = await call('POST', '/api/cloud/deploy', 'agent-marcus', 'provider=aws', { 'content-type': 'text/plain' });
  expect(text.status).toBe(415);
  expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(0);
  expect(auditRecords().filter((r) => r.result === 'refused' && r.action === 'cloud:deploy')).toHaveLength(1);
});

test('per-agent rate limit: the agent\'s own budget, other agents unaffected', async () => {
  await app.close();
  await start((c) => { c.agents['agent-viewer'].rateLimitPerMinute = 3; });
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await call('GET', '/api/cloud/instances', 'agent-viewer')).status);
  expect(codes).toEqual([200, 200, 200, 429]);
  const limited = await call('GET', '/api/cloud/instances', 'agent-viewer');
  expect(await limited.json()).toEqual({ error: { kind: 'rate-limited', message: expect.stringMatching(/^agent-viewer may make 3 requests per minute/) } });
  expect((await call('GET', '/api/cloud/instances', 'agent-ops')).status).toBe(200);
  // An MCP tool call over the budget is refused the same way, before any MCP server sees it.
  const mcp = await call('POST', '/mcp', 'agent-viewer', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'cloud_status', arguments: {} } },
    { accept: 'application/json, text/event-stream' });
  expect(mcp.status).toBe(429);
  // Every 429 is audited like any other refused call: the agent, the capability (or the MCP tool), the route.
  const limitedRecords = auditRecords().filter((r) => r.result === 'rate-limited');
  expect(limitedRecords.map((r) => [r.action, r.target, r.detail?.agent, r.detail?.surface])).toEqual([
    ['cloud:status', 'GET /api/cloud/instances', 'agent-viewer', 'http'],
    ['cloud:status', 'GET /api/cloud/instances', 'agent-viewer', 'http'],
    ['cloud:status', 'POST /mcp', 'agent-viewer', 'mcp'],
  ]);
  expect(limitedRecords.every((r) => /^agent-viewer may make 3 requests per minute/.test(r.error ?? ''))).toBe(true);
});

test('CORS is off by default: no Access-Control-Allow-Origin; configured origins only when listed', async () => {
  const pre = await call('OPTIONS', '/api/cloud/instances', undefined, undefined, { origin: 'https://evil.example', 'access-control-request-method': 'GET' });
  expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  const get = await call('GET', '/api/cloud/instances', 'agent-viewer', undefined, { origin: 'https://evil.example' });
  expect(get.headers.get('access-control-allow-origin')).toBeNull();
  await app.close();
  await start((c) => { c.controlCenter.corsOrigins = ['https://dash.example.com']; });
  const ok = await call('OPTIONS', '/api/cloud/instances', undefined, undefined, { origin: 'https://dash.example.com', 'access-control-request-method': 'GET' });
  expect(ok.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
  const other = await call('OPTIONS', '/api/cloud/instances', undefined, undefined, { origin: 'https://evil.example', 'access-control-request-method': 'GET' });
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
});

test('GET /api/cloud/costs/current: AWS month to date by service, forecast, Hostinger fixed, combined', async () => {
  ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [{ Groups: [
    { Keys: ['Amazon Elastic Compute Cloud - Compute'], Metrics: { UnblendedCost: { Amount: '12.5', Unit: 'USD' } } },
    { Keys: ['Amazon Simple Storage Service'], Metrics: { UnblendedCost: { Amount: '1.25', Unit: 'USD' } } },
  ] }] });
  ce.on(GetCostForecastCommand).resolves({ Total: { Amount: '20', Unit: 'USD' } });
  budgets.on(DescribeBudgetCommand).resolves({ Budget: { BudgetName: 'ziggie-prod-monthly', BudgetLimit: { Amount: '150', Unit: 'USD' }, CalculatedSpend: { ActualSpend: { Amount: '13.75', Unit: 'USD' } } } as never });
  const r = await call('GET', '/api/cloud/costs/current', 'agent-viewer');
  expect(r.status).toBe(200);
  const body = await r.json() as Record<string, any>;
  expect(body.aws).toEqual({ byService: [{ service: 'Amazon Elastic Compute Cloud - Compute', usd: 12.5 }, { service: 'Amazon Simple Storage Service', usd: 1.25 }], monthToDateUsd: 13.75, forecastUsd: 33.75, forecastNote: null });
  expect(body.hostinger).toEqual({ fixedMonthlyUsd: 19.99 });
  expect(body.total).toEqual({ monthToDateUsd: 33.74, forecastUsd: 53.74 });
  expect(body.budget).toEqual({ name: 'ziggie-prod-monthly', limitUsd: 150, status: 'ok' });
});

test('GET /health/aws and /health/hostinger: one line per check; a failing provider is a failed check, not a 500', async () => {
  cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'ziggie-gpu-idle', StateValue: 'ALARM' }] });
  const a = await call('GET', '/health/aws', 'agent-viewer');
  expect(a.status).toBe(200);
  const aws = await a.json() as { ok: boolean; checks: { name: string; ok: boolean }[] };
  expect(aws.checks.map((c) => c.name)).toEqual(['aws.identity', 'aws.gpu', 'aws.alarms']);
  expect(aws.ok).toBe(true);
  hostinger.on(VM, reply(500, 'error-500.json'));
  const h = await call('GET', '/health/hostinger', 'agent-viewer');
  const body = await h.json() as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
  expect(body.ok).toBe(false);
  expect(body.checks).toEqual([expect.objectContaining({ name: 'hostinger.api', ok: false })]);
});

test('the OpenAPI document is generated from the same schemas: every route, its params and result shapes', async () => {
  const r = await fetch(`${base}/openapi.json`);
  const doc = await r.json() as { openapi: string; paths: Record<string, Record<string, any>> };
  expect(doc.openapi).toBe('3.1.0');
  expect(Object.keys(doc.paths).sort()).toEqual([
    '/api/aws/bedrock/invoke', '/api/cloud/costs/current', '/api/cloud/costs/daily', '/api/cloud/deploy', '/api/cloud/gpu-hours', '/api/cloud/instances',
    '/api/cloud/instances/{provider}/{id}/start', '/api/cloud/instances/{provider}/{id}/stop', '/api/cloud/rollback', '/health/aws', '/health/hostinger',
  ]);
  const instances = doc.paths['/api/cloud/instances']!.get.responses[200].content['application/json'].schema;
  expect(instances.properties.instances.items.properties.state.enum).toContain('unknown');
  const deploy = doc.paths['/api/cloud/deploy']!.post;
  expect(deploy.requestBody.content['application/json'].schema.properties.provider.enum).toEqual(['hostinger', 'aws']);
  expect(deploy.requestBody.content['application/json'].schema.required).toEqual(['provider', 'app', 'version']);
  const startOp = doc.paths['/api/cloud/instances/{provider}/{id}/start']!.post;
  expect(startOp.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['path:provider', 'path:id']);
  expect(startOp.requestBody).toBeUndefined();
});

test('GET /api/me names the token\'s agent and its capabilities (the cloud page hides what the token cannot do)', async () => {
  const viewer = await (await call('GET', '/api/me', 'agent-viewer')).json();
  expect(viewer).toEqual({ agent: 'agent-viewer', capabilities: ['cloud:status', 'cloud:costs', 'cloud:cost-daily', 'cloud:gpu-hours', 'health'] });
  expect((await call('GET', '/api/me')).status).toBe(401);
});

test('GET /api/cloud/costs/daily and /api/cloud/gpu-hours: days 1-90, Cost Explorer DAILY; a bad days value is a 400', async () => {
  ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [
    { TimePeriod: { Start: '2026-11-01', End: '2026-11-02' }, Total: { UnblendedCost: { Amount: '1.234', Unit: 'USD' }, UsageQuantity: { Amount: '3', Unit: 'Hrs' } }, Estimated: false },
    { TimePeriod: { Start: '2026-11-02', End: '2026-11-03' }, Total: { UnblendedCost: { Amount: '0', Unit: 'USD' }, UsageQuantity: { Amount: '0', Unit: 'Hrs' } }, Estimated: true },
  ] });
  const daily = await (await call('GET', '/api/cloud/costs/daily?days=2', 'agent-viewer')).json() as { days: unknown[] };
  expect(daily.days).toEqual([{ date: '2026-11-01', usd: 1.23, estimated: false }, { date: '2026-11-02', usd: 0, estimated: true }]);
  const input = ce.commandCalls(GetCostAndUsageCommand)[0]!.args[0].input;
  expect(input.Granularity).toBe('DAILY');
  expect(new Date(`${input.TimePeriod!.End}T00:00:00Z`).getTime() - new Date(`${input.TimePeriod!.Start}T00:00:00Z`).getTime()).toBe(2 * 86_400_000);
  const hours = await (await call('GET', '/api/cloud/gpu-hours', 'agent-viewer')).json() as { instanceType: string; days: unknown[] };
  expect(hours.instanceType).toBe('g4dn.xlarge');
  expect(hours.days[0]).toEqual({ date: '2026-11-01', hours: 3, usd: 1.23 });
  expect(JSON.stringify(ce.commandCalls(GetCostAndUsageCommand)[1]!.args[0].input.Filter)).toContain('EC2: Running Hours');
  const bad = await call('GET', '/api/cloud/costs/daily?days=400', 'agent-viewer');
  expect(bad.status).toBe(400);
  expect((await call('GET', '/api/cloud/costs/daily', 'agent-marcus')).status).toBe(403);
});
