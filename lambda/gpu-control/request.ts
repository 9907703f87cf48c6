/** Every event gpu-control accepts, turned into one request, or a one-line reason it was refused. */
export type GpuRequest =
  | { source: 'http' | 'direct'; action: 'start' | 'stop' | 'status' }
  | { source: 'schedule'; action: 'enforce-max-runtime' }
  | { source: 'alarm'; action: 'idle-stop'; detail: string }
  | { source: 'alarm'; action: 'jobs-start'; detail: string }
  | { source: 'spot'; action: 'spot-warning'; detail: string };

export type Parsed = { ok: true; value: GpuRequest } | { ok: false; error: string; http: boolean };

const ACTIONS = ['start', 'stop', 'status'] as const;

/**
 * `jobsWaitingAlarm`: the name of the alarm that means "a ComfyUI job waits in the queue" (env JOBS_WAITING_ALARM);
 * its ALARM starts the GPU, every other alarm's ALARM is the idle stop.
 */
export function parseRequest(event: unknown, jobsWaitingAlarm?: string): Parsed {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { ok: false, error: 'malformed event: expected a JSON object', http: false };
  }
  const e = event as Record<string, unknown>;

  if (isFunctionUrlEvent(e)) return parseHttp(e);

  if (e.source === 'aws.cloudwatch' && e['detail-type'] === 'CloudWatch Alarm State Change') {
    const detail = e.detail as { alarmName?: string; state?: { value?: string } } | undefined;
    if (detail?.state?.value !== 'ALARM') return { ok: false, error: `alarm state ${detail?.state?.value ?? '?'} is not ALARM: nothing to do`, http: false };
    if (jobsWaitingAlarm && detail.alarmName === jobsWaitingAlarm) {
      return { ok: true, value: { source: 'alarm', action: 'jobs-start', detail: detail.alarmName } };
    }
    return { ok: true, value: { source: 'alarm', action: 'idle-stop', detail: detail.alarmName ?? 'unknown' } };
  }
  if (e.source === 'aws.ec2' && typeof e['detail-type'] === 'string'
    && /Spot Instance Interruption Warning|Instance Rebalance Recommendation/.test(e['detail-type'])) {
    return { ok: true, value: { source: 'spot', action: 'spot-warning', detail: e['detail-type'] } };
  }
  if (e.action === 'enforce-max-runtime') return { ok: true, value: { source: 'schedule', action: 'enforce-max-runtime' } };
  if ('action' in e) {
    return isAction(e.action)
      ? { ok: true, value: { source: 'direct', action: e.action } }
      : { ok: false, error: unknownAction(e.action), http: false };
  }
  return { ok: false, error: 'malformed event: no action, and not an alarm, Spot or schedule event', http: false };
}

function isFunctionUrlEvent(e: Record<string, unknown>): boolean {
  return typeof e.requestContext === 'object' && e.requestContext !== null && 'http' in (e.requestContext as object);
}

/** `POST /start`, `GET /status`, or `POST /` with `{"action":"start"}`. */
function parseHttp(e: Record<string, unknown>): Parsed {
  const method = ((e.requestContext as { http: { method?: string } }).http.method ?? 'GET').toUpperCase();
  const fromPath = String(e.rawPath ?? '/').replace(/^\/+|\/+$/g, '');
  let action: unknown = fromPath || undefined;
  if (!action && e.body) {
    const text = e.isBase64Encoded ? Buffer.from(String(e.body), 'base64').toString('utf8') : String(e.body);
    try {
      action = (JSON.parse(text) as { action?: unknown }).action;
    } catch {
      return { ok: false, error: 'malformed body: expected JSON like {"action":"start"}', http: true };
    }
  }
  if (action === undefined) action = (e.queryStringParameters as Record<string, string> | undefined)?.action;
  if (action === undefined) return { ok: false, error: 'no action: call /start, /stop or /status', http: true };
  if (!isAction(action)) return { ok: false, error: unknownAction(action), http: true };
  if (action !== 'status' && method !== 'POST') return { ok: false, error: `${action} changes the GPU: use POST`, http: true };
  return { ok: true, value: { source: 'http', action } };
}

function isAction(value: unknown): value is (typeof ACTIONS)[number] {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

function unknownAction(value: unknown): string {
  return `unknown action ${JSON.stringify(value)}: use start, stop or status`;
}
