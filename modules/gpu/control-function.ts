import type { Construct } from 'constructs';
import type { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamUserPolicyAttachment } from '@cdktf/provider-aws/lib/iam-user-policy-attachment';
import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import type { ZiggieConfig } from '../../config/schema';
import { policyDocument, type PolicyStatement } from '../../shared/iam-policy';
import { GPU_NAMES } from '../../shared/names';
import { BundledFunction, writeOwnLogs } from '../bundled-function';

export interface GpuControlFunctionProps {
  readonly gpu: ZiggieConfig['gpu'];
  readonly accountId: string;
  /** The instance it starts and stops. */
  readonly instanceId: string;
  readonly instanceArn: string;
  /** The workflow that calls the function may upload its results under `comfyui/generated/` of this bucket. */
  readonly assetsBucket: string;
  /** The IAM user n8n signs its calls as (created by the iam stack: deploy iam before gpu). */
  readonly invokerUser: string;
  /** The job queue: n8n may send to it, and its jobs-waiting alarm's ALARM means start. @default none */
  readonly jobs?: { queueArn: string; waitingAlarm: string };
  /** Capacity fallback: the policy (JSON, FALLBACK_POLICY) and the instance role a stand-in is launched with. */
  readonly fallback?: { policyJson: string; instanceRoleArn: string; region: string };
  /** Where that user's key lives (the VPS, `x.x.x.x/32`): every statement of the invoke policy is pinned to it. */
  readonly invokerSourceIp: string;
}

/**
 * The gpu-control Lambda (lambda/gpu-control, a BundledFunction) with its Function URL, a role that can act on
 * this one instance only, and the policy that lets n8n call it.
 */
export class GpuControlFunction extends BundledFunction {
  readonly url: LambdaFunctionUrl;
  readonly invokePolicy: IamPolicy;

  constructor(scope: Construct, id: string, props: GpuControlFunctionProps) {
    const { gpu } = props;
    super(scope, id, {
      source: 'gpu-control',
      functionName: GPU_NAMES.controlFunction,
      description: 'Start, stop and report the ComfyUI GPU; enforce idle and max-runtime stops',
      accountId: props.accountId,
      ids: { fn: 'gpu-control', logs: 'function-logs', role: 'function-role', policy: 'function-policy' },
      policyName: 'act-on-the-gpu-only',
      statements: (logs) => [
        { Sid: 'StartStopThisInstance', Effect: 'Allow', Action: ['ec2:StartInstances', 'ec2:StopInstances'], Resource: [props.instanceArn] },
        // Describe* calls cannot be scoped to a resource in IAM.
        { Sid: 'ReadInstanceState', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceStatus', 'ec2:DescribeSpotPriceHistory'], Resource: '*' },
        // GetMetricStatistics has no resource type: it reads the watchdog's ComfyUI heartbeat.
        { Sid: 'ReadComfyuiHeartbeat', Effect: 'Allow', Action: 'cloudwatch:GetMetricStatistics', Resource: '*' },
        writeOwnLogs(logs),
        ...(props.fallback ? standInStatements(props.accountId, props.fallback) : []),
      ],
      timeoutSeconds: 30,
      // A handful of concurrent callers is plenty; a runaway loop must not fan out.
      reservedConcurrentExecutions: 5,
      environment: {
        INSTANCE_ID: props.instanceId,
        COMFYUI_PORT: String(gpu.comfyuiPort),
        MAX_RUNTIME_HOURS: String(gpu.maxRuntimeHours),
        SPOT_MAX_PRICE_USD: String(gpu.spot.maxPriceUsdPerHour),
        INTERRUPTION_WEBHOOK_URL: gpu.interruptionWebhookUrl ?? '',
        JOBS_WAITING_ALARM: props.jobs?.waitingAlarm ?? '',
        FALLBACK_POLICY: props.fallback?.policyJson ?? '',
      },
    });
    this.url = new LambdaFunctionUrl(this, 'gpu-control-url', {
      functionName: this.fn.functionName,
      authorizationType: 'AWS_IAM',
    });
    // A leaked n8n key must be useless anywhere but on the VPS, like every key the VPS holds.
    const fromInvoker = { 'aws:SourceIp': props.invokerSourceIp };
    this.invokePolicy = new IamPolicy(this, 'invoke-policy', {
      name: GPU_NAMES.controlInvokePolicy,
      description: 'The n8n GPU workflow: call gpu-control (Function URL or Invoke) and upload its results, from the VPS only',
      policy: policyDocument([
        {
          Sid: 'CallGpuControlUrl',
          Effect: 'Allow',
          Action: 'lambda:InvokeFunctionUrl',
          Resource: this.fn.arn,
          Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' }, IpAddress: fromInvoker },
        },
        // n8n's AWS Lambda node calls the Invoke API (its HTTP node mis-derives the signing service for
        // *.lambda-url.* hosts on some versions); same function, same identity.
        { Sid: 'InvokeGpuControl', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: this.fn.arn, Condition: { IpAddress: fromInvoker } },
        // The workflow in docs/n8n/ uploads ComfyUI's output; only under comfyui/generated/.
        {
          Sid: 'UploadGeneratedAssets',
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: [`arn:aws:s3:::${props.assetsBucket}/comfyui/generated/*`],
          Condition: { IpAddress: fromInvoker },
        },
        // The generate workflow enqueues a job and waits for its result.json.
        ...(props.jobs ? [
          { Sid: 'SubmitComfyuiJobs', Effect: 'Allow' as const, Action: 'sqs:SendMessage', Resource: props.jobs.queueArn, Condition: { IpAddress: fromInvoker } },
          {
            Sid: 'ReadJobResults', Effect: 'Allow' as const, Action: 's3:GetObject',
            Resource: [`arn:aws:s3:::${props.assetsBucket}/comfyui/generated/*`], Condition: { IpAddress: fromInvoker },
          },
        ] : []),
      ]),
    });
    // n8n signs its calls as the n8n/Flowise user, which the iam stack always creates (deploy iam before gpu).
    new IamUserPolicyAttachment(this, 'n8n-may-invoke', { user: props.invokerUser, policyArn: this.invokePolicy.arn });
  }

  /** EventBridge `rule` invokes the function: its target and the permission scoped to that rule. */
  invokeFromEvents(key: string, rule: CloudwatchEventRule): void {
    new CloudwatchEventTarget(this, `${key}-target`, { rule: rule.name, arn: this.fn.arn });
    new LambdaPermission(this, `${key}-permission`, {
      statementId: `events-${key}`,
      action: 'lambda:InvokeFunction',
      functionName: this.fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: rule.arn,
    });
  }
}

/**
 * The capacity fallback (gpu-control/fallback.ts): launch a stand-in from the GPU's launch templates, tag it at
 * launch, pass it the instance role, terminate only what it launched (tagged ziggie:fallback-for).
 */
function standInStatements(accountId: string, f: { instanceRoleArn: string; region: string }): PolicyStatement[] {
  const ec2 = (resource: string) => `arn:aws:ec2:${f.region}:${accountId}:${resource}`;
  return [
    {
      Sid: 'LaunchStandIn',
      Effect: 'Allow',
      Action: 'ec2:RunInstances',
      Resource: [
        ec2(`launch-template/*`), ec2('instance/*'), ec2('volume/*'), ec2('network-interface/*'), ec2('subnet/*'),
        ec2('security-group/*'), `arn:aws:ec2:${f.region}::image/*`, ec2('spot-instances-request/*'),
      ],
    },
    { Sid: 'TagStandInAtLaunch', Effect: 'Allow', Action: 'ec2:CreateTags', Resource: [ec2('instance/*'), ec2('volume/*'), ec2('network-interface/*'), ec2('spot-instances-request/*')],
      Condition: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } } },
    { Sid: 'TerminateOnlyStandIns', Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: [ec2('instance/*')],
      Condition: { StringLike: { 'aws:ResourceTag/ziggie:fallback-for': 'i-*' } } },
    { Sid: 'PassInstanceRole', Effect: 'Allow', Action: 'iam:PassRole', Resource: f.instanceRoleArn,
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } },
    // DescribeSubnets cannot be scoped to a resource in IAM: the zones of the GPU's VPC.
    { Sid: 'ReadSubnets', Effect: 'Allow', Action: 'ec2:DescribeSubnets', Resource: '*' },
  ];
}
