/**
 * A few seconds of memory for status reads, shared by every caller: a burst of dashboard polls makes one AWS
 * call. A read already in flight is joined (single-flight) rather than repeated. Failures are not cached.
 */
export class TtlCache {
  private readonly entries = new Map<string, { value: unknown; until: number }>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) return hit.value as T;
    const running = this.inflight.get(key);
    if (running) return running as Promise<T>;
    const p = load().then((value) => {
      if (this.ttlMs > 0) this.entries.set(key, { value, until: this.now() + this.ttlMs });
      return value;
    }).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** After a change (start, stop, deploy) the next read must see it. */
  invalidate(prefix = ''): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** Concurrent calls with the same key share one run (the first caller's); the next call after it ends runs anew. */
export class SingleFlight {
  private readonly running = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const existing = this.running.get(key);
    if (existing) return { promise: existing as Promise<T>, joined: true };
    const p = fn().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return { promise: p, joined: false };
  }
}
