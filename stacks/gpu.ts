import type { Construct } from 'constructs';
import { AssetType, TerraformAsset, TerraformOutput } from 'cdktf';
import { BudgetsBudgetAction } from '@cdktf/provider-aws/lib/budgets-budget-action';
import { CloudwatchCompositeAlarm } from '@cdktf/provider-aws/lib/cloudwatch-composite-alarm';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamUserPolicyAttachment } from '@cdktf/provider-aws/lib/iam-user-policy-attachment';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import type { ZiggieConfig } from '../config/schema';
import { bundleLambda } from '../lambda/bundle';
import { idleAlarmSpecs } from '../modules/gpu/idle-alarms';
import { GPU_NAME, GPU_ROLE_TAG } from '../shared/gpu-signals';
import { ziggieNames } from '../shared/names';
import { assumeRolePolicy, policyDocument } from '../shared/iam-policy';
import { ZiggieStack } from './ziggie-stack';

export interface GpuNetwork {
  /** A public subnet: the VPS reaches ComfyUI on the instance's public IP (there is no NAT, by design). */
  readonly subnetId: string;
  /** Admits 8188 from the VPS /32 only. */
  readonly comfyuiSecurityGroupId: string;
}

export const GPU_CONTROL_FUNCTION = 'ziggie-gpu-control';

/**
 * The ComfyUI GPU: a persistent Spot instance that can be stopped and started, the gpu-control Lambda that n8n
 * calls, and the stop paths — idle composite alarm, max-runtime schedule, budget action (the on-instance watchdog
 * is the fourth, baked into the AMI).
 */
export class GpuStack extends ZiggieStack {
  readonly instance: Instance;
  readonly functionUrl: LambdaFunctionUrl;

  constructor(scope: Construct, id: string, config: ZiggieConfig, network: GpuNetwork) {
    super(scope, id, { config });
    const gpu = config.gpu;
    const names = ziggieNames(config);
    const instanceArn = (instanceId: string) => names.arn('ec2', `instance/${instanceId}`);

    // --- the instance -------------------------------------------------------------------------------------
    const imageId = gpu.amiId ?? new DataAwsSsmParameter(this, 'ami', { name: gpu.amiSsmParameter }).value;

    const instanceRole = new IamRole(this, 'instance-role', {
      name: 'ziggie-comfyui-instance',
      assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com'),
      managedPolicyArns: ['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'],
    });
    const comfyLogs = new CloudwatchLogGroup(this, 'comfyui-logs', {
      name: '/ziggie/comfyui',
      retentionInDays: 30,
    });
    new IamRolePolicy(this, 'instance-policy', {
      role: instanceRole.name,
      name: 'comfyui-minimal',
      policy: policyDocument([
        {
          Sid: 'PublishGpuAndQueueMetrics',
          Effect: 'Allow',
          Action: 'cloudwatch:PutMetricData',
          // PutMetricData has no resource type; the namespace condition is how it is scoped.
          Resource: '*',
          Condition: { StringEquals: { 'cloudwatch:namespace': ['CWAgent', 'Ziggie/ComfyUI'] } },
        },
        {
          Sid: 'ShipComfyuiLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          Resource: [`${comfyLogs.arn}:*`],
        },
        {
          Sid: 'UploadGeneratedAssets',
          Effect: 'Allow',
          Action: ['s3:PutObject'],
          Resource: [`arn:aws:s3:::${config.storage.assetsBucket}/comfyui/generated/*`],
        },
      ]),
    });
    const profile = new IamInstanceProfile(this, 'instance-profile', {
      name: 'ziggie-comfyui-instance',
      role: instanceRole.name,
    });

    const template = new LaunchTemplate(this, 'launch-template', {
      name: GPU_NAME,
      description: 'ComfyUI on a persistent Spot GPU, stopped when idle',
      imageId,
      instanceType: gpu.instanceType,
      updateDefaultVersion: true,
      iamInstanceProfile: { arn: profile.arn },
      // Spot instances must stop, not terminate, on shutdown so the watchdog's poweroff keeps the disk.
      instanceInitiatedShutdownBehavior: 'stop',
      instanceMarketOptions: {
        marketType: 'spot',
        spotOptions: {
          spotInstanceType: 'persistent',
          instanceInterruptionBehavior: 'stop',
          maxPrice: gpu.spot.maxPriceUsdPerHour.toFixed(4),
        },
      },
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
      // One-minute CPU datapoints: the idle alarm counts minutes.
      monitoring: { enabled: true },
      networkInterfaces: [{
        deviceIndex: 0,
        subnetId: network.subnetId,
        securityGroups: [network.comfyuiSecurityGroupId],
        // Public, because the VPS reaches ComfyUI over the internet (8188 from its /32 only); the address is
        // released while stopped, so it costs only while running.
        associatePublicIpAddress: 'true',
        deleteOnTermination: 'true',
      }],
      blockDeviceMappings: [{
        deviceName: '/dev/sda1',
        ebs: { volumeSize: gpu.rootVolumeGb, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
      }],
      tagSpecifications: ['instance', 'volume', 'network-interface'].map((resourceType) => ({
        resourceType,
        tags: { ...config.tags, Name: GPU_NAME, [GPU_ROLE_TAG.key]: GPU_ROLE_TAG.value },
      })),
    });

    this.instance = new Instance(this, 'instance', {
      launchTemplate: { id: template.id, version: '$Latest' },
      tags: { Name: GPU_NAME, [GPU_ROLE_TAG.key]: GPU_ROLE_TAG.value },
    });

    // --- notifications ------------------------------------------------------------------------------------
    const alerts = new SnsTopic(this, 'alerts', { name: 'ziggie-gpu-alerts' });
    new SnsTopicPolicy(this, 'alerts-policy', {
      arn: alerts.arn,
      policy: policyDocument([
        {
          Sid: 'AlarmsAndEventsPublish',
          Effect: 'Allow',
          Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
          Action: 'sns:Publish',
          Resource: alerts.arn,
          Condition: { StringEquals: { 'aws:SourceAccount': config.accountId } },
        },
      ]),
    });
    config.notifications.emails.forEach((email, i) => {
      new SnsTopicSubscription(this, `alerts-email-${i}`, { topicArn: alerts.arn, protocol: 'email', endpoint: email });
    });

    // --- gpu-control Lambda -------------------------------------------------------------------------------
    const functionLogs = new CloudwatchLogGroup(this, 'function-logs', {
      name: `/aws/lambda/${GPU_CONTROL_FUNCTION}`,
      retentionInDays: 30,
    });
    const functionRole = new IamRole(this, 'function-role', {
      name: GPU_CONTROL_FUNCTION,
      assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com', config.accountId),
    });
    new IamRolePolicy(this, 'function-policy', {
      role: functionRole.name,
      name: 'act-on-the-gpu-only',
      policy: policyDocument([
        { Sid: 'StartStopThisInstance', Effect: 'Allow', Action: ['ec2:StartInstances', 'ec2:StopInstances'], Resource: [instanceArn(this.instance.id)] },
        // Describe* calls cannot be scoped to a resource in IAM.
        { Sid: 'ReadInstanceState', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceStatus', 'ec2:DescribeSpotPriceHistory'], Resource: '*' },
        // GetMetricStatistics has no resource type: it reads the watchdog's ComfyUI heartbeat.
        { Sid: 'ReadComfyuiHeartbeat', Effect: 'Allow', Action: 'cloudwatch:GetMetricStatistics', Resource: '*' },
        { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${functionLogs.arn}:*`] },
      ]),
    });
    const bundle = new TerraformAsset(this, 'gpu-control-code', {
      path: bundleLambda('gpu-control'),
      type: AssetType.ARCHIVE,
    });
    const fn = new LambdaFunction(this, 'gpu-control', {
      functionName: GPU_CONTROL_FUNCTION,
      description: 'Start, stop and report the ComfyUI GPU; enforce idle and max-runtime stops',
      role: functionRole.arn,
      runtime: 'nodejs20.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: bundle.path,
      sourceCodeHash: bundle.assetHash,
      timeout: 30,
      memorySize: 256,
      // A handful of concurrent callers is plenty; a runaway loop must not fan out.
      reservedConcurrentExecutions: 5,
      environment: {
        variables: {
          INSTANCE_ID: this.instance.id,
          COMFYUI_PORT: String(gpu.comfyuiPort),
          MAX_RUNTIME_HOURS: String(gpu.maxRuntimeHours),
          SPOT_MAX_PRICE_USD: String(gpu.spot.maxPriceUsdPerHour),
          INTERRUPTION_WEBHOOK_URL: gpu.interruptionWebhookUrl ?? '',
        },
      },
      dependsOn: [functionLogs],
    });
    this.functionUrl = new LambdaFunctionUrl(this, 'gpu-control-url', {
      functionName: fn.functionName,
      authorizationType: 'AWS_IAM',
    });
    const invoke = new IamPolicy(this, 'invoke-policy', {
      name: 'ziggie-gpu-control-invoke',
      description: 'The n8n GPU workflow: call gpu-control (Function URL or Invoke) and upload its results',
      policy: policyDocument([
        {
          Sid: 'CallGpuControlUrl',
          Effect: 'Allow',
          Action: 'lambda:InvokeFunctionUrl',
          Resource: fn.arn,
          Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        },
        // n8n's AWS Lambda node calls the Invoke API (its HTTP node mis-derives the signing service for
        // *.lambda-url.* hosts on some versions); same function, same identity.
        { Sid: 'InvokeGpuControl', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: fn.arn },
        // The workflow in docs/n8n/ uploads ComfyUI's output; only under comfyui/generated/.
        {
          Sid: 'UploadGeneratedAssets',
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: [`arn:aws:s3:::${config.storage.assetsBucket}/comfyui/generated/*`],
        },
      ]),
    });
    // n8n signs its Function URL calls as the n8n/Flowise identity the iam stack creates (deploy iam before gpu).
    new IamUserPolicyAttachment(this, 'n8n-may-invoke', { user: names.bedrockUser, policyArn: invoke.arn });

    // --- stop path 1: all three signals idle for idleMinutes → EventBridge → Lambda stop --------------------
    const specs = idleAlarmSpecs(gpu.idleMinutes);
    const idleAlarms = specs.map((spec) => new CloudwatchMetricAlarm(this, `idle-${spec.key}`, {
      alarmName: `ziggie-gpu-idle-${spec.key}`,
      alarmDescription: spec.description,
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensions: { InstanceId: this.instance.id },
      statistic: spec.statistic,
      period: spec.periodSeconds,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm,
      comparisonOperator: 'LessThanThreshold',
      threshold: spec.threshold,
      // Missing data means "not idle": a stopped instance stays OK (no flapping) and a busy instance whose agent
      // hiccups is never stopped by a gap. The watchdog and the runtime cap catch a silent, idle instance.
      treatMissingData: 'notBreaching',
    }));
    const idle = new CloudwatchCompositeAlarm(this, 'idle', {
      alarmName: 'ziggie-gpu-idle',
      alarmDescription: `CPU, GPU and ComfyUI queue all idle for ${gpu.idleMinutes} minutes: stop the GPU`,
      alarmRule: idleAlarms.map((a) => `ALARM("${a.alarmName}")`).join(' AND '),
      alarmActions: [alerts.arn],
    });
    const idleRule = new CloudwatchEventRule(this, 'idle-rule', {
      name: 'ziggie-gpu-idle-stop',
      description: 'The idle composite alarm went to ALARM: stop the GPU',
      eventPattern: JSON.stringify({
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [idle.arn],
        detail: { state: { value: ['ALARM'] } },
      }),
    });
    this.invokeFromEvents('idle', idleRule, fn);

    // --- stop path 2: a schedule every 15 minutes enforces the max-runtime cap ------------------------------
    const schedulerRole = new IamRole(this, 'scheduler-role', {
      name: 'ziggie-gpu-runtime-cap',
      assumeRolePolicy: assumeRolePolicy('scheduler.amazonaws.com', config.accountId),
    });
    new IamRolePolicy(this, 'scheduler-policy', {
      role: schedulerRole.name,
      name: 'invoke-gpu-control',
      policy: policyDocument([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: fn.arn }]),
    });
    new SchedulerSchedule(this, 'runtime-cap', {
      name: 'ziggie-gpu-runtime-cap',
      description: `Stop the GPU when it has run longer than ${gpu.maxRuntimeHours} h`,
      scheduleExpression: 'rate(15 minutes)',
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: fn.arn,
        roleArn: schedulerRole.arn,
        input: JSON.stringify({ action: 'enforce-max-runtime' }),
        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 600 },
      },
    });

    // --- stop path 3: the budget's top threshold stops the instance (Budgets action → SSM) -----------------
    const top = Math.max(...config.budgets.thresholdsUsd);
    const budgetsRole = new IamRole(this, 'budget-action-role', {
      name: 'ziggie-budget-stop-gpu',
      assumeRolePolicy: assumeRolePolicy('budgets.amazonaws.com', config.accountId),
    });
    new IamRolePolicy(this, 'budget-action-policy', {
      role: budgetsRole.name,
      name: 'stop-the-gpu',
      policy: policyDocument([
        { Sid: 'StopThisInstance', Effect: 'Allow', Action: 'ec2:StopInstances', Resource: [instanceArn(this.instance.id)] },
        // DescribeInstanceStatus cannot be scoped to a resource in IAM.
        { Sid: 'ReadInstanceStatus', Effect: 'Allow', Action: 'ec2:DescribeInstanceStatus', Resource: '*' },
        {
          Sid: 'RunStopAutomation',
          Effect: 'Allow',
          Action: 'ssm:StartAutomationExecution',
          Resource: [`arn:aws:ssm:${config.region}::automation-definition/AWS-StopEC2Instance:*`],
        },
      ]),
    });
    new BudgetsBudgetAction(this, 'budget-stop', {
      // The budgets stack's budget, by its derived name (deploy budgets before gpu).
      budgetName: names.budget,
      actionType: 'RUN_SSM_DOCUMENTS',
      approvalModel: 'AUTOMATIC',
      notificationType: 'ACTUAL',
      actionThreshold: { actionThresholdType: 'ABSOLUTE_VALUE', actionThresholdValue: top },
      definition: {
        ssmActionDefinition: { actionSubType: 'STOP_EC2_INSTANCES', region: config.region, instanceIds: [this.instance.id] },
      },
      executionRoleArn: budgetsRole.arn,
      subscriber: config.budgets.alertEmails.map((address) => ({ address, subscriptionType: 'EMAIL' })),
    });

    // --- Spot interruption warning and rebalance recommendation → e-mail, and the Lambda's webhook ----------
    for (const [key, detailType] of [
      ['interruption', 'EC2 Spot Instance Interruption Warning'],
      ['rebalance', 'EC2 Instance Rebalance Recommendation'],
    ] as const) {
      const rule = new CloudwatchEventRule(this, `spot-${key}`, {
        name: `ziggie-gpu-spot-${key}`,
        description: `${detailType} for the ComfyUI GPU`,
        eventPattern: JSON.stringify({
          source: ['aws.ec2'],
          'detail-type': [detailType],
          detail: { 'instance-id': [this.instance.id] },
        }),
      });
      new CloudwatchEventTarget(this, `spot-${key}-email`, { rule: rule.name, arn: alerts.arn });
      if (gpu.interruptionWebhookUrl) this.invokeFromEvents(`spot-${key}`, rule, fn);
    }

    new TerraformOutput(this, 'instance_id', { value: this.instance.id });
    new TerraformOutput(this, 'gpu_control_url', { value: this.functionUrl.functionUrl });
    new TerraformOutput(this, 'gpu_control_invoke_policy_arn', { value: invoke.arn });
    new TerraformOutput(this, 'idle_alarm', { value: idle.alarmName });
  }

  private invokeFromEvents(key: string, rule: CloudwatchEventRule, fn: LambdaFunction): void {
    new CloudwatchEventTarget(this, `${key}-target`, { rule: rule.name, arn: fn.arn });
    new LambdaPermission(this, `${key}-permission`, {
      statementId: `events-${key}`,
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: rule.arn,
    });
  }
}
