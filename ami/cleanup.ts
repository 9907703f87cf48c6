/**
 * The bake's cleanup stack: every AWS resource is pushed the moment it exists (or, for the builder instance, just
 * before it may exist), and the stack unwinds last-in first-out on success, failure and Ctrl-C alike. One entry
 * failing does not stop the others; what could not be removed is reported by name so nothing leaks silently.
 */
export interface CleanupEntry {
  /** what it removes, e.g. "security group sg-0abc (ziggie-bake-ami-…)" */
  readonly label: string;
  /** no longer to be removed (e.g. the image once it is published) */
  disarm(): void;
}

export interface CleanupFailure {
  label: string;
  error: string;
}

interface Item {
  label: string;
  fn: () => Promise<void>;
  armed: boolean;
}

export class CleanupStack {
  private readonly items: Item[] = [];
  private running = false;

  push(label: string, fn: () => Promise<void>): CleanupEntry {
    if (this.running) throw new Error(`cleanup already running: cannot register ${label}`);
    const item: Item = { label, fn, armed: true };
    this.items.push(item);
    return {
      label,
      disarm: () => {
        item.armed = false;
      },
    };
  }

  /** Labels still to be removed, newest first. */
  pending(): string[] {
    return this.items.filter((i) => i.armed).map((i) => i.label).reverse();
  }

  /**
   * Unwinds every armed entry, newest first, each at most once. Returns the entries that failed (their labels
   * name the resource to remove by hand, or with --sweep).
   */
  async run(log: (line: string) => void = () => undefined): Promise<CleanupFailure[]> {
    this.running = true;
    const failures: CleanupFailure[] = [];
    try {
      for (let i = this.items.length - 1; i >= 0; i--) {
        const item = this.items[i]!;
        if (!item.armed) continue;
        item.armed = false;
        const failure = await removeNow(item.label, item.fn, log);
        if (failure) failures.push(failure);
      }
    } finally {
      this.running = false;
    }
    return failures;
  }
}

/** Remove one thing now and say so: the failure (labelled for a later --sweep or a human), or undefined. */
export async function removeNow(label: string, fn: () => Promise<void>, log: (line: string) => void): Promise<CleanupFailure | undefined> {
  try {
    await fn();
    log(`  removed ${label}`);
    return undefined;
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    log(`  could NOT remove ${label}: ${error}`);
    return { label, error };
  }
}
