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
        try {
          await item.fn();
          log(`  removed ${item.label}`);
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          failures.push({ label: item.label, error });
          log(`  could NOT remove ${item.label}: ${error}`);
        }
      }
    } finally {
      this.running = false;
    }
    return failures;
  }
}
