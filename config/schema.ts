import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** The AWS commercial regions; an AZ name is its region plus one letter. */
export const AWS_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'ca-west-1', 'sa-east-1', 'mx-central-1',
  'eu-north-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-central-2', 'eu-south-1', 'eu-south-2',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3',
  'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7', 'ap-south-1', 'ap-south-2', 'ap-east-1', 'me-south-1',
  'me-central-1', 'il-central-1', 'af-south-1',
] as const;

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const INSTANCE_TYPE = /^[a-z]+[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[0-9]+xlarge|metal(-[0-9]+xl)?)$/;
/**
 * The GPU instance types the config accepts: the ones cost/prices.eu-north-1.json prices (a unit test holds the
 * two equal), so the estimate never meets a GPU it cannot price. Adding a type means adding its price first.
 */
export const GPU_INSTANCE_TYPES = ['g4dn.xlarge', 'g4dn.2xlarge', 'g4dn.4xlarge', 'g4dn.8xlarge', 'g4dn.12xlarge', 'g4dn.16xlarge'] as const;
// S3 bucket naming rules: 3-63 chars, lowercase letters, digits, dots, hyphens; start and end alphanumeric.
const BUCKET_NAME = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const ENV_VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT_MAPPING = /^((\d{1,3}\.){3}\d{1,3}:)?\d{1,5}:\d{1,5}(\/(tcp|udp))?$/;
const IMAGE = /^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)*$/;
const SHA256 = /^[a-f0-9]{64}$/;
const BEDROCK_ARN = /^arn:aws:bedrock:[a-z0-9-]+:(\d{12})?:(foundation-model|inference-profile|provisioned-model)\/\S+$/;

const positiveInt = z.number().int().positive();
const money = z.number().positive().finite();
const email = z.email({ error: 'not a valid e-mail address' });
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });

const cidr = z.cidrv4({ error: 'not an IPv4 CIDR such as 10.0.0.0/16' }).refine(
  (value) => !ipaddr.IPv4.isValidCIDR(value) || ipaddr.IPv4.networkAddressFromCIDR(value).toString() === value.split('/')[0],
  { error: 'host bits are set: use the network address (e.g. 10.0.1.0/24, not 10.0.1.5/24)' },
);

/** A public IPv4 address. The documentation ranges (TEST-NET) are accepted as placeholders for examples. */
const publicIpv4 = z.ipv4({ error: 'not an IPv4 address' }).refine(
  (value) => !ipaddr.IPv4.isValidFourPartDecimal(value) || !['private', 'loopback', 'unspecified', 'multicast', 'linkLocal', 'broadcast', 'carrierGradeNat']
    .includes(ipaddr.IPv4.parse(value).range()),
  { error: 'must be a public IPv4 address (private, loopback and link-local ranges are not reachable from AWS)' },
);

const logRetention = z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
  error: `CloudWatch Logs accepts only ${LOG_RETENTION_DAYS.join(', ')} days`,
});

const instanceType = z.string().regex(INSTANCE_TYPE, { error: 'not an EC2 instance type such as g4dn.xlarge' });

const tags = z.record(
  z.string().regex(/^[\w .:/=+@-]{1,128}$/, { error: 'tag keys are 1-128 letters, digits, spaces or _.:/=+-@' }),
  z.string().max(256),
).refine((t) => t.Project !== undefined, { error: 'must contain a Project tag (IAM conditions use it)' });

const container = z.strictObject({
  name: z.string().regex(DNS_LABEL, { error: 'service names are lowercase letters, digits and hyphens' }),
  image: z.string().regex(IMAGE, { error: 'not a container image reference' }),
  command: z.array(z.string()).optional(),
  ports: z.array(z.string().regex(PORT_MAPPING, { error: 'ports look like "127.0.0.1:5678:5678" or "80:80"' }))
    .default([]),
  volumes: z.array(z.string().regex(/^[^:\s]+:\/[^:\s]*(:(ro|rw))?$/, { error: 'volumes look like "name:/path"' }))
    .default([]),
  env: z.record(z.string().regex(ENV_VAR, { error: 'not an environment variable name' }), z.string()).default({}),
  secrets: z.record(z.string().regex(ENV_VAR, { error: 'not an environment variable name' }), z.string())
    .default({}),
  backupPaths: z.array(z.string().startsWith('/')).default([]),
  /** Run an init process (docker-init) as PID 1: reaps zombies and forwards signals (compose `init: true`). */
  init: z.boolean().optional(),
  /** Compose healthcheck: what a deploy waits for before it keeps a new version (otherwise: running and not restarting). */
  healthcheck: z.strictObject({
    test: z.array(z.string()).min(2).refine((t) => t[0] === 'CMD' || t[0] === 'CMD-SHELL', { error: 'starts with CMD or CMD-SHELL' }),
    intervalSeconds: z.number().int().min(1).max(300).default(5),
    retries: z.number().int().min(1).max(20).default(3),
    startPeriodSeconds: z.number().int().min(0).max(600).default(0),
  }).optional(),
  /**
   * How the service reads its secrets. Always as files, /run/secrets/<ENV> (bind-mounted from tmpfs; never
   * environment, which Docker writes to disk). `file` (default) also sets <ENV>_FILE to that path, for images that
   * read *_FILE (postgres, n8n, ...); `env` runs `command` through a wrapper that exports each file as <ENV> in
   * the process only (the image's entrypoint is replaced, so `command` must be the whole argv).
   */
  secretsAs: z.enum(['file', 'env']).default('file'),
  /**
   * Publish `ports` on every interface, on purpose. Default: a mapping without an address binds 127.0.0.1, and an
   * address other than loopback is refused: Docker's published ports bypass ufw.
   */
  publicPorts: z.boolean().default(false),
});

const scenario = z.strictObject({
  name: z.string().regex(DNS_LABEL),
  gpuHoursPerDay: z.number().min(0).max(24),
  gpuPurchase: z.enum(['spot', 'on-demand']).default('spot'),
  s3StorageGb: z.number().min(0),
  cloudfrontGbOut: z.number().min(0),
  lambdaInvocationsPerMonth: z.number().int().min(0),
  logsGbPerMonth: z.number().min(0),
});

/** Grants: capability name → allowed values per parameter (an empty map allows any value the schema accepts). */
const CAPABILITY_NAME = /^[a-z0-9-]+(:[a-z0-9-]+)?$/;
const agentGrant = z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, { error: 'parameter names are letters and digits' }),
  z.array(z.union([z.string(), z.number()])).min(1, { error: 'list at least one allowed value' }));

const agent = z.strictObject({
  description: z.string().max(200).default(''),
  capabilities: z.record(z.string().regex(CAPABILITY_NAME, { error: 'capability names look like cloud:status' }), agentGrant.nullable()
    .transform((g) => g ?? {})),
  /** Requests per minute over HTTP and MCP (per agent). */
  rateLimitPerMinute: z.number().int().min(1).max(100_000).default(120),
});

/** The control center (HTTP API + MCP): where it listens, where agent token hashes live, its limits. */
const controlCenter = z.strictObject({
  host: z.ipv4({ error: 'an IPv4 address such as 127.0.0.1' }).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(7420),
  /** JSON file of token hashes (mode 0600). `~/` is the operator's home directory. */
  tokenStore: z.string().min(1).regex(/^(~\/|\/|\.{0,2}\/?)[^\0]*$/, { error: 'a file path' }).optional(),
  bodyLimitBytes: z.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  /** Browser origins allowed to call the API (CORS). Empty: CORS off. */
  corsOrigins: z.array(httpsUrl).default([]),
  /** How long status reads (instances, costs, health) are served from memory. */
  statusCacheSeconds: z.number().min(0).max(300).default(5),
  /** Per AWS / Hostinger request made by a capability. */
  requestTimeoutSeconds: z.number().int().min(1).max(300).default(15),
  bedrock: z.strictObject({
    maxTokens: z.number().int().min(1).max(8192).default(1024),
    maxInputChars: z.number().int().min(1).max(200_000).default(16_000),
  }).default({ maxTokens: 1024, maxInputChars: 16_000 }),
  deploy: z.strictObject({
    /** How long a rolled-out VPS service may take to report healthy before it is rolled back. */
    healthTimeoutSeconds: z.number().int().min(5).max(1800).default(120),
    frontend: z.strictObject({
      /** Key prefix in storage.assetsBucket the frontend is published under. */
      prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, { error: 'a key prefix ending in / such as frontend/' }).default('frontend/'),
      cloudfrontDistributionId: z.string().regex(/^E[A-Z0-9]{8,20}$/, { error: 'a CloudFront distribution id such as E2ABCDEFGHIJKL' }).optional(),
      /** Built frontends are read from <artifactsDir>/<app>/<version>/ on the control plane's machine (never a path from a request). */
      artifactsDir: z.string().min(1).default('artifacts'),
    }).default({ prefix: 'frontend/', artifactsDir: 'artifacts' }),
    /** The provisioning inventory of the VPS (hostinger deploys run through it). */
    inventory: z.string().min(1).optional(),
  }).default({ healthTimeoutSeconds: 120, frontend: { prefix: 'frontend/', artifactsDir: 'artifacts' } }),
  /** `npm run provision:vps` runs the control center on the VPS (docs/vps.md): its node runtime image and the token store's secret. */
  vps: z.strictObject({
    /** A pinned Node.js image: the control center is one bundled .mjs file run by it. */
    image: z.string().regex(/^[a-z0-9][\w./-]*(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/, { error: 'an image reference such as node:20.19.5-bookworm-slim' }).default('node:20.19.5-bookworm-slim'),
    /** The Secrets Manager name holding the token store (hashes only); one of secrets.names. */
    tokenStoreSecret: z.string().min(1),
  }).optional(),
});

/** ComfyUI at a pinned ref, its custom nodes and models: the config section the AMI playbook installs from. */
export const comfyuiSchema = z.strictObject({
  repoUrl: z.string().min(1),
  ref: z.string().min(1),
  torchIndexUrl: z.string().min(1),
  customNodes: z.array(z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_.-]+$/), repoUrl: z.string().min(1),
    ref: z.string().min(1) })).default([]),
  models: z.array(z.strictObject({ url: z.string().min(1), sha256: z.string().regex(SHA256),
    dest: z.string().regex(/^[A-Za-z0-9_./-]+$/).refine((p) => !p.startsWith('/') && !p.includes('..'),
      { error: 'a path relative to ComfyUI/models, without ..' }) })).default([]),
});

const sectionsSchema = z.strictObject({
  project: z.string().regex(DNS_LABEL),
  environment: z.string().regex(DNS_LABEL),
  region: z.enum(AWS_REGIONS, { error: 'not an AWS region such as eu-north-1' }),
  // Known up front so ARNs need no aws_caller_identity lookup (which an offline plan cannot make).
  accountId: z.string().regex(/^\d{12}$/, { error: 'an AWS account id is 12 digits' }),
  tags,
  state: z.strictObject({
    bucket: z.string().regex(BUCKET_NAME, { error: 'not a valid S3 bucket name' }),
    keyPrefix: z.string().regex(/^[a-z0-9][a-z0-9/_-]*$/),
  }),
  network: z.strictObject({
    vpcCidr: cidr,
    availabilityZones: z.array(z.string()).min(2, { error: 'give at least two availability zones' }),
    publicSubnetCidrs: z.array(cidr),
    flowLogRetentionDays: logRetention,
  }),
  vps: z.strictObject({
    provider: z.literal('hostinger'),
    publicIp: publicIpv4,
    hostingerVmId: positiveInt,
    monthlyCostUsd: money,
    sshAllowlist: z.array(cidr).min(1, { error: 'give at least one CIDR allowed to SSH to the VPS' }),
  }),
  gpu: z.strictObject({
    instanceType: instanceType.refine((t) => !INSTANCE_TYPE.test(t) || (GPU_INSTANCE_TYPES as readonly string[]).includes(t),
      { error: `must be a GPU instance type with a price in cost/prices.eu-north-1.json (${GPU_INSTANCE_TYPES.join(', ')})` }),
    spot: z.strictObject({ maxPriceUsdPerHour: money.max(50) }),
    idleMinutes: z.number().int().min(5).max(240),
    maxRuntimeHours: z.number().int().min(1).max(72),
    rootVolumeGb: z.number().int().min(30).max(2000),
    comfyuiPort: z.number().int().min(1024).max(65535),
    amiSsmParameter: z.string().regex(/^\/[A-Za-z0-9_./-]+$/, { error: 'SSM parameter names start with /' }),
    amiId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, { error: 'not an AMI id such as ami-0123456789abcdef0' })
      .optional(),
    interruptionWebhookUrl: httpsUrl.optional(),
    /** The ComfyUI job queue: a job failing this many receives goes to the dead-letter queue. */
    queue: z.strictObject({
      maxReceiveCount: z.number().int().min(1).max(1000),
      visibilityTimeoutSeconds: z.number().int().min(30).max(43_200),
      retentionDays: z.number().int().min(1).max(14),
    }).default({ maxReceiveCount: 5, visibilityTimeoutSeconds: 120, retentionDays: 4 }),
    /** When Spot has no capacity for the GPU: other zones, then these types, then on-demand only if allowed. */
    fallback: z.strictObject({
      otherZones: z.boolean(),
      instanceTypes: z.array(instanceType.refine((t) => !INSTANCE_TYPE.test(t) || (GPU_INSTANCE_TYPES as readonly string[]).includes(t),
        { error: `must be a GPU instance type with a price in cost/prices.eu-north-1.json (${GPU_INSTANCE_TYPES.join(', ')})` })).default([]),
      allowOnDemand: z.boolean(),
    }).default({ otherZones: true, instanceTypes: [], allowOnDemand: false }),
  }),
  comfyui: comfyuiSchema,
  amiBuild: z.strictObject({
    baseAmiSsmParameter: z.string().startsWith('/'),
    builderInstanceType: instanceType,
    useSpot: z.boolean(),
    sshUser: z.string().regex(/^[a-z_][a-z0-9_-]*$/),
    // The CloudWatch agent .deb the bake installs (GPU metrics, the watchdog's EMF listener, log shipping).
    cloudwatchAgentUrl: httpsUrl.default('https://amazoncloudwatch-agent.s3.amazonaws.com/ubuntu/amd64/latest/amazon-cloudwatch-agent.deb'),
  }),
  storage: z.strictObject({
    assetsBucket: z.string().regex(BUCKET_NAME, { error: 'not a valid S3 bucket name' }),
    backupsBucket: z.string().regex(BUCKET_NAME, { error: 'not a valid S3 bucket name' }),
    corsOrigins: z.array(httpsUrl).default([]),
    assetsNoncurrentExpiryDays: positiveInt,
    backupsGlacierAfterDays: positiveInt,
    backupsExpireAfterDays: positiveInt,
    auditLogExpireAfterDays: positiveInt,
  }),
  secrets: z.strictObject({
    prefix: z.string().regex(/^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*\/$/, { error: 'a prefix ending in / such as ziggie/prod/' }),
    recoveryWindowDays: z.number().int().min(7).max(30),
    names: z.array(z.string().regex(SECRET_NAME, { error: 'not a valid Secrets Manager name' })).min(1),
    hostingerApiToken: z.string().regex(SECRET_NAME),
  }),
  budgets: z.strictObject({
    monthlyLimitUsd: money,
    thresholdsUsd: z.array(money).min(1),
    alertEmails: z.array(email).min(1, { error: 'give at least one e-mail for budget alerts' }),
  }),
  audit: z.strictObject({
    trailName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/),
    logGroup: z.string().regex(/^\/[A-Za-z0-9_./#-]+$/, { error: 'log group names such as /ziggie/infrastructure-audit' }),
    retentionDays: logRetention,
  }),
  bedrock: z.strictObject({
    modelArns: z.array(z.string().regex(BEDROCK_ARN, { error: 'not a Bedrock model ARN' })).default([]),
  }),
  notifications: z.strictObject({
    emails: z.array(email).min(1),
    /** Optional n8n webhook the monthly cost report and the weekly digest are also POSTed to (JSON). */
    costReportWebhookUrl: httpsUrl.optional(),
  }),
  ops: z.strictObject({
    awsMaxAttempts: z.number().int().min(1).max(10),
    /** Per attempt, for every AWS and Hostinger call: no call waits silently. */
    connectTimeoutMs: z.number().int().min(100).max(60_000).default(3000),
    requestTimeoutMs: z.number().int().min(100).max(300_000).default(5000),
  }),
  // The repository whose pull_request workflow may assume the read-only plan role (iam stack); none without it.
  github: z.strictObject({
    repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: 'owner/name, e.g. ziggie/ziggie-infra' }),
  }).optional(),
  containers: z.array(container),
  controlCenter: controlCenter.optional(),
  agents: z.record(z.string().regex(DNS_LABEL, { error: 'agent names are lowercase letters, digits and hyphens' }), agent).default({}),
  scenarios: z.strictObject({ default: z.string(), list: z.array(scenario).min(1) }),
});

export const configSchema = sectionsSchema.superRefine((c, ctx) => {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  // Runs even when fields already failed, so every problem is reported at once. A check whose own inputs are
  // malformed throws and is skipped: those inputs already have their own error lines.
  for (const check of crossFieldChecks) {
    try {
      check(c, issue);
    } catch {
      /* inputs already reported */
    }
  }
}, { when: () => true });

type Issue = (path: PropertyKey[], message: string) => void;
type CrossFieldCheck = (c: z.output<typeof sectionsSchema>, issue: Issue) => void;

const crossFieldChecks: CrossFieldCheck[] = [
  function zonesBelongToRegion(c, issue) {
    if (!(AWS_REGIONS as readonly string[]).includes(c.region)) return;
    c.network.availabilityZones.forEach((az, i) => {
      if (!new RegExp(`^${c.region}[a-z]$`).test(az)) {
        issue(['network', 'availabilityZones', i], `not an availability zone of ${c.region} (e.g. ${c.region}a)`);
      }
    });
    if (new Set(c.network.availabilityZones).size !== c.network.availabilityZones.length) {
      issue(['network', 'availabilityZones'], 'availability zones repeat');
    }
  },
  function subnetsFitTheVpc(c, issue) {
    if (c.network.publicSubnetCidrs.length !== c.network.availabilityZones.length) {
      issue(['network', 'publicSubnetCidrs'], `give one subnet per availability zone (${c.network.availabilityZones.length})`);
    }
    const vpc = ipaddr.IPv4.parseCIDR(c.network.vpcCidr);
    const subnets = c.network.publicSubnetCidrs.map((s) => ipaddr.IPv4.parseCIDR(s));
    subnets.forEach(([addr, bits], i) => {
      if (bits < vpc[1] || !addr.match(vpc)) issue(['network', 'publicSubnetCidrs', i], `not inside the VPC ${c.network.vpcCidr}`);
      subnets.slice(0, i).forEach(([other, otherBits], j) => {
        if (addr.match(other, otherBits) || other.match(addr, bits)) {
          issue(['network', 'publicSubnetCidrs', i], `overlaps publicSubnetCidrs[${j}]`);
        }
      });
    });
  },
  function thresholdsIncrease(c, issue) {
    c.budgets.thresholdsUsd.forEach((t, i) => {
      if (i > 0 && t <= c.budgets.thresholdsUsd[i - 1]) issue(['budgets', 'thresholdsUsd', i], 'thresholds must increase');
      if (t > c.budgets.monthlyLimitUsd) issue(['budgets', 'thresholdsUsd', i], `above monthlyLimitUsd (${c.budgets.monthlyLimitUsd})`);
    });
  },
  function secretsShareAPrefix(c, issue) {
    c.secrets.names.forEach((name, i) => {
      if (!name.startsWith(c.secrets.prefix)) issue(['secrets', 'names', i], `must sit under the common prefix ${c.secrets.prefix}`);
    });
    if (new Set(c.secrets.names).size !== c.secrets.names.length) issue(['secrets', 'names'], 'secret names repeat');
    const projectRoot = c.secrets.prefix.split('/')[0] + '/';
    if (!c.secrets.hostingerApiToken.startsWith(projectRoot)) {
      issue(['secrets', 'hostingerApiToken'], `must sit under ${projectRoot} (IAM grants read on ${projectRoot}*)`);
    }
  },
  function bucketsAndLifecycle(c, issue) {
    if (c.storage.assetsBucket === c.storage.backupsBucket) issue(['storage', 'backupsBucket'], 'must differ from assetsBucket');
    if (c.storage.backupsExpireAfterDays <= c.storage.backupsGlacierAfterDays) {
      issue(['storage', 'backupsExpireAfterDays'], 'must be later than backupsGlacierAfterDays');
    }
  },
  function controlCenterOnTheVps(c, issue) {
    const vps = c.controlCenter?.vps;
    if (!vps) return;
    if (!c.secrets.names.includes(vps.tokenStoreSecret)) issue(['controlCenter', 'vps', 'tokenStoreSecret'], `"${vps.tokenStoreSecret}" is not in secrets.names`);
    if (c.containers.some((svc) => svc.name === 'control-center')) issue(['controlCenter', 'vps'], 'a container named control-center already exists (the control center\'s own service name on the VPS)');
  },
  function containersUseKnownSecrets(c, issue) {
    const known = new Set([...c.secrets.names, c.secrets.hostingerApiToken]);
    const seen = new Set<string>();
    c.containers.forEach((svc, i) => {
      if (seen.has(svc.name)) issue(['containers', i, 'name'], `service "${svc.name}" is defined twice`);
      seen.add(svc.name);
      for (const [envName, secret] of Object.entries(svc.secrets)) {
        if (!known.has(secret)) issue(['containers', i, 'secrets', envName], `"${secret}" is not in secrets.names`);
        if (envName in svc.env) issue(['containers', i, 'secrets', envName], 'also set in env: a secret must not have a plain value');
        if (svc.secretsAs === 'file' && `${envName}_FILE` in svc.env) issue(['containers', i, 'env', `${envName}_FILE`], `set by secretsAs: file (the path of ${envName})`);
      }
      if (svc.secretsAs === 'env' && Object.keys(svc.secrets).length && !svc.command?.length) {
        issue(['containers', i, 'command'], 'required with secretsAs: env (the wrapper replaces the image\'s entrypoint, so give the whole argv)');
      }
      svc.ports.forEach((p, j) => {
        const host = /^(\d{1,3}(?:\.\d{1,3}){3}):/.exec(p)?.[1];
        if (host && !host.startsWith('127.') && !svc.publicPorts) {
          issue(['containers', i, 'ports', j], `binds ${host}, which bypasses ufw: use 127.0.0.1:${p.slice(host.length + 1)} or set publicPorts: true on purpose`);
        }
      });
    });
  },
  function defaultScenarioExists(c, issue) {
    const names = c.scenarios.list.map((s) => s.name);
    if (!names.includes(c.scenarios.default)) issue(['scenarios', 'default'], `no scenario named "${c.scenarios.default}" in scenarios.list`);
    if (new Set(names).size !== names.length) issue(['scenarios', 'list'], 'scenario names repeat');
  },
];

export type ZiggieConfig = z.infer<typeof configSchema>;
export type ContainerConfig = ZiggieConfig['containers'][number];
export type AgentConfig = ZiggieConfig['agents'][string];
export type ControlCenterConfig = NonNullable<ZiggieConfig['controlCenter']>;
export type UsageScenario = ZiggieConfig['scenarios']['list'][number];
