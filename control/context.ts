/**
 * Everything a capability handler gets: the config, the ops context (AWS clients, audit log, Hostinger), the
 * extra clients only the control plane uses (S3, CloudFront, Bedrock), one GPU controller per instance (so its
 * single-flight start/stop is shared by every surface), the status cache and the VPS deploy connection.
 * Every AWS client has a connection and a request timeout: with no account, a call fails per request, clearly.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { S3Client } from '@aws-sdk/client-s3';
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { ZiggieConfig, ControlCenterConfig } from '../config/schema';
import { awsClientConfig, type AwsClients } from '../ops/aws/clients';
import { opsContext, type OpsContext } from '../ops/context';
import type { GpuControl } from '../gpu-control/control';
import { gpuControlFor } from '../ops/gpu/service';
import type { VpsDeployTarget } from '../ops/deploy/hostinger';
import path from 'node:path';
import { loadInventory } from '../provision/inventory';
import { TtlCache, SingleFlight } from './cache';
import { ControlError } from './errors';

export interface ControlClients {
  s3: Pick<S3Client, 'send'>;
  cloudfront: Pick<CloudFrontClient, 'send'>;
  bedrock: Pick<BedrockRuntimeClient, 'send'>;
}

export interface ControlContext {
  config: ZiggieConfig;
  settings: ControlCenterConfig;
  ops: OpsContext;
  clients: ControlClients;
  gpu(instanceId?: string): Promise<GpuControl>;
  cache: TtlCache;
  flights: SingleFlight;
  /** How deploys reach the VPS (inventory + host), read when first needed; throws a one-line reason when it cannot. */
  vps(): VpsDeployTarget;
}

/** The control center's settings with every default, for a config that has no `controlCenter` section. */
export function controlSettings(config: ZiggieConfig): ControlCenterConfig {
  return config.controlCenter ?? {
    host: '127.0.0.1', port: 7420, bodyLimitBytes: 64 * 1024, corsOrigins: [], statusCacheSeconds: 5, requestTimeoutSeconds: 15,
    bedrock: { maxTokens: 1024, maxInputChars: 16_000 },
    deploy: { healthTimeoutSeconds: 120, frontend: { prefix: 'frontend/', artifactsDir: 'artifacts' } },
  };
}

/** AWS clients with the ops retry policy plus timeouts on connecting and on each request. */
export function timedAwsClients(config: ZiggieConfig, timeoutMs: number): AwsClients & ControlClients {
  const cache = new Map<string, unknown>();
  const lazy = <T>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  // throwOnRequestTimeout from awsClientConfig: without it smithy only warns when requestTimeout passes
  const requestHandler = { ...awsClientConfig(config).requestHandler, connectionTimeout: Math.min(timeoutMs, 5000), requestTimeout: timeoutMs, socketTimeout: timeoutMs };
  const regional = { ...awsClientConfig(config), requestHandler };
  const global = { ...awsClientConfig(config, 'us-east-1'), requestHandler };
  return {
    get ec2() { return lazy('ec2', () => new EC2Client(regional)); },
    get sts() { return lazy('sts', () => new STSClient(regional)); },
    get secrets() { return lazy('secrets', () => new SecretsManagerClient(regional)); },
    get logs() { return lazy('logs', () => new CloudWatchLogsClient(regional)); },
    get cloudwatch() { return lazy('cloudwatch', () => new CloudWatchClient(regional)); },
    get costExplorer() { return lazy('ce', () => new CostExplorerClient(global)); },
    get budgets() { return lazy('budgets', () => new BudgetsClient(global)); },
    get s3() { return lazy('s3', () => new S3Client(regional)); },
    // CloudFront is global; its API lives in us-east-1.
    get cloudfront() { return lazy('cloudfront', () => new CloudFrontClient(global)); },
    get bedrock() { return lazy('bedrock', () => new BedrockRuntimeClient(regional)); },
  };
}

export interface ControlContextOptions {
  ops?: OpsContext;
  clients?: Partial<ControlClients>;
  vps?: VpsDeployTarget;
  env?: NodeJS.ProcessEnv;
}

export function controlContext(config: ZiggieConfig, opts: ControlContextOptions = {}): ControlContext {
  const settings = controlSettings(config);
  const timeoutMs = settings.requestTimeoutSeconds * 1000;
  const aws = timedAwsClients(config, timeoutMs);
  const ops = opsContext(config, { aws, env: opts.env, hostingerOptions: { timeoutMs }, ...(opts.ops ?? {}) });
  const clients: ControlClients = {
    get s3() { return opts.clients?.s3 ?? aws.s3; },
    get cloudfront() { return opts.clients?.cloudfront ?? aws.cloudfront; },
    get bedrock() { return opts.clients?.bedrock ?? aws.bedrock; },
  };
  const controllers = new Map<string, Promise<GpuControl>>();
  return {
    config, settings, ops: opts.ops ?? ops, clients,
    vps() {
      if (opts.vps) return opts.vps;
      const file = settings.deploy.inventory;
      if (!file) throw new ControlError('failed', 'hostinger deploys need controlCenter.deploy.inventory (the VPS inventory) in the config');
      try {
        return { inventory: loadInventory(path.resolve(file)) };
      } catch (err) {
        throw new ControlError('failed', `controlCenter.deploy.inventory: ${(err as Error).message.split('\n')[0]}`);
      }
    },
    gpu(instanceId?: string) {
      const key = instanceId ?? '';
      let c = controllers.get(key);
      if (!c) {
        const o = opts.ops ?? ops;
        c = gpuControlFor(config, { ec2: o.aws.ec2, cloudwatch: o.aws.cloudwatch, instanceId });
        c.catch(() => controllers.delete(key));
        controllers.set(key, c);
      }
      return c;
    },
    cache: new TtlCache(settings.statusCacheSeconds * 1000),
    flights: new SingleFlight(),
  };
}
