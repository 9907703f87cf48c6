/** A control plane on the example config with a temp token store, mocked AWS and the Hostinger stand-in. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { parse, stringify } from 'yaml';
import { EXAMPLE_CONFIG, parseConfig } from '../../../config/load';
import type { AuditRecord } from '../../../ops/audit/audit';
import { buildControlPlane, type ControlPlane } from '../../../control/plane';
import type { ControlContextOptions } from '../../../control/context';

export const logs = mockClient(CloudWatchLogsClient);
export const sts = mockClient(STSClient);

export function resetAuditMocks(): void {
  logs.reset();
  sts.reset();
  logs.on(PutLogEventsCommand).resolves({});
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::111122223333:user/ziggie/ziggie-control-plane', Account: '111122223333' });
}

/** Every audit record sent to CloudWatch so far. */
export function auditRecords(): AuditRecord[] {
  return logs.commandCalls(PutLogEventsCommand).flatMap((c) => (c.args[0].input.logEvents ?? []).map((e) => JSON.parse(e.message!) as AuditRecord));
}

export function exampleConfigObject(): Record<string, any> {
  return parse(readFileSync(EXAMPLE_CONFIG, 'utf8'));
}

export interface TestPlane {
  plane: ControlPlane;
  dir: string;
  configFile: string;
  tokens: Record<string, string>;
}

/** `patch` edits the parsed example config; every agent gets a token. */
export function testPlane(opts: { patch?: (c: Record<string, any>) => void; hostingerUrl?: string } & Omit<ControlContextOptions, 'env'> = {}): TestPlane {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-control-'));
  process.env.ZIGGIE_STATE_DIR = dir;
  const raw = exampleConfigObject();
  raw.controlCenter.tokenStore = path.join(dir, 'agent-tokens.json');
  raw.controlCenter.deploy.frontend.artifactsDir = path.join(dir, 'artifacts');
  opts.patch?.(raw);
  const configFile = path.join(dir, 'ziggie.yaml');
  writeFileSync(configFile, stringify(raw));
  const config = parseConfig(readFileSync(configFile, 'utf8'), configFile);
  const plane = buildControlPlane(config, {
    ...opts, configFile,
    env: { HOSTINGER_API_URL: opts.hostingerUrl ?? 'http://127.0.0.1:9', HOSTINGER_API_TOKEN: 'test-hostinger-token' },
  });
  const tokens = Object.fromEntries(Object.keys(config.agents).map((a) => [a, plane.tokens!.issue(a)]));
  return { plane, dir, configFile, tokens };
}
