/**
 * The error code of an AWS SDK (or Node) error. The SDK v3 sets `name` to the service's code and EC2 also copies it
 * to `Code`; a Node system error carries its errno in `code` while its `name` is the generic "Error" — so the
 * specific fields come first and `name` is only the fallback.
 */
export function awsErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; Code?: unknown; code?: unknown };
  const code = e.Code ?? e.code ?? e.name;
  return typeof code === 'string' ? code : undefined;
}
