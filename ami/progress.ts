/** Progress lines with the elapsed time per phase and in all: "▶ phase", then "✓ phase (12.3 s; 4 min 05 s in all)". */
import { throwIfInterrupted } from './wait';

export interface PhaseTiming {
  name: string;
  ms: number;
  ok: boolean;
}

export function formatMs(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export class Progress {
  readonly phases: PhaseTiming[] = [];
  private readonly t0: number;

  constructor(
    private readonly log: (line: string) => void,
    private readonly now: () => number,
  ) {
    this.t0 = now();
  }

  /** Runs one phase; a phase never starts once the signal has fired. */
  async phase<T>(name: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    throwIfInterrupted(signal);
    const t = this.now();
    this.log(`▶ ${name}`);
    try {
      const v = await fn();
      const ms = this.now() - t;
      this.phases.push({ name, ms, ok: true });
      this.log(`✓ ${name} (${formatMs(ms)}; ${formatMs(this.now() - this.t0)} in all)`);
      return v;
    } catch (e) {
      const ms = this.now() - t;
      this.phases.push({ name, ms, ok: false });
      const why = (e as Error)?.name === 'InterruptedError' ? 'interrupted' : (e as Error)?.message ?? String(e);
      this.log(`✗ ${name} after ${formatMs(ms)}: ${why}`);
      throw e;
    }
  }
}
