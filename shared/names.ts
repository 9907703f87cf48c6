import type { ZiggieConfig } from '../config/schema';
import { GPU_NAME } from './gpu-signals';

/**
 * Names and ARNs derived from the config, shared by the stacks so that no stack needs a cross-stack reference or an
 * AWS lookup to name another stack's resource (an offline plan cannot make lookups). Pure: no cdktf imports.
 */
export function ziggieNames(config: ZiggieConfig) {
  const base = `${config.project}-${config.environment}`;
  const arn = (service: string, resource: string, region: string = config.region) =>
    `arn:aws:${service}:${region}:${config.accountId}:${resource}`;
  const auditBucket = bucketName(`${config.audit.trailName}-${config.accountId}`, 'audit.trailName');
  return {
    base,
    arn,
    /** The project's root in Secrets Manager (`ziggie/`): the agent may read anything under it. */
    secretsRoot: `${config.secrets.prefix.split('/')[0]}/`,
    /** CloudTrail's own bucket: the trail name plus the account id keeps the global bucket name unique. */
    auditBucket,
    trailArn: arn('cloudtrail', `trail/${config.audit.trailName}`),
    auditLogGroupArn: arn('logs', `log-group:${config.audit.logGroup}`),
    flowLogGroup: `/${config.project}/${config.environment}/vpc-flow-logs`,
    flowLogRole: `${base}-vpc-flow-logs`,
    comfyuiSecurityGroup: `${base}-comfyui`,
    amiBuilderSecurityGroup: `${base}-ami-builder`,
    /** The policy for the operator / ops CLI (issue #3 calls it `ziggie-agent`). */
    agentPolicy: `${config.project}-agent`,
    vpsUser: `${config.project}-vps`,
    vpsPolicy: `${config.project}-vps`,
    bedrockUser: `${config.project}-bedrock`,
    /** The agent control plane on the VPS (exactly what its capabilities declare, control/iam.ts). */
    controlPlaneUser: `${config.project}-control-plane`,
    /** The ComfyUI job queue (n8n, the control plane and `ziggie gpu submit` send; the GPU's worker receives). */
    comfyuiJobsQueue: `${config.project}-comfyui-jobs`,
    comfyuiJobsDeadLetterQueue: `${config.project}-comfyui-jobs-dlq`,
    /** Its URL, known before it exists (the AMI bakes it into the worker's config). */
    comfyuiJobsQueueUrl: `https://sqs.${config.region}.amazonaws.com/${config.accountId}/${config.project}-comfyui-jobs`,
    bedrockPolicy: `${config.project}-bedrock-invoke`,
    /** Grafana on the VPS: read-only CloudWatch metrics, from the VPS only. */
    grafanaUser: `${config.project}-grafana`,
    /** `npm run bake-ami`: assumed by the operator, acts only on what the bake tags. */
    bakeAmiRole: `${config.project}-bake-ami`,
    /** The PR review workflow's read-only `terraform plan` role (GitHub OIDC). */
    prPlanRole: `${config.project}-pr-plan`,
    iamPath: `/${config.project}/`,
    budget: `${base}-monthly`,
    assetsOac: `${base}-assets`,
    assetsHeadersPolicy: `${base}-assets-headers`,
  };
}

export type ZiggieNames = ReturnType<typeof ziggieNames>;

/** The tag bake-ami puts on everything it creates (`builder`, `image-unpublished`, `image`); its IAM role keys on it. */
export const BAKE_AMI_TAG = 'ziggie:bake-ami';

/**
 * The GPU stack's names. Fixed rather than derived from `project`: the AMI bakes the log group into its agent and
 * watchdog config, the n8n workflow (docs/n8n/) calls the function by name, and a rename would replace live resources.
 */
export const GPU_NAMES = {
  /** Launch template, instance and its volumes (`Name` tag). */
  instance: GPU_NAME,
  /** The instance's role and instance profile. */
  instanceRole: `${GPU_NAME}-instance`,
  comfyuiLogGroup: '/ziggie/comfyui',
  alertsTopic: 'ziggie-gpu-alerts',
  controlFunction: 'ziggie-gpu-control',
  controlInvokePolicy: 'ziggie-gpu-control-invoke',
  idleAlarm: (signal: string) => `ziggie-gpu-idle-${signal}`,
  idleComposite: 'ziggie-gpu-idle',
  idleStopRule: 'ziggie-gpu-idle-stop',
  /** The max-runtime schedule and the role it invokes the function with. */
  runtimeCap: 'ziggie-gpu-runtime-cap',
  budgetStopRole: 'ziggie-budget-stop-gpu',
  spotRule: (event: string) => `ziggie-gpu-spot-${event}`,
  /** The cost report Lambda, its role and the scheduler role that runs it (monthly report + weekly digest). */
  costReportFunction: 'ziggie-cost-report',
  costReportSchedule: (kind: 'monthly' | 'weekly') => `ziggie-cost-report-${kind}`,
  costReportScheduler: 'ziggie-cost-report-scheduler',
  /** The CloudWatch dashboard for the GPU and its Lambdas, and the seed's high-CPU alarm. */
  dashboard: 'ziggie-gpu',
  highCpuAlarm: 'ziggie-gpu-high-cpu',
} as const;

/**
 * Secrets Manager appends `-` and six random characters to a secret's ARN; `??????` matches exactly those, so a
 * policy on `ziggie/prod/jwt-secret` cannot also match `ziggie/prod/jwt-secret-old`.
 */
export function secretArnPattern(config: ZiggieConfig, name: string): string {
  return `arn:aws:secretsmanager:${config.region}:${config.accountId}:secret:${name}-??????`;
}

/** A derived bucket name that S3 accepts, or a one-line error naming the config key to change. */
function bucketName(raw: string, from: string): string {
  const name = raw.toLowerCase().replace(/[_.]+/g, '-');
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name)) {
    throw new Error(`config error: ${from}: the derived bucket name "${name}" is not a valid S3 bucket name (3-63 chars)`);
  }
  return name;
}

/** A Terraform-friendly construct id from a name such as `ziggie/prod/openai-api-key`. */
export function constructId(name: string): string {
  return name.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
}
