/**
 * Circuit breakers (opossum) for the things the AWS SDK does not guard: the Hostinger API and SSH checks.
 * After a few failures in a row the circuit opens and calls fail at once with a clear line instead of each
 * waiting for its own timeout; after `resetTimeout` one trial call is let through (half-open).
 */
import CircuitBreaker from 'opossum';

export interface BreakerOptions {
  /** Failures (in %) within the rolling window that open the circuit. */
  errorThresholdPercentage?: number;
  /** Calls in the window before the percentage counts. */
  volumeThreshold?: number;
  /** How long the circuit stays open before one trial call. */
  resetTimeout?: number;
  /** Errors for which this returns true do not count as failures (e.g. a 401 is our fault, not the service's). */
  errorFilter?: (err: unknown) => boolean;
}

export const BREAKER_DEFAULTS: Required<Omit<BreakerOptions, 'errorFilter'>> = {
  errorThresholdPercentage: 50,
  volumeThreshold: 3,
  resetTimeout: 30_000,
};

export class CircuitOpenError extends Error {
  constructor(readonly service: string, readonly retryInSeconds: number) {
    super(`${service}: circuit open after repeated failures; not calling it again for ~${retryInSeconds} s`);
    this.name = 'CircuitOpenError';
  }
}

/** Wrap `fn` in a breaker named `service`; its open-circuit rejections become CircuitOpenError. */
export function withBreaker<A extends unknown[], R>(service: string, fn: (...args: A) => Promise<R>, options: BreakerOptions = {}):
  { fire: (...args: A) => Promise<R>; breaker: CircuitBreaker<A, R> } {
  const opts = { ...BREAKER_DEFAULTS, ...options };
  const breaker = new CircuitBreaker<A, R>(fn, {
    name: service,
    // Our callers set their own timeouts (an AbortSignal, ssh's ConnectTimeout) so the work is really cancelled.
    timeout: false,
    errorThresholdPercentage: opts.errorThresholdPercentage,
    volumeThreshold: opts.volumeThreshold,
    resetTimeout: opts.resetTimeout,
    errorFilter: options.errorFilter,
  });
  const fire = async (...args: A): Promise<R> => {
    try {
      return await breaker.fire(...args);
    } catch (err) {
      if ((err as { code?: string }).code === 'EOPENBREAKER') throw new CircuitOpenError(service, Math.ceil(opts.resetTimeout / 1000));
      throw err;
    }
  };
  return { fire, breaker };
}
