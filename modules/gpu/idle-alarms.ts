import type { Construct } from 'constructs';
import { CloudwatchCompositeAlarm } from '@cdktf/provider-aws/lib/cloudwatch-composite-alarm';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { COMFYUI_QUEUE_METRIC, GPU_UTILIZATION_METRIC, IDLE_THRESHOLDS } from '../../shared/gpu-signals';
import { GPU_NAMES } from '../../shared/names';
import { FlatConstruct } from '../flat-construct';

export interface IdleAlarmSpec {
  readonly key: 'cpu' | 'gpu' | 'queue';
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly statistic: 'Average' | 'Maximum';
  readonly threshold: number;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

/**
 * The three "idle" signals, each in ALARM only after `idleMinutes` consecutive one-minute datapoints below its
 * threshold (period × evaluation periods = the idle window, every datapoint must breach). The composite alarm
 * ANDs them, so it fires when all three have been idle for exactly `idleMinutes`.
 */
export function idleAlarmSpecs(idleMinutes: number): IdleAlarmSpec[] {
  const window = { periodSeconds: 60, evaluationPeriods: idleMinutes, datapointsToAlarm: idleMinutes };
  return [
    {
      key: 'cpu',
      description: `CPU below ${IDLE_THRESHOLDS.cpuPercent}% for ${idleMinutes} minutes`,
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      statistic: 'Average',
      threshold: IDLE_THRESHOLDS.cpuPercent,
      ...window,
    },
    {
      key: 'gpu',
      description: `GPU utilisation below ${IDLE_THRESHOLDS.gpuPercent}% for ${idleMinutes} minutes`,
      namespace: GPU_UTILIZATION_METRIC.namespace,
      metricName: GPU_UTILIZATION_METRIC.name,
      // The busiest second of each minute: a short generation burst keeps the GPU "busy".
      statistic: 'Maximum',
      threshold: IDLE_THRESHOLDS.gpuPercent,
      ...window,
    },
    {
      key: 'queue',
      description: `ComfyUI queue empty for ${idleMinutes} minutes`,
      namespace: COMFYUI_QUEUE_METRIC.namespace,
      metricName: COMFYUI_QUEUE_METRIC.name,
      statistic: 'Maximum',
      threshold: IDLE_THRESHOLDS.queueDepth,
      ...window,
    },
  ];
}

export interface IdleAlarmsProps {
  readonly instanceId: string;
  readonly idleMinutes: number;
  /** The composite alarm notifies this topic. */
  readonly alertsTopicArn: string;
  /** More alarms that must all be in ALARM too (the job queue's "empty"). @default none */
  readonly alsoRequired?: string[];
}

/**
 * Stop path 1: the three idle alarms, their composite (all three idle for `idleMinutes`), and the EventBridge rule
 * that fires when the composite goes to ALARM — point it at whatever stops the GPU.
 */
export class IdleAlarms extends FlatConstruct {
  readonly composite: CloudwatchCompositeAlarm;
  readonly stopRule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: IdleAlarmsProps) {
    super(scope, id);
    const alarms = idleAlarmSpecs(props.idleMinutes).map((spec) => new CloudwatchMetricAlarm(this, `idle-${spec.key}`, {
      alarmName: GPU_NAMES.idleAlarm(spec.key),
      alarmDescription: spec.description,
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensions: { InstanceId: props.instanceId },
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
    this.composite = new CloudwatchCompositeAlarm(this, 'idle', {
      alarmName: GPU_NAMES.idleComposite,
      alarmDescription: `CPU, GPU and ComfyUI queue${props.alsoRequired?.length ? ' (and the job queue)' : ''} all idle for ${props.idleMinutes} minutes: stop the GPU`,
      alarmRule: [...alarms.map((a) => a.alarmName), ...(props.alsoRequired ?? [])].map((n) => `ALARM("${n}")`).join(' AND '),
      alarmActions: [props.alertsTopicArn],
    });
    this.stopRule = new CloudwatchEventRule(this, 'idle-rule', {
      name: GPU_NAMES.idleStopRule,
      description: 'The idle composite alarm went to ALARM: stop the GPU',
      eventPattern: JSON.stringify({
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [this.composite.arn],
        detail: { state: { value: ['ALARM'] } },
      }),
    });
  }
}
