import { COMFYUI_QUEUE_METRIC, GPU_UTILIZATION_METRIC, IDLE_THRESHOLDS } from '../../shared/gpu-signals';

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
