/**
 * AWS clients for the ops CLI, all with the SDK's own retry strategy: `adaptive` (exponential back-off with
 * jitter plus a client-side rate limiter that slows down when AWS throttles) and `ops.awsMaxAttempts` attempts.
 * No hand-written back-off anywhere in ops/.
 */
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { ZiggieConfig } from '../../config/schema';

export interface AwsClientConfig {
  region: string;
  maxAttempts: number;
  retryMode: 'adaptive';
}

/** The retry settings every ops client uses. Cost Explorer and Budgets are global services served from us-east-1. */
export function awsClientConfig(config: Pick<ZiggieConfig, 'region' | 'ops'>, region = config.region): AwsClientConfig {
  return { region, maxAttempts: config.ops.awsMaxAttempts, retryMode: 'adaptive' };
}

export interface AwsClients {
  ec2: EC2Client;
  sts: STSClient;
  secrets: SecretsManagerClient;
  logs: CloudWatchLogsClient;
  cloudwatch: CloudWatchClient;
  costExplorer: CostExplorerClient;
  budgets: BudgetsClient;
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
    get ec2() { return lazy('ec2', () => new EC2Client(regional)); },
    get sts() { return lazy('sts', () => new STSClient(regional)); },
    get secrets() { return lazy('secrets', () => new SecretsManagerClient(regional)); },
    get logs() { return lazy('logs', () => new CloudWatchLogsClient(regional)); },
    get cloudwatch() { return lazy('cloudwatch', () => new CloudWatchClient(regional)); },
    get costExplorer() { return lazy('ce', () => new CostExplorerClient(global)); },
    get budgets() { return lazy('budgets', () => new BudgetsClient(global)); },
  };
}
