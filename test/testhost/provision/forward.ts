/**
 * A second loopback forwarder into a test host's sshd with TCP_NODELAY on both hops.
 *
 * Why: the harness's socat forwarder (test/harness/testhost/host.ts) runs without `nodelay`, so Nagle's algorithm
 * on socat's sockets meets delayed ACKs: a small SSH packet that follows another within one round trip waits
 * ~40 ms. That adds ~40 ms to several steps of every SSH handshake and to the first command of every connection,
 * which a direct connection to a VPS does not pay. The benchmark connects both Ansible and this library through
 * this forwarder (same path for both). Proposed upstream fix: add `nodelay` to both socat addresses there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, type TestHost } from '../../harness/testhost';

export interface Forward {
  port: number;
  knownHostsLine: string;
  knownHostsPath: string;
  stop(): void;
}

const live = new Set<() => void>();
let hooked = false;

export async function nodelayForward(h: TestHost): Promise<Forward> {
  const rec = JSON.parse(readFileSync(path.join(h.stateDir, 'host.json'), 'utf8')) as { leader?: { pid: number } };
  const leader = rec.leader?.pid;
  if (!leader) throw new Error(`${h.name}: no guest leader PID in host.json`);
  const port = await freePort();
  // two long-running socats joined by a unix socket: one in the guest's network namespace, one on the machine's
  // loopback. Each connection costs two forks and no exec (the harness's forwarder execs nsenter + socat per
  // connection), so 10 hosts connecting at once compete less for the CPU.
  const sock = path.join(h.stateDir, `nodelay-${port}.sock`);
  const inner: ChildProcess = spawn(
    'nsenter',
    [`--net=/proc/${leader}/ns/net`, 'socat', `UNIX-LISTEN:${sock},fork,unlink-early`, `TCP:127.0.0.1:${h.port},nodelay`],
    { stdio: 'ignore', detached: true },
  );
  const outer: ChildProcess = spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay`, `UNIX-CONNECT:${sock}`], {
    stdio: 'ignore',
    detached: true,
  });
  const stop = (): void => {
    live.delete(stop);
    for (const p of [outer, inner]) {
      try {
        process.kill(-p.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  };
  live.add(stop);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => [...live].forEach((f) => f()));
  }
  for (let i = 0; ; i++) {
    // ready when a connection through both hops gets sshd's banner
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.setTimeout(1000, () => (s.destroy(), resolve(false)));
      s.once('data', (d: Buffer) => (s.destroy(), resolve(d.toString().startsWith('SSH-'))));
      s.once('error', () => resolve(false));
      s.once('close', () => resolve(false));
    });
    if (ok) break;
    if (i > 100) {
      stop();
      throw new Error(`${h.name}: nodelay forwarder on ${port} did not start`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const knownHostsLine = `[127.0.0.1]:${port} ${h.hostKey}`;
  const knownHostsPath = path.join(h.stateDir, `known_hosts.nodelay-${port}`);
  writeFileSync(knownHostsPath, knownHostsLine + '\n');
  return { port, knownHostsLine, knownHostsPath, stop };
}
