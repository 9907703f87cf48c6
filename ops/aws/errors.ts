/**
 * AWS errors → one line that says what happened and what to do next. Used by the CLI's top-level handler so a
 * failure never ends in a stack trace.
 */
import { awsErrorCode } from '../../shared/aws-errors';
import { CAPACITY_HINTS } from '../../gpu-control/control';

const ACCESS_DENIED = new Set([
  'AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedException', 'AuthorizationError',
]);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException', 'InvalidClientTokenId', 'AuthFailure', 'SignatureDoesNotMatch', 'InvalidSignatureException',
]);
const THROTTLING = new Set([
  'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestLimitExceeded', 'TooManyRequestsException',
  'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'LimitExceededException', 'ProvisionedThroughputExceededException',
]);
const NETWORK = new Set(['ENOTFOUND', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'TimeoutError', 'NetworkingError']);

/** True for the errors the SDK's retry strategy treats as throttling. */
export function isThrottling(err: unknown): boolean {
  const code = awsErrorCode(err);
  return code !== undefined && THROTTLING.has(code);
}

function attempts(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { attempts?: number } } | null)?.$metadata;
  return meta?.attempts;
}

function firstLine(text: unknown): string {
  return String(text ?? '').split('\n')[0].trim();
}

/** One line, no stack: what happened and what to do next. `doing` names the operation ("starting the GPU"). */
export function explainAwsError(err: unknown, doing?: string): string {
  // already one line naming the endpoint (ops/aws/timeouts.ts)
  if ((err as { name?: string } | null)?.name === 'AwsEndpointError') return `${(err as Error).message}${doing ? ` (${doing})` : ''}`;
  const code = awsErrorCode(err);
  const message = firstLine((err as { message?: unknown } | null)?.message);
  const during = doing ? ` while ${doing}` : '';
  if (code && ACCESS_DENIED.has(code)) {
    return `AWS denied access${during} (${code}): ${message || 'no detail'} — check who you are (\`aws sts get-caller-identity\`) and that the role has the ziggie operator policy`;
  }
  if (code && EXPIRED.has(code)) {
    return `AWS credentials have expired${during} (${code}): refresh them (\`aws sso login\` or a new session) and run the command again`;
  }
  if (code && BAD_CREDENTIALS.has(code)) {
    return `AWS does not recognise these credentials${during} (${code}): check AWS_PROFILE / AWS_ACCESS_KEY_ID and that the key is active`;
  }
  if (code === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return `no AWS credentials found${during}: set AWS_PROFILE (or run \`aws configure\` / \`aws sso login\`) and run the command again`;
  }
  if (code && CAPACITY_HINTS[code]) {
    return `${code}${during}: ${CAPACITY_HINTS[code].message}`;
  }
  if (code && THROTTLING.has(code)) {
    const n = attempts(err);
    return `AWS is throttling requests${during} (${code}${n ? `, gave up after ${n} attempts with adaptive back-off` : ''}): wait a minute and run it again, or raise ops.awsMaxAttempts`;
  }
  const errno = (err as { code?: unknown } | null)?.code;
  if ((code && NETWORK.has(code)) || (typeof errno === 'string' && NETWORK.has(errno))) {
    return `cannot reach AWS${during} (${typeof errno === 'string' ? errno : code}): check the network, proxy and region`;
  }
  if (code === 'ResourceNotFoundException' || code === 'InvalidInstanceID.NotFound') {
    return `not found${during} (${code}): ${message} — has the stack that creates it been deployed (cdktf deploy …)?`;
  }
  return `${code && code !== 'Error' ? `${code}: ` : ''}${message || String(err)}${during ? ` (${during.trim()})` : ''}`;
}
