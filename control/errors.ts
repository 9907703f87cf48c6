/** Why a capability call did not run or did not succeed: one line, and the HTTP status an adapter maps it to. */
export type ControlErrorKind =
  | 'unauthenticated' | 'unknown-agent' | 'unknown-capability' | 'forbidden' | 'bad-params' | 'rate-limited'
  | 'timeout' | 'failed';

const STATUS: Record<ControlErrorKind, number> = {
  unauthenticated: 401,
  'unknown-agent': 403,
  'unknown-capability': 404,
  forbidden: 403,
  'bad-params': 400,
  'rate-limited': 429,
  timeout: 504,
  failed: 502,
};

export class ControlError extends Error {
  constructor(readonly kind: ControlErrorKind, message: string) {
    super(message.split('\n')[0]);
    this.name = 'ControlError';
  }

  get status(): number {
    return STATUS[this.kind];
  }

  /** Refusals happen before the handler runs: nothing was changed. */
  get refused(): boolean {
    return !['timeout', 'failed'].includes(this.kind);
  }
}
