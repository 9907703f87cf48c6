import type { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import type { Instance } from '@cdktf/provider-aws/lib/instance';
import type { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import type { ZiggieConfig } from '../config/schema';
import { GpuAlerts } from '../modules/gpu/alerts';
import { BudgetStop } from '../modules/gpu/budget-stop';
import { CostReport } from '../modules/gpu/cost-report';
import { GpuMonitoring } from '../modules/gpu/monitoring';
import { GpuControlFunction } from '../modules/gpu/control-function';
import { IdleAlarms } from '../modules/gpu/idle-alarms';
import { GpuInstance } from '../modules/gpu/instance';
import { JobQueue } from '../modules/gpu/job-queue';
import { fallbackPolicy } from '../gpu-control/policy';
import { RuntimeCap } from '../modules/gpu/runtime-cap';
import { SpotWarnings } from '../modules/gpu/spot-warnings';
import { GPU_NAMES, ziggieNames } from '../shared/names';
import { ZiggieStack } from './ziggie-stack';

export interface GpuNetwork {
  /** A public subnet: the VPS reaches ComfyUI on the instance's public IP (there is no NAT, by design). */
  readonly subnetId: string;
  /** Admits 8188 from the VPS /32 only. */
  readonly comfyuiSecurityGroupId: string;
}

export const GPU_CONTROL_FUNCTION = GPU_NAMES.controlFunction;

/**
 * The ComfyUI GPU: a persistent Spot instance that can be stopped and started, the gpu-control Lambda that n8n
 * calls, and the stop paths — idle composite alarm, max-runtime schedule, budget action (the on-instance watchdog
 * is the fourth, baked into the AMI). Each part is a construct in modules/gpu/; their resources keep the Terraform
 * addresses they had when this constructor created them directly (FlatConstruct).
 */
export class GpuStack extends ZiggieStack {
  readonly instance: Instance;
  readonly functionUrl: LambdaFunctionUrl;
  readonly jobs: JobQueue;

  constructor(scope: Construct, id: string, config: ZiggieConfig, network: GpuNetwork) {
    super(scope, id, { config });
    const { gpu, accountId } = config;
    const names = ziggieNames(config);

    this.instance = new GpuInstance(this, 'gpu-instance', {
      gpu,
      tags: config.tags,
      subnetId: network.subnetId,
      securityGroupId: network.comfyuiSecurityGroupId,
      assetsBucket: config.storage.assetsBucket,
    }).instance;
    const instanceId = this.instance.id;
    const instanceArn = names.arn('ec2', `instance/${instanceId}`);

    // The job queue: n8n and the control plane send, the worker on the instance receives.
    const iamArn = (kind: 'user' | 'role', name: string, path = names.iamPath) => `arn:aws:iam::${accountId}:${kind}${path}${name}`;
    this.jobs = new JobQueue(this, 'jobs', {
      name: names.comfyuiJobsQueue,
      maxReceiveCount: gpu.queue.maxReceiveCount,
      visibilityTimeoutSeconds: gpu.queue.visibilityTimeoutSeconds,
      retentionDays: gpu.queue.retentionDays,
      senderArns: [iamArn('user', names.bedrockUser), iamArn('user', names.vpsUser)],
      sendersSourceIp: `${config.vps.publicIp}/32`,
      workerRoleArn: iamArn('role', GPU_NAMES.instanceRole, '/'),
      idleMinutes: gpu.idleMinutes,
    });

    const alerts = new GpuAlerts(this, 'gpu-alerts', { accountId, emails: config.notifications.emails }).topic;

    const control = new GpuControlFunction(this, 'gpu-control-function', {
      gpu, accountId, instanceId, instanceArn,
      assetsBucket: config.storage.assetsBucket,
      invokerUser: names.bedrockUser,
      jobs: { queueArn: this.jobs.queue.arn, waitingAlarm: this.jobs.jobsWaiting.alarmName },
      fallback: { policyJson: JSON.stringify(fallbackPolicy(config)), instanceRoleArn: iamArn('role', GPU_NAMES.instanceRole, '/'), region: config.region },
      invokerSourceIp: `${config.vps.publicIp}/32`,
    });
    this.functionUrl = control.url;

    // Stop path 1: all three signals idle for idleMinutes → EventBridge → gpu-control stops the instance.
    // …and no job waiting or running in the queue: the GPU never stops with work waiting.
    const idle = new IdleAlarms(this, 'idle-alarms', {
      instanceId, idleMinutes: gpu.idleMinutes, alertsTopicArn: alerts.arn, alsoRequired: [this.jobs.queueEmpty.alarmName],
    });
    control.invokeFromEvents('idle', idle.stopRule);

    // Start on demand: a job waiting in the queue starts the GPU (gpu-control's start, idempotent).
    control.invokeFromEvents('jobs-waiting', this.jobs.startRule);

    new RuntimeCap(this, 'runtime-cap-schedule', { accountId, functionArn: control.fn.arn, maxRuntimeHours: gpu.maxRuntimeHours });

    new BudgetStop(this, 'budget-stop-action', {
      accountId,
      region: config.region,
      budgetName: names.budget,
      thresholdUsd: Math.max(...config.budgets.thresholdsUsd),
      instanceId, instanceArn,
      alertEmails: config.budgets.alertEmails,
    });

    const spot = new SpotWarnings(this, 'spot-warnings', { instanceId, alertsTopicArn: alerts.arn });
    if (gpu.interruptionWebhookUrl) {
      for (const [key, rule] of spot.rules) control.invokeFromEvents(key, rule);
    }

    // issue 15: the monthly cost report + weekly digest, the CloudWatch dashboard and the high-CPU alarm
    const report = new CostReport(this, 'cost-report-schedule', {
      accountId, topicArn: alerts.arn, gpuInstanceType: gpu.instanceType, vpsMonthlyUsd: config.vps.monthlyCostUsd,
      budgetLimitUsd: config.budgets.monthlyLimitUsd, thresholdsUsd: config.budgets.thresholdsUsd,
      webhookUrl: config.notifications.costReportWebhookUrl,
    });
    new GpuMonitoring(this, 'gpu-monitoring', {
      region: config.region, instanceId, alertsTopicArn: alerts.arn, functionNames: [GPU_NAMES.controlFunction, GPU_NAMES.costReportFunction],
    });

    new TerraformOutput(this, 'instance_id', { value: instanceId });
    new TerraformOutput(this, 'gpu_control_url', { value: this.functionUrl.functionUrl });
    new TerraformOutput(this, 'gpu_control_invoke_policy_arn', { value: control.invokePolicy.arn });
    new TerraformOutput(this, 'idle_alarm', { value: idle.composite.alarmName });
    new TerraformOutput(this, 'comfyui_jobs_queue_url', { value: this.jobs.queue.url });
    new TerraformOutput(this, 'comfyui_jobs_dlq_url', { value: this.jobs.deadLetterQueue.url });
  }
}
