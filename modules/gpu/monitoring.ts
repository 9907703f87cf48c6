import type { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { COMFYUI_QUEUE_METRIC, GPU_UTILIZATION_METRIC } from '../../shared/gpu-signals';
import { GPU_NAMES } from '../../shared/names';
import { FlatConstruct } from '../flat-construct';

export interface GpuMonitoringProps {
  readonly region: string;
  readonly instanceId: string;
  readonly alertsTopicArn: string;
  /** The Lambdas whose invocations, errors and duration the dashboard shows. */
  readonly functionNames: readonly string[];
  /** @default 80 (the seed's high-CPU alarm: 80% for 2 × 5 minutes) */
  readonly highCpuPercent?: number;
}

/** One metric line of a dashboard widget: [namespace, metric, dim, value, …, { options }]. */
type MetricLine = (string | Record<string, unknown>)[];

/** Every metric the dashboard reads, as data (a test checks each one exists in what the stacks and agents publish). */
export function gpuDashboardMetrics(instanceId: string, functionNames: readonly string[]): { title: string; metrics: MetricLine[]; stat: string; period: number }[] {
  const inst = ['InstanceId', instanceId];
  return [
    { title: 'CPU utilisation (%)', stat: 'Average', period: 300, metrics: [['AWS/EC2', 'CPUUtilization', ...inst]] },
    { title: 'GPU utilisation (%)', stat: 'Maximum', period: 60, metrics: [[GPU_UTILIZATION_METRIC.namespace, GPU_UTILIZATION_METRIC.name, ...inst]] },
    { title: 'ComfyUI queue depth', stat: 'Maximum', period: 60, metrics: [[COMFYUI_QUEUE_METRIC.namespace, COMFYUI_QUEUE_METRIC.name, ...inst]] },
    {
      // EC2 basic monitoring sends CPUUtilization every 5 minutes while the instance runs: 12 samples = 1 hour.
      title: 'GPU running hours per day', stat: 'SampleCount', period: 86_400,
      metrics: [
        ['AWS/EC2', 'CPUUtilization', ...inst, { id: 'samples', visible: false }],
        [{ expression: 'samples / 12', label: 'running hours', id: 'hours' }],
      ],
    },
    {
      title: 'Spot interruption and rebalance warnings', stat: 'Sum', period: 3600,
      metrics: [
        ['AWS/Events', 'TriggeredRules', 'RuleName', GPU_NAMES.spotRule('interruption')],
        ['AWS/Events', 'TriggeredRules', 'RuleName', GPU_NAMES.spotRule('rebalance')],
      ],
    },
    ...(['Invocations', 'Errors', 'Duration', 'Throttles'] as const).map((metric) => ({
      title: `Lambda ${metric.toLowerCase()}`, stat: metric === 'Duration' ? 'Maximum' : 'Sum', period: 300,
      metrics: functionNames.map((fn) => ['AWS/Lambda', metric, 'FunctionName', fn]),
    })),
  ];
}

/**
 * The AWS-side monitoring of the GPU: a CloudWatch dashboard (CPU, GPU utilisation, ComfyUI queue, running hours,
 * Spot warnings, the Lambdas) and the seed's high-CPU alarm on the instance to the notifications topic.
 */
export class GpuMonitoring extends FlatConstruct {
  readonly dashboard: CloudwatchDashboard;
  readonly highCpu: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: GpuMonitoringProps) {
    super(scope, id);
    const threshold = props.highCpuPercent ?? 80;
    this.highCpu = new CloudwatchMetricAlarm(this, 'high-cpu', {
      alarmName: GPU_NAMES.highCpuAlarm,
      alarmDescription: `GPU instance CPU above ${threshold}% for 2 × 5 minutes`,
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensions: { InstanceId: props.instanceId },
      statistic: 'Average',
      period: 300,
      evaluationPeriods: 2,
      threshold,
      comparisonOperator: 'GreaterThanThreshold',
      // a stopped instance sends nothing: that is not an alarm
      treatMissingData: 'notBreaching',
      alarmActions: [props.alertsTopicArn],
      okActions: [props.alertsTopicArn],
    });
    const graphs = gpuDashboardMetrics(props.instanceId, props.functionNames);
    const widgets: Record<string, unknown>[] = [
      { type: 'alarm', x: 0, y: 0, width: 24, height: 2, properties: { title: 'Alarms', alarms: [this.highCpu.arn] } },
      ...graphs.map((w, i) => ({
        type: 'metric', x: (i % 2) * 12, y: 2 + Math.floor(i / 2) * 6, width: 12, height: 6,
        properties: { title: w.title, region: props.region, view: 'timeSeries', stat: w.stat, period: w.period, metrics: w.metrics },
      })),
    ];
    // The instance id and the alarm ARN are known at apply time: Terraform's jsonencode writes the body.
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: GPU_NAMES.dashboard,
      dashboardBody: Fn.jsonencode({ widgets }),
    });
  }
}
