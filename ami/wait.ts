/** Polling with a deadline, interruptible by an AbortSignal (Ctrl-C), with an injectable sleep for tests. */

/** The operator pressed Ctrl-C (or the caller aborted): unwind and clean up. */
export class InterruptedError extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** A wait ran out of time. */
export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/** sleep(ms, signal, what): resolves after ms, rejects with InterruptedError as soon as signal aborts. */
export type Sleep = (ms: number, signal: AbortSignal | undefined, what: string) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}

export interface PollOptions {
  /** "instance i-0abc running": names the wait in progress lines, timeouts and the test hooks */
  what: string;
  intervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  sleep: Sleep;
  now: () => number;
}

/**
 * Calls check() until it returns a value (not undefined); check() may throw to give up (e.g. "the instance was
 * terminated"). Interrupted: InterruptedError. Out of time: WaitTimeoutError.
 */
export async function poll<T>(check: () => Promise<T | undefined>, o: PollOptions): Promise<T> {
  const deadline = o.now() + o.timeoutMs;
  for (;;) {
    throwIfInterrupted(o.signal);
    const v = await check();
    if (v !== undefined) return v;
    if (o.now() >= deadline) throw new WaitTimeoutError(`timed out after ${Math.round(o.timeoutMs / 1000)} s waiting for ${o.what}`);
    await o.sleep(o.intervalMs, o.signal, o.what);
  }
}

/** Resolves/rejects with p, or rejects with InterruptedError as soon as signal aborts (p is left to settle). */
export function raceInterrupt<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new InterruptedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      p.catch(() => undefined);
      reject(new InterruptedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
