/**
 * Connections opened while a playbook script is still loading its config and building its tasks. The SSH
 * handshake is mostly waiting on the host, so it overlaps that work instead of following it. The runner takes
 * each host's connection once (pass `connect` in RunOptions); `close()` closes the ones nobody took.
 *
 * Only for runs that go ahead without asking: a run that may still stop at a question, or that may record a new
 * host key (trustNewHostKey writes known_hosts), connects when the runner gets there.
 */
import type { Remote } from './connection';
import type { InventoryHost } from './inventory';

/** How to reach a host (RunOptions.connect has this shape). */
type Connect = (host: InventoryHost, notice: (msg: string) => void) => Promise<Remote>;

export interface Preconnected {
  /** The runner's `connect`: a host's early connection the first time, a new one after that. */
  connect: Connect;
  /**
   * Close the connections the runner did not take: those already open now, those still in their handshake as
   * soon as it ends (nobody waits for a handshake that is no longer needed).
   */
  close(): void;
}

interface Early {
  remote: Promise<Remote>;
  notices: string[];
  forward?: (msg: string) => void;
  taken: boolean;
}

export function preconnect(hosts: readonly InventoryHost[], open: Connect): Preconnected {
  const early = new Map<string, Early>();
  for (const h of hosts) {
    const e = { notices: [], taken: false } as unknown as Early;
    e.remote = open(h, (msg) => (e.forward ? e.forward(msg) : e.notices.push(msg)));
    // a failure is reported by the runner when it takes the connection, or dropped by close()
    e.remote.catch(() => undefined);
    early.set(h.name, e);
  }
  return {
    connect(h, notice) {
      const e = early.get(h.name);
      if (!e || e.taken) return open(h, notice);
      e.taken = true;
      for (const m of e.notices.splice(0)) notice(m);
      e.forward = notice;
      return e.remote;
    },
    close() {
      for (const e of early.values()) {
        if (e.taken) continue;
        e.taken = true;
        e.remote.then((r) => r.close(), () => undefined).catch(() => undefined);
      }
    },
  };
}

/**
 * Let the event loop take its pending I/O: an early connection's handshake moves on one round trip per call.
 * Called between the long synchronous steps that follow preconnect().
 */
export function letHandshakesMove(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
