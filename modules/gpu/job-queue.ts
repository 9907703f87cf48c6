import type { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { policyDocument, type PolicyStatement } from '../../shared/iam-policy';
import { FlatConstruct } from '../flat-construct';

export interface JobQueueProps {
  /** The queue's name; the dead-letter queue is `<name>-dlq`. */
  readonly name: string;
  /** Receives of a failing job before SQS moves it to the dead-letter queue (config gpu.queue.maxReceiveCount). */
  readonly maxReceiveCount: number;
  /** How long a received job stays invisible; the worker extends it while the job runs. */
  readonly visibilityTimeoutSeconds: number;
  /** @default 4 */
  readonly retentionDays?: number;
  /** The identities that submit work (n8n, the control plane): the only ones that may send. */
  readonly senderArns: string[];
  /** Where the senders' keys live (the VPS, `x.x.x.x/32`): sends from anywhere else are not allowed. */
  readonly sendersSourceIp: string;
  /** The GPU instance role: the only identity that may receive, delete and change visibility. */
  readonly workerRoleArn: string;
  /** The GPU is idle only after the queue has been empty this long. */
  readonly idleMinutes: number;
}

/** Receive-side actions: the worker's, nobody else's. */
const WORKER_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'];

/**
 * The ComfyUI job queue: an encrypted, TLS-only SQS queue with a dead-letter queue, a policy that lets only the
 * submitters send and only the GPU's worker receive, and the two alarms that tie it to the GPU's life cycle:
 * `jobsWaiting` (a job is visible: start the GPU) and `queueEmpty` (nothing visible or in flight for idleMinutes:
 * one of the idle composite's conditions).
 */
export class JobQueue extends FlatConstruct {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  readonly jobsWaiting: CloudwatchMetricAlarm;
  readonly queueEmpty: CloudwatchMetricAlarm;
  /** Fires when jobsWaiting goes to ALARM: point it at whatever starts the GPU. */
  readonly startRule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: JobQueueProps) {
    super(scope, id);
    const retention = (props.retentionDays ?? 4) * 86_400;
    this.deadLetterQueue = new SqsQueue(this, 'jobs-dlq', {
      name: `${props.name}-dlq`,
      sqsManagedSseEnabled: true,
      // Longer than the source queue's retention, so a dead job is not lost before someone looks (the maximum).
      messageRetentionSeconds: 14 * 86_400,
    });
    this.queue = new SqsQueue(this, 'jobs-queue', {
      name: props.name,
      sqsManagedSseEnabled: true,
      visibilityTimeoutSeconds: props.visibilityTimeoutSeconds,
      messageRetentionSeconds: retention,
      receiveWaitTimeSeconds: 20,
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: props.maxReceiveCount }),
    });
    new SqsQueuePolicy(this, 'jobs-queue-policy', {
      queueUrl: this.queue.url,
      policy: policyDocument([
        denyPlainHttp(this.queue.arn),
        {
          // Same-account principals named here need no identity policy: the address pin must be here too.
          Sid: 'SubmittersSend', Effect: 'Allow', Principal: { AWS: props.senderArns }, Action: 'sqs:SendMessage', Resource: this.queue.arn,
          Condition: { IpAddress: { 'aws:SourceIp': props.sendersSourceIp } },
        },
        // No Deny for other senders by principal ARN: the operator's `ziggie gpu submit` sends with ziggie-agent,
        // held by an identity no stack knows; identity policies decide (docs/iam.md simulates who can send).
        {
          Sid: 'WorkerReceives',
          Effect: 'Allow',
          Principal: { AWS: props.workerRoleArn },
          Action: [...WORKER_ACTIONS, 'sqs:GetQueueAttributes'],
          Resource: this.queue.arn,
        },
        {
          Sid: 'OnlyTheWorkerReceives',
          Effect: 'Deny',
          Principal: '*',
          Action: WORKER_ACTIONS,
          Resource: this.queue.arn,
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': props.workerRoleArn } },
        },
      ]),
    });
    new SqsQueuePolicy(this, 'jobs-dlq-policy', {
      queueUrl: this.deadLetterQueue.url,
      policy: policyDocument([denyPlainHttp(this.deadLetterQueue.arn)]),
    });

    const queueMetric = (id: string, metricName: string) => ({
      id,
      returnData: false,
      metric: { namespace: 'AWS/SQS', metricName, dimensions: { QueueName: this.queue.name }, period: 60, stat: 'Maximum' },
    });
    this.jobsWaiting = new CloudwatchMetricAlarm(this, 'jobs-waiting', {
      alarmName: `${props.name}-waiting`,
      alarmDescription: 'A ComfyUI job is waiting in the queue: start the GPU',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: this.queue.name },
      statistic: 'Maximum',
      period: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      // SQS stops publishing for a queue that has been empty for hours: no data means nothing waits.
      treatMissingData: 'notBreaching',
    });
    this.queueEmpty = new CloudwatchMetricAlarm(this, 'jobs-queue-empty', {
      alarmName: `${props.name}-empty`,
      alarmDescription: `No ComfyUI job waiting or running for ${props.idleMinutes} minutes`,
      metricQuery: [
        queueMetric('visible', 'ApproximateNumberOfMessagesVisible'),
        queueMetric('inflight', 'ApproximateNumberOfMessagesNotVisible'),
        { id: 'jobs', expression: 'visible + inflight', label: 'jobs waiting or running', returnData: true },
      ],
      evaluationPeriods: props.idleMinutes,
      datapointsToAlarm: props.idleMinutes,
      comparisonOperator: 'LessThanThreshold',
      threshold: 1,
      // The other way round from jobsWaiting: an inactive (empty) queue publishes nothing, and must count as empty
      // or the idle composite could never fire.
      treatMissingData: 'breaching',
    });
    this.startRule = new CloudwatchEventRule(this, 'jobs-waiting-rule', {
      name: 'ziggie-gpu-jobs-waiting-start',
      description: 'A ComfyUI job is waiting in the queue: start the GPU',
      eventPattern: JSON.stringify({
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [this.jobsWaiting.arn],
        detail: { state: { value: ['ALARM'] } },
      }),
    });
  }
}

function denyPlainHttp(queueArn: string): PolicyStatement {
  return {
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 'sqs:*',
    Resource: queueArn,
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}
