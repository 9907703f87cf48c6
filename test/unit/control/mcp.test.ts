/**
 * The MCP surface with the SDK's own client: over stdio (StdioClientTransport spawning scripts/mcp.mts through the launcher, the way an
 * MCP host would) and over streamable HTTP (the control center's /mcp on loopback). Tools per agent, a call, a
 * refused tool, bad params → one clear error, every call in the audit log.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { DescribeInstancesCommand, DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import type { FastifyInstance } from 'fastify';
import { buildHttpServer } from '../../../control/http/server';
import { toolName } from '../../../control/mcp/server';
import type { AuditRecord } from '../../../ops/audit/audit';
import { auditRecords, resetAuditMocks, testPlane, type TestPlane } from './helpers';

const ROOT = path.resolve(__dirname, '../../..');
const ec2 = mockClient(EC2Client);
jest.setTimeout(60_000);

/** The tools an agent must see: exactly its grants in the config, as MCP tool names. */
const granted = (t: TestPlane, agent: string): string[] => Object.keys(t.plane.ctx.config.agents[agent]!.capabilities).map(toolName).sort();

type ToolText = { content: { type: string; text: string }[]; isError?: boolean; structuredContent?: Record<string, any> };

describe('stdio: npm run mcp -- --agent NAME, spawned by the SDK client', () => {
  let t: TestPlane;
  const clients: Client[] = [];

  const connect = async (agent: string, token = t.tokens[agent]!): Promise<Client> => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(ROOT, 'bin/run.mjs'), path.join(ROOT, 'scripts/mcp.mts'), '--agent', agent, '--config', t.configFile],
      cwd: ROOT,
      env: {
        PATH: process.env.PATH!, HOME: t.dir, ZIGGIE_STATE_DIR: t.dir, ZIGGIE_AGENT_TOKEN: token,
        // no AWS account: every AWS call fails at once, per request
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00', AWS_SECRET_ACCESS_KEY: 'not-a-real-key', AWS_REGION: 'eu-north-1',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9', HOSTINGER_API_URL: 'http://127.0.0.1:9', HOSTINGER_API_TOKEN: 'x',
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'ziggie-test', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    return client;
  };

  const spooled = (): AuditRecord[] => readFileSync(path.join(t.dir, 'audit-pending.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

  beforeAll(() => {
    t = testPlane({ patch: (c) => { c.ops.awsMaxAttempts = 1; c.controlCenter.requestTimeoutSeconds = 5; } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  test('an agent sees exactly its capabilities as tools, with their input schemas', async () => {
    const viewer = await connect('agent-viewer');
    expect((await viewer.listTools()).tools.map((x) => x.name).sort()).toEqual(granted(t, 'agent-viewer'));
    expect(granted(t, 'agent-viewer')).not.toContain('cloud_deploy');
    const marcus = await connect('agent-marcus');
    const tools = (await marcus.listTools()).tools;
    expect(tools.map((x) => x.name).sort()).toEqual(granted(t, 'agent-marcus'));
    expect(tools.map((x) => x.name)).toContain('cloud_deploy');
    const deploy = tools.find((x) => x.name === 'cloud_deploy')!;
    expect(deploy.inputSchema).toMatchObject({ type: 'object', required: ['provider', 'app', 'version'], properties: { provider: { enum: ['hostinger', 'aws'] } } });
    expect(deploy.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
  });

  test('a call goes through the pipeline; with no AWS account the answer says so per machine (unknown), it does not hang', async () => {
    const viewer = await connect('agent-viewer');
    const r = await viewer.callTool({ name: 'cloud_status', arguments: {} }) as ToolText;
    expect(r.isError).toBeFalsy();
    const body = JSON.parse(r.content[0]!.text);
    expect(body.instances.map((i: { provider: string; state: string }) => [i.provider, i.state])).toEqual([['aws', 'unknown'], ['hostinger', 'unknown']]);
    expect(body.instances[0].detail).toMatch(/cannot reach AWS|ECONNREFUSED/);
  });

  test('a tool the agent does not hold, and bad params: one clear error each; both audited with the agent', async () => {
    const viewer = await connect('agent-viewer');
    const refused = await viewer.callTool({ name: 'cloud_stop-instance', arguments: { provider: 'aws', id: 'gpu' } }) as ToolText;
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toBe(`forbidden: agent-viewer does not hold cloud:stop-instance (it holds: ${Object.keys(t.plane.ctx.config.agents['agent-viewer']!.capabilities).join(', ')})`);
    const bad = await viewer.callTool({ name: 'health', arguments: { scope: 'everything' } }) as ToolText;
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text.split('\n')).toHaveLength(1);
    expect(bad.content[0]!.text).toMatch(/^bad-params: health: scope: /);
    const records = spooled();
    expect(records).toContainEqual(expect.objectContaining({ action: 'cloud:stop-instance', result: 'refused', detail: expect.objectContaining({ agent: 'agent-viewer', surface: 'mcp' }) }));
    expect(records).toContainEqual(expect.objectContaining({ action: 'health', result: 'refused', detail: expect.objectContaining({ agent: 'agent-viewer', surface: 'mcp' }) }));
    expect(records).toContainEqual(expect.objectContaining({ action: 'cloud:status', result: 'ok', detail: expect.objectContaining({ agent: 'agent-viewer', surface: 'mcp' }) }));
  });

  test('a token of another agent, or none: the server refuses to start, one line', async () => {
    await expect(connect('agent-ops', t.tokens['agent-viewer'])).rejects.toThrow();
    expect(spooled()).toContainEqual(expect.objectContaining({ action: 'mcp.authenticate', result: 'refused', detail: expect.objectContaining({ agent: 'agent-ops' }) }));
  });
});

describe('streamable HTTP: the control center\'s /mcp with a bearer token', () => {
  let t: TestPlane;
  let app: FastifyInstance;
  let base: string;

  const connect = async (token: string): Promise<Client> => {
    const client = new Client({ name: 'ziggie-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return client;
  };

  beforeEach(async () => {
    ec2.reset();
    resetAuditMocks();
    ec2.on(DescribeSpotPriceHistoryCommand).resolves({});
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0aaaabbbbccccdddd', State: { Name: 'stopped' }, Tags: [{ Key: 'Project', Value: 'Ziggie' }] }] }] });
    t = testPlane();
    app = await buildHttpServer(t.plane);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await app.close();
  });

  test('tools per agent, a call, a refused tool, bad params; every call audited', async () => {
    const ops = await connect(t.tokens['agent-ops']!);
    expect((await ops.listTools()).tools.map((x) => x.name).sort()).toEqual(granted(t, 'agent-ops'));
    expect(granted(t, 'agent-ops')).toEqual(expect.arrayContaining(['cloud_start-instance', 'aws_bedrock-invoke']));
    const r = await ops.callTool({ name: 'cloud_status', arguments: {} }) as ToolText;
    expect(r.structuredContent!.instances[0]).toMatchObject({ provider: 'aws', id: 'i-0aaaabbbbccccdddd', state: 'stopped' });
    const chen = await connect(t.tokens['agent-chen']!);
    const refused = await chen.callTool({ name: 'cloud_start-instance', arguments: { provider: 'aws', id: 'gpu' } }) as ToolText;
    expect(refused).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringMatching(/^forbidden: agent-chen does not hold cloud:start-instance/) }] });
    const bad = await ops.callTool({ name: 'aws_bedrock-invoke', arguments: { model: 'anthropic.claude-3-haiku-20240307-v1:0', prompt: 'x'.repeat(20_000) } }) as ToolText;
    expect(bad.content[0]!.text).toBe('bad-params: input is 20000 characters; the limit is 16000 (controlCenter.bedrock.maxInputChars)');
    const notAllowed = await ops.callTool({ name: 'aws_bedrock-invoke', arguments: { model: 'meta.llama3-70b', prompt: 'hi' } }) as ToolText;
    expect(notAllowed.content[0]!.text).toMatch(/^bad-params: model meta.llama3-70b is not allowed/);
    const records = auditRecords().filter((x) => x.detail?.surface === 'mcp');
    expect(records.map((x) => [x.action, x.detail?.agent, x.result])).toEqual([
      ['cloud:status', 'agent-ops', 'ok'],
      ['cloud:start-instance', 'agent-chen', 'refused'],
      ['aws:bedrock-invoke', 'agent-ops', 'refused'],
      ['aws:bedrock-invoke', 'agent-ops', 'refused'],
    ]);
    // the prompt never reaches the audit log, only its length
    expect(records[2]!.detail?.params).toMatchObject({ prompt: '[redacted, 20000 chars]' });
    await ops.close();
    await chen.close();
  });

  test('initialize opens a session bound to the agent: later calls reuse it; another agent\'s token cannot use it (404, audited)', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${t.tokens['agent-ops']}` } } });
    const ops = new Client({ name: 'ziggie-test', version: '1.0.0' });
    await ops.connect(transport);
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    for (let i = 0; i < 3; i++) expect((await ops.callTool({ name: 'cloud_status', arguments: {} })).isError).toBeFalsy();
    expect((await ops.listTools()).tools.map((x) => x.name).sort()).toEqual(granted(t, 'agent-ops'));
    // The same session id with agent-chen's token: not found for that agent, and audited as refused.
    const session = transport.sessionId!;
    const inSession = (agent: string) => fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens[agent]}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'cloud_status', arguments: {} } }),
    });
    expect((await inSession('agent-chen')).status).toBe(404);
    expect(auditRecords().filter((r) => r.detail?.surface === 'mcp').map((r) => [r.action, r.detail?.agent, r.result])).toEqual([
      ['cloud:status', 'agent-ops', 'ok'], ['cloud:status', 'agent-ops', 'ok'], ['cloud:status', 'agent-ops', 'ok'],
      ['cloud:status', 'agent-chen', 'refused'],
    ]);
    // The session still serves its own agent; a DELETE closes it.
    expect((await ops.callTool({ name: 'cloud_status', arguments: {} })).isError).toBeFalsy();
    await transport.terminateSession();
    expect((await inSession('agent-ops')).status).toBe(404);
    await ops.close();
  });

  test('sessions per agent are limited (the least recently used closes) and idle ones expire', async () => {
    await app.close();
    let clock = 1_000_000;
    app = await buildHttpServer(t.plane, { mcpSessions: { maxPerAgent: 2, idleMs: 60_000, now: () => clock++ } });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const [a, b, c] = [await connect(t.tokens['agent-ops']!), await connect(t.tokens['agent-ops']!), await connect(t.tokens['agent-ops']!)];
    const chen = await connect(t.tokens['agent-chen']!);
    await expect(a.callTool({ name: 'cloud_status', arguments: {} })).rejects.toThrow(/404|not found/i);
    for (const client of [b, c, chen]) expect((await client.callTool({ name: 'cloud_status', arguments: {} })).isError).toBeFalsy();
    clock += 30_000;
    expect((await c.callTool({ name: 'cloud_status', arguments: {} })).isError).toBeFalsy();
    clock += 40_000; // b idle 70 s, c 40 s
    await expect(b.callTool({ name: 'cloud_status', arguments: {} })).rejects.toThrow(/404|not found/i);
    expect((await c.callTool({ name: 'cloud_status', arguments: {} })).isError).toBeFalsy();
    // A client that sends no session id at all is still served, statelessly.
    const r = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens['agent-ops']}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { result: { tools: { name: string }[] } }).result.tools.map((x) => x.name).sort()).toEqual(granted(t, 'agent-ops'));
    await Promise.all([a, b, c, chen].map((x) => x.close()));
  });

  test('no token or an unknown one: the MCP endpoint answers 401', async () => {
    await expect(connect('zgt_' + 'A'.repeat(43))).rejects.toThrow(/unauthenticated.*unknown or revoked token/);
  const r = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(r.status).toBe(401);
  });
});
