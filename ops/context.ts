/**
 * Everything an ops command needs, built from the typed config: AWS clients (adaptive retries), the audit log
 * and a Hostinger client (token from the environment or Secrets Manager). Library callers (the provisioning
 * playbook, tests) can pass their own pieces instead.
 */
import type { ZiggieConfig } from '../config/schema';
import { AuditLog } from './audit/audit';
import { awsClients, type AwsClients } from './aws/clients';
import { HostingerClient, type HostingerClientOptions } from './hostinger/client';
import { resolveHostingerToken } from './hostinger/token';

export interface OpsContext {
  config: ZiggieConfig;
  aws: AwsClients;
  audit: AuditLog;
  hostinger(): Promise<HostingerClient>;
}

export function opsContext(config: ZiggieConfig, overrides: Partial<Omit<OpsContext, 'config'>> & {
  hostingerOptions?: Partial<HostingerClientOptions>; env?: NodeJS.ProcessEnv;
} = {}): OpsContext {
  const aws = overrides.aws ?? awsClients(config);
  const audit = overrides.audit ?? new AuditLog({ logs: aws.logs, sts: aws.sts, logGroup: config.audit.logGroup });
  let client: Promise<HostingerClient> | undefined;
  const hostinger = overrides.hostinger ?? (() => {
    client ??= resolveHostingerToken({ secretId: config.secrets.hostingerApiToken, secrets: aws.secrets, env: overrides.env })
      .then(({ token }) => new HostingerClient({ token, baseUrl: (overrides.env ?? process.env).HOSTINGER_API_URL, timeoutMs: config.ops.requestTimeoutMs, ...overrides.hostingerOptions }));
    return client;
  });
  return { config, aws, audit, hostinger };
}
