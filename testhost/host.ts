/**
 * Boot and stop disposable Debian hosts: systemd as PID 1 under systemd-nspawn, on an overlay of the cached
 * rootfs (+ Docker layer) with a fresh upper dir per host, in its own network namespace. sshd listens on the
 * guest's 127.0.0.1:<port>; a socat on the machine's 127.0.0.1:<port> forwards into the guest's netns.
 *
 * Each host is described by `<state>/<name>/host.json` (PIDs with start times, cgroups), so any process (the CLI's
 * `down`, a later test run) can stop it and remove everything it left.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { cachePaths, ensureCache } from './cache';
import { cgroupPids, createHostCgroups, inCgroups, killCgroups } from './cgroup';
import { debianMirror, stateRoot } from './paths';
import { alive, childrenOf, comm, run, runOk, signal, spawnDetached, startTime, waitFor, type RunResult } from './proc';

export interface BootOptions {
  /** Port on 127.0.0.1 (and sshd's port inside the guest). Default: a free one. */
  port?: number;
  /** Machine name, hostname and state dir name. Default `th-<port>`. */
  name?: string;
  /** Stack the Docker layer (docker.io, Compose v2, local/busybox:latest). Default true. */
  withDocker?: boolean;
  /** Relay the guest's apt to the Debian mirror (docs/testhost.md). Default true. */
  aptRelay?: boolean;
  /** Also wait for `systemctl is-system-running --wait` (boot finished, docker up). Default false. */
  waitForSystem?: boolean;
  /** Leave the host running when this process exits (the CLI's `up`). Default false: stopped on exit. */
  keepAfterExit?: boolean;
  timeoutMs?: number;
}

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
}

export interface TestHost {
  name: string;
  host: '127.0.0.1';
  port: number;
  user: 'root';
  privateKeyPath: string;
  /** The guest's host public key, `ssh-ed25519 AAAA…`. */
  hostKey: string;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  hostKeyFingerprint: string;
  /** `[127.0.0.1]:<port> ssh-ed25519 AAAA…` */
  knownHostsLine: string;
  /** A known_hosts file holding just `knownHostsLine`. */
  knownHostsPath: string;
  withDocker: boolean;
  stateDir: string;
  /** Milliseconds from the boot call to ssh-ready. */
  bootMs: number;
  /** Arguments for `ssh` (ending with `root@127.0.0.1`): strict host key checking against knownHostsPath. */
  sshArgs(): string[];
  /** Run a shell command as root over ssh. */
  exec(command: string, opts?: ExecOptions): Promise<RunResult>;
  /** `systemctl is-system-running --wait`: resolves to the state (`running` when boot finished cleanly). */
  waitForSystem(timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

interface Proc {
  pid: number;
  start: number;
}

interface HostRecord {
  name: string;
  port: number;
  withDocker: boolean;
  stateDir: string;
  nspawn: Proc;
  leader?: Proc;
  /** socat forwarders, each the leader of its own process group. */
  daemons: Proc[];
  cgroups: string[];
  owner: Proc;
  keepAfterExit: boolean;
  createdAt: string;
}

export interface HostStatus {
  name: string;
  port: number;
  running: boolean;
  withDocker: boolean;
  stateDir: string;
  createdAt: string;
}

const GUEST_APT_PROXY_PORT = 3142;
const STOP_GRACE_MS = 3_000;
const reservedPorts = new Set<number>();
const ownHosts = new Map<string, HostRecord>();
let exitHookInstalled = false;

class PortBusy extends Error {}

export async function bootHost(opts: BootOptions = {}): Promise<TestHost> {
  const t0 = Date.now();
  const withDocker = opts.withDocker ?? true;
  await ensureCache({ docker: withDocker });
  await collectGarbage();
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await bootOnce(port, opts.name ?? `th-${port}`, withDocker, opts, t0);
    } catch (e) {
      // an automatically chosen port can be taken between freePort() and socat's bind: take another
      if (!(e instanceof PortBusy) || opts.port || opts.name || attempt >= 3) throw e;
    }
  }
}

/** A port on 127.0.0.1 that nothing listens on (and that this process has not handed out before). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    if (!reservedPorts.has(port)) {
      reservedPorts.add(port);
      return port;
    }
  }
}

async function bootOnce(port: number, name: string, withDocker: boolean, opts: BootOptions, t0: number): Promise<TestHost> {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new Error(`invalid test host name: ${name}`);
  const cache = cachePaths();
  const stateDir = path.join(stateRoot(), name);
  reserveStateDir(stateDir);
  const rec: HostRecord = {
    name, port, withDocker, stateDir, cgroups: [], daemons: [], owner: { pid: process.pid, start: startTime(process.pid) ?? 0 },
    keepAfterExit: !!opts.keepAfterExit, createdAt: new Date().toISOString(), nspawn: { pid: 0, start: 0 },
  };
  try {
    const upper = path.join(stateDir, 'upper');
    // own /var/lib/docker on the host filesystem (not the overlay): overlay2 works and nothing is shared
    const [hostKey] = await Promise.all([
      writeGuestConfig(upper, name, port, cache.clientPublicKey, opts.aptRelay ?? true),
      withDocker ? runOk('cp', ['-a', cache.dockerLib, path.join(stateDir, 'docker')]) : undefined,
    ]);
    const knownHostsLine = `[127.0.0.1]:${port} ${hostKey}`;
    const knownHostsPath = path.join(stateDir, 'known_hosts');
    writeFileSync(knownHostsPath, knownHostsLine + '\n');
    for (const d of ['work', 'merged']) mkdirSync(path.join(stateDir, d));
    const nspawnArgs = [
      'systemd-nspawn', '--quiet', '--register=no', '--keep-unit', '-D', path.join(stateDir, 'merged'), '-M', name,
      '--private-network', '--system-call-filter=add_key', '--system-call-filter=keyctl', '--boot',
    ];
    const lower = [cache.rootfs];
    if (withDocker) {
      nspawnArgs.splice(nspawnArgs.length - 1, 0, `--bind=${path.join(stateDir, 'docker')}:/var/lib/docker`);
      lower.unshift(cache.dockerLayer);
    }
    const cgroups = createHostCgroups(name);
    rec.cgroups = cgroups;
    // joins the host's cgroups, then execs unshare -> sh -> systemd-nspawn: one PID throughout, so SIGTERM
    // reaches nspawn, which powers the guest off
    const mountThenExec = 'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3,volatile,redirect_dir=on" "$4"; shift 4; exec "$@"';
    const [cmd, args] = inCgroups(cgroups, [
      'unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-ec', mountThenExec, 'sh',
      lower.join(':'), upper, path.join(stateDir, 'work'), path.join(stateDir, 'merged'), ...nspawnArgs,
    ]);
    rec.nspawn = spawnDetached(cmd, args, path.join(stateDir, 'nspawn.log'));
    saveRecord(rec);
    ownHosts.set(name, rec);
    if (!rec.keepAfterExit) installExitHook();

    // the guest's PID 1 is the child of nspawn that runs systemd (nspawn first forks a short-lived helper)
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const leader = await waitFor(() => {
      if (!alive(rec.nspawn.pid, rec.nspawn.start)) throw new Error(`systemd-nspawn exited:\n${logTail(stateDir)}`);
      return childrenOf(rec.nspawn.pid).find((c) => comm(c) === 'systemd');
    }, timeoutMs, 5);
    if (!leader) throw new Error(`no guest systemd after ${timeoutMs} ms:\n${logTail(stateDir)}`);
    rec.leader = { pid: leader, start: startTime(leader) ?? 0 };
    const guestNet = `--net=/proc/${leader}/ns/net`;
    rec.daemons.push(spawnDetached('socat', [
      // nodelay on both legs: without it small SSH packets wait on Nagle behind the relay (~40 ms stalls).
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay`,
      `EXEC:nsenter ${guestNet} socat STDIO TCP\\:127.0.0.1\\:${port}\\,nodelay`,
    ], path.join(stateDir, 'forward.log')));
    const mirror = aptMirror();
    if ((opts.aptRelay ?? true) && mirror) {
      // guest 127.0.0.1:3142 -> unix socket -> the mirror; apt in the guest uses it as its HTTP proxy
      const sock = path.join(stateDir, 'apt.sock');
      rec.daemons.push(spawnDetached('socat', [
        `UNIX-LISTEN:${sock},fork,unlink-early`, `TCP:${mirror.host}:${mirror.port}`,
      ], path.join(stateDir, 'apt-relay.log')));
      rec.daemons.push(spawnDetached('nsenter', [
        guestNet, 'socat', `TCP-LISTEN:${GUEST_APT_PROXY_PORT},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${sock}`,
      ], path.join(stateDir, 'apt-relay.log')));
    }
    saveRecord(rec);

    const forwarder = rec.daemons[0];
    const banner = await waitFor(async () => {
      if (!alive(rec.nspawn.pid, rec.nspawn.start)) throw new Error(`systemd-nspawn exited:\n${logTail(stateDir)}`);
      if (!alive(forwarder.pid, forwarder.start)) {
        const log = readFileSync(path.join(stateDir, 'forward.log'), 'utf8');
        if (/Address already in use/.test(log)) throw new PortBusy(`port ${port} is in use`);
        throw new Error(`ssh forwarder exited: ${log}`);
      }
      // poll the guest's socket table (a file read) rather than connecting: each connection through the
      // forwarder costs three execs, which adds up when ten hosts boot at once on two cores
      return guestListening(leader, port) && sshBanner(port);
    }, timeoutMs, 20);
    if (!banner) throw new Error(`sshd not ready after ${timeoutMs} ms:\n${logTail(stateDir)}`);
    const host = makeHost(rec, { hostKey, knownHostsLine, knownHostsPath, bootMs: 0 });
    const ok = await waitFor(async () => (await host.exec('true', { timeoutMs: 10_000 })).code === 0, 5_000, 50);
    if (!ok) throw new Error(`ssh login failed: ${(await host.exec('true')).stderr}`);
    host.bootMs = Date.now() - t0;
    if (opts.waitForSystem) await host.waitForSystem(timeoutMs);
    return host;
  } catch (e) {
    await stopRecord(rec);
    ownHosts.delete(name);
    throw e;
  }
}

function makeHost(rec: HostRecord, k: { hostKey: string; knownHostsLine: string; knownHostsPath: string; bootMs: number }): TestHost {
  const privateKeyPath = cachePaths().clientKey;
  const sshArgs = (): string[] => [
    '-F', '/dev/null', // no user or system config: nothing like `SendEnv LANG LC_*` or a stray IdentityFile
    '-i', privateKeyPath, '-p', String(rec.port),
    '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${k.knownHostsPath}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10', 'root@127.0.0.1',
  ];
  const host: TestHost = {
    name: rec.name,
    host: '127.0.0.1',
    port: rec.port,
    user: 'root',
    privateKeyPath,
    hostKey: k.hostKey,
    hostKeyFingerprint: fingerprint(k.hostKey),
    knownHostsLine: k.knownHostsLine,
    knownHostsPath: k.knownHostsPath,
    withDocker: rec.withDocker,
    stateDir: rec.stateDir,
    bootMs: k.bootMs,
    sshArgs,
    exec: (command, o = {}) => run('ssh', [...sshArgs(), '--', command], { input: o.input, timeoutMs: o.timeoutMs }),
    async waitForSystem(timeoutMs = 60_000) {
      const r = await host.exec('systemctl is-system-running --wait', { timeoutMs });
      return r.stdout.trim() || r.stderr.trim();
    },
    async stop() {
      await stopRecord(rec);
      ownHosts.delete(rec.name);
    },
  };
  return host;
}

/** Stop every host booted by this process (for afterAll). */
export async function stopOwnHosts(): Promise<void> {
  await Promise.all([...ownHosts.values()].map((rec) => stopRecord(rec)));
  ownHosts.clear();
}

/** Stop every host under the state dir, whoever started it, and clean leftovers of dead ones. */
export async function stopAll(): Promise<string[]> {
  const recs = readRecords();
  await Promise.all(recs.map((r) => stopRecord(r)));
  for (const r of recs) ownHosts.delete(r.name);
  return recs.map((r) => r.name);
}

export async function stopHost(name: string): Promise<boolean> {
  const rec = readRecords().find((r) => r.name === name);
  if (!rec) return false;
  await stopRecord(rec);
  ownHosts.delete(name);
  return true;
}

export function listHosts(): HostStatus[] {
  return readRecords().map((r) => ({
    name: r.name, port: r.port, withDocker: r.withDocker, stateDir: r.stateDir, createdAt: r.createdAt,
    running: alive(r.nspawn.pid, r.nspawn.start),
  }));
}

/** Reattach to a running host by name (e.g. one started by the CLI). */
export function getHost(name: string): TestHost | undefined {
  const rec = readRecords().find((r) => r.name === name && alive(r.nspawn.pid, r.nspawn.start));
  if (!rec) return undefined;
  const knownHostsPath = path.join(rec.stateDir, 'known_hosts');
  const knownHostsLine = readFileSync(knownHostsPath, 'utf8').trim();
  const hostKey = knownHostsLine.split(' ').slice(1).join(' ');
  return makeHost(rec, { hostKey, knownHostsLine, knownHostsPath, bootMs: 0 });
}

/**
 * Forwarders first, then SIGTERM to nspawn: an orderly poweroff of the guest (~0.2 s). The state is wiped anyway,
 * so a guest slow to power off (e.g. docker waits 10 s for a container that ignores SIGTERM) is killed after
 * STOP_GRACE_MS.
 */
async function stopRecord(rec: HostRecord): Promise<void> {
  for (const d of rec.daemons) if (alive(d.pid, d.start)) signal(-d.pid, 'SIGTERM');
  const { pid, start } = rec.nspawn;
  if (alive(pid, start)) {
    signal(pid, 'SIGTERM');
    if (!(await waitFor(() => !alive(pid, start), STOP_GRACE_MS, 10))) {
      signal(pid, 'SIGKILL');
      // the guest's PID namespace survives nspawn's death; killing its PID 1 ends it
      if (rec.leader && alive(rec.leader.pid, rec.leader.start)) signal(rec.leader.pid, 'SIGKILL');
    }
  }
  await waitFor(() => rec.cgroups.flatMap(cgroupPids).length === 0, 3_000, 20);
  for (const d of rec.daemons) {
    if (!(await waitFor(() => !alive(d.pid, d.start), 2_000, 10))) signal(-d.pid, 'SIGKILL');
  }
  const failed = await killCgroups(rec.cgroups); // stragglers, if any
  rmSync(rec.stateDir, { recursive: true, force: true });
  if (failed.length) throw new Error(`test host ${rec.name}: could not remove cgroups ${failed.join(', ')}`);
}

/**
 * Clean up after hosts whose nspawn is gone, hosts whose owner died without stopping them (a killed test run;
 * CLI hosts are kept), and half-created state dirs.
 */
async function collectGarbage(): Promise<void> {
  const root = stateRoot();
  if (!existsSync(root)) return;
  const orphaned = (r: HostRecord): boolean => !r.keepAfterExit && !alive(r.owner?.pid, r.owner?.start);
  const stale = readRecords().filter((r) => !ownHosts.has(r.name) && (!alive(r.nspawn.pid, r.nspawn.start) || orphaned(r)));
  await Promise.all(stale.map((r) => stopRecord(r)));
  for (const d of readdirSync(root)) {
    const dir = path.join(root, d);
    if (!existsSync(path.join(dir, 'host.json')) && Date.now() - statSync(dir).mtimeMs > 120_000) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

function reserveStateDir(stateDir: string): void {
  mkdirSync(path.dirname(stateDir), { recursive: true });
  try {
    mkdirSync(stateDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw new PortBusy(`test host ${path.basename(stateDir)} exists already (${stateDir})`);
  }
}

/** The guest's own files, in its overlay upper dir. Returns the generated host public key. */
async function writeGuestConfig(upper: string, name: string, port: number, clientPub: string, aptRelay: boolean) {
  const f = (rel: string, content: string, mode?: number): void => {
    mkdirSync(path.dirname(path.join(upper, rel)), { recursive: true });
    writeFileSync(path.join(upper, rel), content, { mode });
  };
  f('etc/hostname', `${name}\n`);
  f('etc/hosts', `127.0.0.1\tlocalhost\n127.0.1.1\t${name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  f('etc/machine-id', randomBytes(16).toString('hex') + '\n', 0o444);
  if (existsSync('/etc/resolv.conf')) f('etc/resolv.conf', readFileSync('/etc/resolv.conf', 'utf8'));
  f('etc/ssh/sshd_config.d/10-ziggie-testhost.conf',
    `Port ${port}\nListenAddress 127.0.0.1\nHostKey /etc/ssh/ssh_host_ed25519_key\n`);
  mkdirSync(path.join(upper, 'root/.ssh'), { recursive: true, mode: 0o700 });
  copyFileSync(clientPub, path.join(upper, 'root/.ssh/authorized_keys'));
  const mirror = aptMirror();
  if (aptRelay && mirror) {
    f('etc/apt/apt.conf.d/01ziggie-testhost-proxy',
      `Acquire::http::Proxy::${mirror.host} "http://127.0.0.1:${GUEST_APT_PROXY_PORT}/";\n`);
  }
  const key = path.join(upper, 'etc/ssh/ssh_host_ed25519_key');
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', key]);
  return readFileSync(key + '.pub', 'utf8').trim().split(' ').slice(0, 2).join(' ');
}

function aptMirror(): { host: string; port: number } | undefined {
  const u = new URL(debianMirror());
  return u.protocol === 'http:' ? { host: u.hostname, port: Number(u.port || 80) } : undefined;
}

export function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1], 'base64');
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** Whether a TCP socket listens on 127.0.0.1:port (or any address) in the network namespace of `pid`. */
function guestListening(pid: number, port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  try {
    return readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
      .split('\n')
      .some((l) => {
        const [, local, , state] = l.trim().split(/\s+/);
        return state === '0A' && (local === `0100007F:${hexPort}` || local === `00000000:${hexPort}`);
      });
  } catch {
    return false;
  }
}

/** True once sshd (through the forwarder) sends its `SSH-2.0-…` banner. */
function sshBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (v: boolean): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(2_000, () => done(false));
    sock.once('data', (d: Buffer) => done(d.toString().startsWith('SSH-')));
    sock.once('error', () => done(false));
    sock.once('close', () => done(false));
  });
}

function saveRecord(rec: HostRecord): void {
  const file = path.join(rec.stateDir, 'host.json');
  writeFileSync(file + '.tmp', JSON.stringify(rec, null, 2));
  // rename: a concurrent reader never sees a half-written record
  renameSync(file + '.tmp', file);
}

function readRecords(): HostRecord[] {
  const root = stateRoot();
  if (!existsSync(root)) return [];
  const out: HostRecord[] = [];
  for (const d of readdirSync(root)) {
    try {
      out.push(JSON.parse(readFileSync(path.join(root, d, 'host.json'), 'utf8')) as HostRecord);
    } catch {
      /* no record (yet) */
    }
  }
  return out;
}

function logTail(stateDir: string): string {
  try {
    return readFileSync(path.join(stateDir, 'nspawn.log'), 'utf8').trim().split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

/** On exit, SIGTERM the hosts this process booted (synchronously; a later run's garbage collection wipes them). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const rec of ownHosts.values()) {
      if (rec.keepAfterExit) continue;
      for (const d of rec.daemons) if (alive(d.pid, d.start)) signal(-d.pid, 'SIGTERM');
      if (alive(rec.nspawn.pid, rec.nspawn.start)) signal(rec.nspawn.pid, 'SIGTERM');
    }
  });
}
