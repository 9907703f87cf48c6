/** `ziggie agent exec|token|list` through the ops CLI with the control plane's commands added (as scripts/ziggie.ts does). */
import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { DescribeInstancesCommand, DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { addAgentCommands } from '../../../control/cli';
import { runCli } from '../../../ops/cli/program';
import { auditRecords, resetAuditMocks, testPlane, type TestPlane } from './helpers';

const ec2 = mockClient(EC2Client);
let t: TestPlane;

async function ziggie(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const code = await runCli(['--config', t.configFile, ...args], {
    io: { stdout, stderr, stdin: Object.assign(Readable.from([]), { isTTY: false }) },
    config: t.plane.ctx.config,
    context: () => t.plane.ctx.ops,
    extend: (program, tools) => addAgentCommands(program, tools, () => t.plane),
  });
  return { code, out: stdout.read()?.toString() ?? '', err: stderr.read()?.toString() ?? '' };
}

beforeEach(() => {
  ec2.reset();
  resetAuditMocks();
  ec2.on(DescribeSpotPriceHistoryCommand).resolves({});
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  t = testPlane();
});

test('agent exec: params validated, JSON result, audited with the agent id', async () => {
  const r = await ziggie('agent', 'exec', '--agent', 'agent-viewer', 'cloud:status');
  expect(r.code).toBe(0);
  const body = JSON.parse(r.out);
  expect(body).toMatchObject({ ok: true, agent: 'agent-viewer', capability: 'cloud:status', result: { instances: expect.any(Array) } });
  expect(body.result.instances[0]).toMatchObject({ provider: 'aws', state: 'not-found' });
  expect(auditRecords()).toContainEqual(expect.objectContaining({ action: 'cloud:status', result: 'ok', detail: expect.objectContaining({ agent: 'agent-viewer', surface: 'cli' }) }));
});

test('agent exec refusals: one line on stderr, a JSON error on stdout, exit 2 for usage and 1 for permission; all audited', async () => {
  const badJson = await ziggie('agent', 'exec', '--agent', 'agent-marcus', 'cloud:deploy', '--params', '{nope');
  expect(badJson.code).toBe(2);
  expect(badJson.err.trim().split('\n')).toEqual(['ziggie: --params is not valid JSON (quote it: --params \'{"key":"value"}\')']);
  const bad = await ziggie('agent', 'exec', '--agent', 'agent-marcus', 'cloud:deploy', '--params', '{"provider":"hostinger","app":"ziggie-api","version":"v 1"}');
  expect(bad.code).toBe(2);
  expect(JSON.parse(bad.out).error).toEqual({ kind: 'bad-params', message: 'cloud:deploy: version: a version / image tag such as v1.2.0' });
  const unknownCap = await ziggie('agent', 'exec', '--agent', 'agent-marcus', 'cloud:nuke');
  expect(unknownCap.code).toBe(2);
  expect(unknownCap.err).toMatch(/^ziggie: unknown capability "cloud:nuke"/);
  const unknownAgent = await ziggie('agent', 'exec', '--agent', 'agent-mallory', 'cloud:status');
  expect(unknownAgent.code).toBe(2);
  const forbidden = await ziggie('agent', 'exec', '--agent', 'agent-viewer', 'cloud:stop-instance', '--params', '{"provider":"aws","id":"gpu"}');
  expect(forbidden.code).toBe(1);
  const refused = auditRecords().filter((r) => r.result === 'refused');
  expect(refused.map((r) => [r.action, r.detail?.agent])).toEqual([
    ['cloud:deploy', 'agent-marcus'], ['cloud:nuke', 'agent-marcus'], ['cloud:status', 'agent-mallory'], ['cloud:stop-instance', 'agent-viewer'],
  ]);
});

test('agent token issue prints the token once (stdout only), rotate replaces it, revoke removes it; never stored in clear', async () => {
  t.plane.tokens!.revoke('agent-chen');
  const issued = await ziggie('agent', 'token', 'issue', '--agent', 'agent-chen');
  expect(issued.code).toBe(0);
  const token = issued.out.trim();
  expect(token).toMatch(/^zgt_/);
  expect(issued.err).toMatch(/shown once/);
  expect(issued.err).not.toContain(token);
  expect(readFileSync(t.plane.tokens!.file, 'utf8')).not.toContain(token);
  const again = await ziggie('agent', 'token', 'issue', '--agent', 'agent-chen');
  expect(again.code).toBe(1);
  expect(again.out).toBe('');
  const rotated = await ziggie('agent', 'token', 'rotate', '--agent', 'agent-chen');
  expect(rotated.out.trim()).not.toBe(token);
  expect(t.plane.tokens!.verify(token)).toBeUndefined();
  expect((await ziggie('agent', 'token', 'revoke', '--agent', 'agent-chen')).out).toMatch(/revoked/);
  expect(t.plane.tokens!.verify(rotated.out.trim())).toBeUndefined();
  expect((await ziggie('agent', 'token', 'issue', '--agent', 'nobody')).code).toBe(2);
  for (const r of auditRecords()) expect(JSON.stringify(r)).not.toContain(token);
  expect(auditRecords().map((r) => r.action)).toEqual(expect.arrayContaining(['agent.token.issue', 'agent.token.rotate', 'agent.token.revoke']));
});
