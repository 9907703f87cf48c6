import { type CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import type { FetchLike } from './control';
import { COMFYUI_QUEUE_METRIC } from '../shared/gpu-signals';

/**
 * "Does ComfyUI answer?" for a caller that cannot reach port 8188: the on-instance watchdog publishes the queue
 * depth only after ComfyUI's /queue answered, so a datapoint in the last few minutes means it is up.
 */
export function heartbeatProbe(cloudwatch: Pick<CloudWatchClient, 'send'>, instanceId: string, withinMinutes = 3): FetchLike {
  return async () => {
    const end = new Date();
    const out = await cloudwatch.send(new GetMetricStatisticsCommand({
      Namespace: COMFYUI_QUEUE_METRIC.namespace,
      MetricName: COMFYUI_QUEUE_METRIC.name,
      Dimensions: [{ Name: 'InstanceId', Value: instanceId }],
      StartTime: new Date(end.getTime() - withinMinutes * 60_000),
      EndTime: end,
      Period: 60,
      Statistics: ['SampleCount'],
    }));
    const alive = (out.Datapoints ?? []).some((d) => (d.SampleCount ?? 0) > 0);
    return { ok: alive, status: alive ? 200 : 503 };
  };
}
