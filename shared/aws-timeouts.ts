/**
 * No silent waits on AWS: every client gets a connect timeout and a per-attempt request timeout (ops.connectTimeoutMs,
 * ops.requestTimeoutMs), and a call that times out or cannot connect fails with one line naming the endpoint it
 * was talking to, instead of the SDK's bare "socket timed out".
 */

/** What the SDK's Node handler takes as `requestHandler` options (no import of the handler itself needed). */
export interface AwsTimeouts {
  connectionTimeout: number;
  requestTimeout: number;
  socketTimeout: number;
  /** smithy only warns about an exceeded requestTimeout unless told to fail */
  throwOnRequestTimeout: true;
}

export function awsTimeouts(ops: { connectTimeoutMs: number; requestTimeoutMs: number }): AwsTimeouts {
  return { connectionTimeout: ops.connectTimeoutMs, requestTimeout: ops.requestTimeoutMs, socketTimeout: ops.requestTimeoutMs, throwOnRequestTimeout: true };
}

/** A call that got no answer in time, or could not connect: the message names the endpoint and the limit. */
export class AwsEndpointError extends Error {
  constructor(message: string, readonly endpoint: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'AwsEndpointError';
  }
}

const TIMEOUT = new Set(['TimeoutError', 'ETIMEDOUT', 'RequestTimeout', 'RequestTimeoutException']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const ENDPOINT = Symbol('ziggie.endpoint');

/**
 * Adds two middlewares: one records the endpoint of the request being sent (after endpoint resolution), the other,
 * outermost (so after every retry), turns a timeout or connection error into an AwsEndpointError.
 */
/** Any SDK v3 client (structurally: its middleware stack). */
export interface SdkClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  middlewareStack: { add: (...args: any[]) => void };
}
type Handler = (args: unknown) => Promise<unknown>;

export function nameEndpointOnFailure<C extends SdkClient>(client: C, timeouts: AwsTimeouts): C {
  const service = (client.constructor?.name ?? 'AWS').replace(/Client$/, '');
  client.middlewareStack.add((next: Handler, context: object) => async (args: unknown) => {
    const req = (args as { request?: { protocol?: string; hostname?: string; port?: number } }).request;
    if (req?.hostname) (context as Record<symbol, string>)[ENDPOINT] = `${req.protocol ?? 'https:'}//${req.hostname}${req.port ? `:${req.port}` : ''}`;
    return next(args);
  }, { step: 'finalizeRequest', priority: 'low', name: 'ziggieRecordEndpoint' });
  client.middlewareStack.add((next: Handler, context: { commandName?: string }) => async (args: unknown) => {
    try {
      return await next(args);
    } catch (e) {
      const err = e as { name?: string; code?: string; message?: string; $metadata?: { attempts?: number } };
      // the retry middleware may have re-wrapped a Node socket error, keeping only its text ("connect ECONNREFUSED …")
      const fromText = /\b(E[A-Z]+)\b/.exec(err.message ?? '')?.[1];
      const code = [err.code, err.name, fromText].find((c): c is string => !!c && (TIMEOUT.has(c) || UNREACHABLE.has(c)));
      if (!code) throw e;
      const endpoint = (context as Record<symbol, string>)[ENDPOINT] ?? `the ${service} endpoint`;
      const op = `${service} ${String(context.commandName ?? '').replace(/Command$/, '')}`.trim();
      const tries = err.$metadata?.attempts ? `, ${err.$metadata.attempts} attempt(s)` : '';
      const what = TIMEOUT.has(code)
        ? /did not establish a connection/.test(err.message ?? '')
          ? `could not connect to ${endpoint} within ${timeouts.connectionTimeout} ms`
          : `no answer from ${endpoint} within ${timeouts.requestTimeout} ms`
        : `cannot reach ${endpoint} (${code})`;
      throw new AwsEndpointError(`${op}: ${what}${tries} — check the network, proxy and region (ops.connectTimeoutMs / ops.requestTimeoutMs set the limits)`, endpoint, e);
    }
  }, { step: 'initialize', priority: 'high', name: 'ziggieNameEndpoint' });
  return client;
}
