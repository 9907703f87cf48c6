/**
 * AWS clients for the ops CLI, all with the SDK's own retry strategy: `adaptive` (exponential back-off with
 * jitter plus a client-side rate limiter that slows down when AWS throttles) and `ops.awsMaxAttempts` attempts.
 * No hand-written back-off anywhere in ops/. Every attempt has a connect and a request timeout (ops.connectTimeoutMs,
 * ops.requestTimeoutMs); a call that gets no answer fails with a line naming the endpoint.
 */
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { ZiggieConfig } from '../../config/schema';
import { awsTimeouts, nameEndpointOnFailure, type AwsTimeouts, type SdkClient } from '../../shared/aws-timeouts';

export interface AwsClientConfig {
  region: string;
  maxAttempts: number;
  retryMode: 'adaptive';
  /** connect and per-attempt request timeouts (ops/aws/timeouts.ts) */
  requestHandler: AwsTimeouts;
}

/** The retry and timeout settings every client uses. Cost Explorer and Budgets are global services served from us-east-1. */
export function awsClientConfig(config: Pick<ZiggieConfig, 'region' | 'ops'>, region = config.region): AwsClientConfig {
  return { region, maxAttempts: config.ops.awsMaxAttempts, retryMode: 'adaptive', requestHandler: awsTimeouts(config.ops) };
}

/** A client built with awsClientConfig whose timeouts and connection errors name the endpoint. */
export function awsClient<C extends SdkClient>(make: (cfg: AwsClientConfig) => C, cfg: AwsClientConfig): C {
  return nameEndpointOnFailure(make(cfg), cfg.requestHandler);
}

export interface AwsClients {
  ec2: EC2Client;
  sts: STSClient;
  secrets: SecretsManagerClient;
  logs: CloudWatchLogsClient;
  cloudwatch: CloudWatchClient;
  costExplorer: CostExplorerClient;
  budgets: BudgetsClient;
  /** The ComfyUI job queue and its results (gpu submit); optional so a caller's own client set may omit them. */
  sqs?: SQSClient;
  s3?: S3Client;
}

/** Lazily built clients: a command that never touches Cost Explorer never builds its client. */
export function awsClients(config: Pick<ZiggieConfig, 'region' | 'ops'>): AwsClients {
  const cache = new Map<string, unknown>();
  const lazy = <T>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  const regional = awsClientConfig(config);
  const global = awsClientConfig(config, 'us-east-1');
  return {
    get ec2() { return lazy('ec2', () => awsClient((c) => new EC2Client(c), regional)); },
    get sts() { return lazy('sts', () => awsClient((c) => new STSClient(c), regional)); },
    get secrets() { return lazy('secrets', () => awsClient((c) => new SecretsManagerClient(c), regional)); },
    get logs() { return lazy('logs', () => awsClient((c) => new CloudWatchLogsClient(c), regional)); },
    get cloudwatch() { return lazy('cloudwatch', () => awsClient((c) => new CloudWatchClient(c), regional)); },
    get costExplorer() { return lazy('ce', () => awsClient((c) => new CostExplorerClient(c), global)); },
    get budgets() { return lazy('budgets', () => awsClient((c) => new BudgetsClient(c), global)); },
    get sqs() { return lazy('sqs', () => awsClient((c) => new SQSClient(c), regional)); },
    get s3() { return lazy('s3', () => awsClient((c) => new S3Client(c), regional)); },
  };
}
