/**
 * One SSH connection per host (ssh2): TCP_NODELAY, exec channels limited below sshd's MaxSessions, SFTP for
 * large uploads, `sudo -n` for become, connect/command timeouts, one reconnect after a dropped connection.
 *
 * Every remote command runs under /bin/sh with LC_ALL=C and a full PATH, whatever the login shell is.
 */
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { BecomeError, CommandError, ConnectionLostError, HostKeyError, UnreachableError } from './errors';
import { knownKeyTypes, verifyHostKey, type HostKeyVerdict } from './hostkeys';
import type { SshSettings } from './inventory';
import { quote } from './quote';
import { redact } from './secret';
import { trace } from './trace';

export interface ExecOptions {
  /** Bytes to feed the command's stdin (then EOF). */
  stdin?: string | Buffer;
  /** Run through `sudo -n` (default: the host's become setting). */
  become?: boolean;
  timeoutMs?: number;
  /** Safe to run again after a reconnect (read-only or idempotent). Default false. */
  retryable?: boolean;
  /** Also kill the remote command (its whole process group) when timeoutMs passes. */
  killOnTimeout?: boolean;
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
}

/** What tasks and the runner need from a host. Implemented by SshConnection, and by fakes in unit tests. */
export interface Remote {
  readonly name: string;
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Upload through SFTP to a path the login user can write (used for large files). */
  upload?(path: string, data: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectionOptions extends SshSettings {
  name: string;
  trustNewHostKey?: boolean;
  /** Open exec channels at once (sshd's MaxSessions defaults to 10; SFTP takes one too). */
  maxChannels?: number;
  /** Reconnect attempts after drops, over the connection's life. */
  maxReconnects?: number;
  /** Called for notices such as "reconnected". */
  onNotice?: (msg: string) => void;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SUDO_REFUSED = /^sudo: (a password is required|a terminal is required|.*is not in the sudoers file|.*may not run sudo|sorry, you must have a tty)/m;

/**
 * The command line sent over the exec channel. With killAfterSec, GNU timeout runs the shell in its own process
 * group and kills the whole group when the time is up: sshd refuses SSH "signal" requests for root sessions, so
 * closing the channel alone would leave a hung command running on the host.
 */
export function wrapCommand(script: string, become: { enabled: boolean; user: string; loginUser: string }, killAfterSec?: number): string {
  const body = `export LC_ALL=C PATH=${PATH}:"$PATH"\n${script}`;
  const t = killAfterSec ? `timeout -k 2 ${Math.ceil(killAfterSec)} ` : '';
  if (!become.enabled || become.user === become.loginUser) return `exec ${t}/bin/sh -c ${quote(body)}`;
  return `exec sudo -n -H -u ${quote(become.user)} -- ${t}/bin/sh -c ${quote(body)}`;
}

class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiters.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const w = this.waiters.shift();
      if (w) w();
      else this.free++;
    };
  }
}

/**
 * The ciphers offered, best first: AES in node's own crypto (AES-NI). Never chacha20-poly1305: its Poly1305 is a
 * WebAssembly module in ssh2, which the startup snapshots leave out (bin/snapshot.mjs).
 */
const CIPHERS = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'];

/** Loads ssh2 now (a startup snapshot's preload: bin/snapshot.mjs holds its client, made ready to use). */
export function preloadSsh(): void {
  loadClient();
}

/** Private keys parsed once per process (ssh2's public utils.parseKey) and shared by every connection. */
const parsedKeys = new Map<string, unknown>();
function parsedKey(file: string, data: Buffer): unknown {
  let k = parsedKeys.get(file);
  if (k) return k;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { utils } = require('ssh2') as typeof import('ssh2');
  k = utils.parseKey(data);
  if (k instanceof Error) throw k;
  if (Array.isArray(k)) k = k[0];
  parsedKeys.set(file, k);
  return k;
}

/**
 * ssh2 writes every SSH packet with its own socket write. Packets produced in the same tick (NEWKEYS + the next
 * request, an exec request + its stdin + EOF, ...) are corked and leave as one TCP segment: fewer syscalls and
 * wake-ups on both ends, and no Nagle stall behind a middlebox (a forwarder without TCP_NODELAY) for the second
 * of two small packets.
 */
function coalesceWrites(sock: Socket): void {
  const write = sock.write.bind(sock) as (...a: unknown[]) => boolean;
  let pending = false;
  const flush = (): void => {
    pending = false;
    if (!sock.destroyed) sock.uncork();
  };
  (sock as { write: (...a: unknown[]) => boolean }).write = (...args: unknown[]): boolean => {
    if (!pending && !sock.destroyed) {
      pending = true;
      sock.cork();
      process.nextTick(flush);
    }
    return write(...args);
  };
}

let ClientCtor: typeof Client | undefined;
function loadClient(): typeof Client {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  ClientCtor ??= (require('ssh2') as typeof import('ssh2')).Client;
  return ClientCtor;
}

export class SshConnection implements Remote {
  readonly name: string;
  private client: Client | undefined;
  private sock: Socket | undefined;
  private state: 'new' | 'ready' | 'dropped' | 'closed' = 'new';
  private dropReason = '';
  private connecting: Promise<void> | undefined;
  private readonly sem: Semaphore;
  private readonly pending = new Set<(e: Error) => void>();
  private reconnects = 0;
  private sftpP: Promise<SFTPWrapper> | undefined;
  private key: Buffer | undefined;
  /** How the host key was accepted on the last connect. */
  hostKeyStatus: HostKeyVerdict | undefined;

  constructor(readonly opts: ConnectionOptions) {
    this.name = opts.name;
    this.sem = new Semaphore(Math.min(Math.max(opts.maxChannels ?? 8, 1), 9));
  }

  static async open(opts: ConnectionOptions): Promise<SshConnection> {
    const c = new SshConnection(opts);
    await c.connect();
    return c;
  }

  private where(): string {
    const o = this.opts;
    return `${o.user}@${o.host}:${o.port}`;
  }

  /** Connect (or reconnect). Errors are UnreachableError / HostKeyError with a one-line message. */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const o = this.opts;
    if (o.privateKeyFile && !this.key) {
      try {
        this.key = readFileSync(o.privateKeyFile);
      } catch (e) {
        throw new UnreachableError(`${o.name}: cannot read SSH key ${o.privateKeyFile}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
    }
    const deadline = Date.now() + o.connectTimeoutMs;
    // connect first: the host's sshd starts its session process while ssh2 loads and the key is parsed here
    trace(`${o.name}: tcp connect`);
    const connecting = this.tcpConnect(o.connectTimeoutMs);
    let authKey: unknown;
    let Ctor: typeof Client;
    try {
      authKey = this.key ? this.parsedKeyOrThrow() : undefined;
      Ctor = loadClient();
      trace('ssh2 loaded');
    } catch (e) {
      connecting.then((s) => s.destroy(), () => undefined);
      throw e;
    }
    const sock = await connecting;
    trace(`${o.name}: tcp connected`);
    const client = new Ctor();
    let verdict: HostKeyVerdict | undefined;
    const known = knownKeyTypes({ host: o.host, port: o.port, knownHostsFile: o.knownHostsFile, hostKeyFingerprint: o.hostKeyFingerprint });
    const hostKeyPref = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'];
    const ordered = [...new Set([...hostKeyPref.filter((t) => known.includes(t) || (t.startsWith('rsa-') && known.includes('ssh-rsa'))), ...hostKeyPref])];
    const cfg: ConnectConfig = {
      sock,
      username: o.user,
      agent: this.key ? undefined : o.agent,
      authHandler: authKey ? [{ type: 'publickey', username: o.user, key: authKey }] : ['agent'],
      readyTimeout: Math.max(1000, deadline - Date.now()),
      keepaliveInterval: 15000,
      keepaliveCountMax: 4,
      algorithms: { serverHostKey: ordered as never, cipher: CIPHERS as never },
      hostVerifier: (key: Buffer) => {
        verdict = verifyHostKey(key, {
          host: o.host,
          port: o.port,
          knownHostsFile: o.knownHostsFile,
          hostKeyFingerprint: o.hostKeyFingerprint,
          trustNewHostKey: o.trustNewHostKey,
          name: o.name,
        });
        return verdict.ok;
      },
    } as ConnectConfig;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error & { level?: string }): void => {
        cleanup();
        sock.destroy();
        if (verdict && !verdict.ok) return reject(new HostKeyError(`${o.name}: ${verdict.message}`));
        let msg = err.message;
        if (/All configured authentication methods failed/.test(msg))
          msg = `authentication failed for ${this.where()} (${o.privateKeyFile ? `key ${o.privateKeyFile}` : 'SSH agent keys'} not accepted)`;
        else if (/Timed out while waiting for handshake/.test(msg)) msg = `SSH handshake with ${this.where()} timed out after ${o.connectTimeoutMs} ms`;
        else if (/passphrase/.test(msg)) msg = `SSH key ${o.privateKeyFile} is encrypted: use an SSH agent (ssh_agent) instead`;
        else msg = `SSH connection to ${this.where()} failed: ${msg}`;
        reject(new UnreachableError(`${o.name}: ${msg}`));
      };
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => onError(new Error('connection closed during handshake'));
      const cleanup = (): void => {
        client.removeListener('error', onError);
        client.removeListener('ready', onReady);
        client.removeListener('close', onClose);
      };
      // a late second error (ssh2 may emit one after refusing a host key) must never become an uncaught throw
      client.on('error', () => undefined);
      client.on('error', onError).on('ready', onReady).on('close', onClose);
      try {
        client.connect(cfg);
      } catch (e) {
        onError(e as Error);
      }
    });
    trace(`${o.name}: ssh ready`);
    (globalThis as { __provisionConnected?: boolean }).__provisionConnected = true;
    this.hostKeyStatus = verdict;
    if (verdict?.ok && verdict.how === 'trusted-new') o.onNotice?.(`${o.name}: recorded new host key in ${o.knownHostsFile}`);
    this.client = client;
    this.sock = sock;
    this.state = 'ready';
    this.sftpP = undefined;
    client.on('close', () => {
      if (this.client !== client) return;
      if (this.state === 'ready') {
        this.state = 'dropped';
        this.dropReason = 'connection closed by the remote side or the network';
      }
      const err = new ConnectionLostError(`${o.name}: SSH connection to ${this.where()} was lost`);
      for (const rej of [...this.pending]) rej(err);
      this.pending.clear();
    });
  }

  private parsedKeyOrThrow(): unknown {
    try {
      return parsedKey(this.opts.privateKeyFile!, this.key!);
    } catch (e) {
      const m = (e as Error).message;
      throw new UnreachableError(
        /encrypted|passphrase/i.test(m)
          ? `${this.name}: SSH key ${this.opts.privateKeyFile} is encrypted: use an SSH agent (ssh_agent) instead`
          : `${this.name}: cannot parse SSH key ${this.opts.privateKeyFile}: ${m}`,
      );
    }
  }

  private tcpConnect(timeoutMs: number): Promise<Socket> {
    const o = this.opts;
    return new Promise((resolve, reject) => {
      const sock = netConnect({ host: o.host, port: o.port });
      sock.setNoDelay(true);
      coalesceWrites(sock);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new UnreachableError(`${o.name}: cannot connect to ${o.host}:${o.port}: timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(sock);
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const what = e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'EHOSTUNREACH' ? 'host unreachable' : e.code === 'ENOTFOUND' ? 'unknown host name' : e.message;
        reject(new UnreachableError(`${o.name}: cannot connect to ${o.host}:${o.port}: ${what}`));
      });
    });
  }

  private async ensureConnected(): Promise<void> {
    if (this.state === 'ready' && this.sock && (this.sock.destroyed || !this.sock.writable)) {
      this.state = 'dropped';
      this.dropReason = 'the connection was closed';
    }
    if (this.state === 'ready') return;
    if (this.state === 'closed') throw new UnreachableError(`${this.name}: connection already closed`);
    if (this.state === 'new') return this.connect();
    // dropped: one reconnect per drop, a few over the connection's life
    if (this.reconnects >= (this.opts.maxReconnects ?? 3))
      throw new UnreachableError(`${this.name}: SSH connection to ${this.where()} lost (${this.dropReason}); not reconnecting again after ${this.reconnects} reconnects`);
    this.reconnects++;
    try {
      await this.connect();
      this.opts.onNotice?.(`${this.name}: SSH connection was lost; reconnected`);
    } catch (e) {
      this.state = 'closed';
      throw new UnreachableError(`${this.name}: SSH connection to ${this.where()} lost and reconnecting failed: ${(e as Error).message.replace(`${this.name}: `, '')}`);
    }
  }

  /** Test hook and fault injection: drop the TCP connection as a network failure would. */
  dropForTest(): void {
    this.sock?.destroy();
  }

  async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const become = opts.become ?? this.opts.become;
    const killAfter = opts.killOnTimeout && opts.timeoutMs ? opts.timeoutMs / 1000 + 1 : undefined;
    const cmd = wrapCommand(script, { enabled: become, user: this.opts.becomeUser, loginUser: this.opts.user }, killAfter);
    await this.ensureConnected();
    let res: ExecResult;
    try {
      res = await this.execRaw(cmd, opts);
    } catch (e) {
      if (!(e instanceof ConnectionLostError) || !opts.retryable) throw e;
      await this.ensureConnected();
      res = await this.execRaw(cmd, opts);
    }
    if (become && res.code !== 0 && SUDO_REFUSED.test(res.stderr.toString('utf8'))) {
      throw new BecomeError(
        `${this.name}: become failed: sudo on ${this.where()} wants a password or a tty (sudo -n refused: ${res.stderr.toString('utf8').trim().split('\n')[0]}). Give ${this.opts.user} NOPASSWD sudo, or connect as ${this.opts.becomeUser}.`,
      );
    }
    return res;
  }

  private async execRaw(cmd: string, opts: ExecOptions): Promise<ExecResult> {
    if (cmd.length > 120_000) throw new Error(`${this.name}: command too long (${cmd.length} bytes); send data through stdin`);
    const release = await this.sem.acquire();
    try {
      if (this.state !== 'ready') await this.ensureConnected();
      const client = this.client!;
      const timeoutMs = opts.timeoutMs ?? this.opts.commandTimeoutMs;
      return await new Promise<ExecResult>((resolve, reject) => {
        let settled = false;
        let stream: ClientChannel | undefined;
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let code: number | null = null;
        let signal: string | undefined;
        const finish = (e?: Error): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.pending.delete(onLost);
          if (e) reject(e);
          else resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
        };
        const onLost = (e: Error): void => finish(e);
        this.pending.add(onLost);
        const timer = setTimeout(() => {
          try {
            stream?.signal('KILL');
            stream?.close();
          } catch {
            /* channel already gone */
          }
          finish(new CommandError(`${this.name}: command timed out after ${Math.round(timeoutMs / 1000)} s`, null, '', ''));
        }, timeoutMs);
        const onChannel = (e: Error | undefined, s: ClientChannel): void => {
          if (e) {
            const lost = this.state !== 'ready';
            return finish(lost ? new ConnectionLostError(`${this.name}: SSH connection lost while opening a channel`) : new Error(`${this.name}: cannot open SSH channel: ${e.message}`));
          }
          stream = s;
          s.on('data', (d: Buffer) => out.push(d));
          s.stderr.on('data', (d: Buffer) => err.push(d));
          s.on('exit', (c: number | null, sig?: string) => {
            code = c;
            if (sig) signal = sig;
          });
          s.on('close', () => {
            if (code === null && !signal && this.state !== 'ready') return finish(new ConnectionLostError(`${this.name}: SSH connection lost while a command was running`));
            finish();
          });
          s.on('error', (er: Error) => finish(er));
          if (opts.stdin !== undefined) s.end(opts.stdin);
          else s.end();
        };
        try {
          client.exec(cmd, onChannel);
        } catch (e) {
          // ssh2 throws "Not connected" synchronously when the socket is already gone
          this.state = 'dropped';
          this.dropReason = (e as Error).message;
          finish(new ConnectionLostError(`${this.name}: SSH connection lost (${(e as Error).message})`));
        }
      });
    } finally {
      release();
    }
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpP ??= new Promise<SFTPWrapper>((resolve, reject) => {
      this.client!.sftp((e, s) => (e ? reject(e) : resolve(s)));
    });
    return this.sftpP;
  }

  /** SFTP upload (as the login user) with fsync-free close; callers rename into place. */
  async upload(path: string, data: Buffer): Promise<void> {
    await this.ensureConnected();
    const release = await this.sem.acquire();
    try {
      const sftp = await this.sftp();
      await new Promise<void>((resolve, reject) => {
        const ws = sftp.createWriteStream(path, { mode: 0o600 });
        ws.on('error', reject);
        ws.on('close', () => resolve());
        ws.end(data);
      });
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.state = 'closed';
    if (!c) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 500);
      c.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      c.end();
    });
  }
}

/** exec and throw a CommandError (message redacted) unless the exit code is 0. */
export async function run(remote: Remote, script: string, opts?: ExecOptions & { what?: string }): Promise<string> {
  const r = await remote.exec(script, opts);
  if (r.code !== 0) {
    const stderr = r.stderr.toString('utf8').trim();
    const stdout = r.stdout.toString('utf8').trim();
    const detail = (stderr || stdout).split('\n').slice(-6).join('\n');
    throw new CommandError(
      redact(`${opts?.what ?? 'command'} failed (exit ${r.code ?? r.signal ?? '?'})${detail ? ': ' + detail : ''}`),
      r.code,
      stdout,
      stderr,
    );
  }
  return r.stdout.toString('utf8');
}
