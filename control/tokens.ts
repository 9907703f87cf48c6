/**
 * Agent bearer tokens. A token is 256 random bits (`zgt_` + base64url); the store keeps only its SHA-256, so
 * the file cannot be replayed (a 256-bit preimage is out of reach; a slow KDF would add nothing but latency).
 * The value is printed once, when issued or rotated, and can never be shown again.
 *
 * The store is one JSON file (path from `controlCenter.tokenStore`), mode 0600, replaced atomically (temp file
 * in the same directory + fsync + rename). A store readable by others is refused. A running server re-reads the
 * file when it changes, so a revoke takes effect at the next request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const PREFIX = 'zgt_';
const TOKEN = /^zgt_[A-Za-z0-9_-]{43}$/;

const storeSchema = z.strictObject({
  version: z.literal(1),
  tokens: z.record(z.string(), z.strictObject({
    sha256: z.string().regex(/^[a-f0-9]{64}$/),
    /** The first characters of the token, to tell tokens apart in a listing (not enough to guess it). */
    hint: z.string().max(12),
    issuedAt: z.string(),
  })),
});

export type TokenStoreData = z.infer<typeof storeSchema>;

export class TokenStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenStoreError';
  }
}

/** `~/x` → the home directory's x; relative paths are relative to the config file's directory. */
export function resolveStorePath(p: string, configDir: string): string {
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return path.resolve(configDir, p);
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

export class TokenStore {
  private data: TokenStoreData = { version: 1, tokens: {} };
  private byHash = new Map<string, string>();
  /** inode:mtime:size of the file last read (an atomic replace always brings a new inode). */
  private loaded = '';

  constructor(readonly file: string, private readonly now: () => Date = () => new Date()) {}

  /** True when the file exists (a server refuses to start without one). */
  exists(): boolean {
    try {
      return statSync(this.file).isFile();
    } catch {
      return false;
    }
  }

  /** Read the file if it changed since the last read. Throws a one-line TokenStoreError when it is unusable. */
  refresh(): void {
    let st;
    try {
      st = statSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.set({ version: 1, tokens: {} }, 'absent');
        return;
      }
      throw new TokenStoreError(`token store ${this.file}: cannot read (${(err as NodeJS.ErrnoException).code})`);
    }
    const stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (stamp === this.loaded) return;
    if ((st.mode & 0o077) !== 0) {
      throw new TokenStoreError(`token store ${this.file} is readable by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${this.file}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      throw new TokenStoreError(`token store ${this.file}: not valid JSON (restore it or issue new tokens into an empty file)`);
    }
    const r = storeSchema.safeParse(parsed);
    if (!r.success) throw new TokenStoreError(`token store ${this.file}: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
    this.set(r.data, stamp);
  }

  private set(data: TokenStoreData, stamp: string): void {
    this.data = data;
    this.byHash = new Map(Object.entries(data.tokens).map(([agent, t]) => [t.sha256, agent]));
    this.loaded = stamp;
  }

  /** The agent a presented token belongs to, or undefined. */
  verify(token: string): string | undefined {
    if (!TOKEN.test(token)) return undefined;
    this.refresh();
    const digest = sha256(token);
    const agent = this.byHash.get(digest);
    if (!agent) return undefined;
    // The map lookup found it by hash; compare in constant time anyway (defence in depth).
    const stored = Buffer.from(this.data.tokens[agent]!.sha256, 'hex');
    return timingSafeEqual(stored, Buffer.from(digest, 'hex')) ? agent : undefined;
  }

  /** Whether `token` is exactly `agent`'s token. */
  verifyFor(agent: string, token: string): boolean {
    return this.verify(token) === agent;
  }

  list(): { agent: string; hint: string; issuedAt: string }[] {
    this.refresh();
    return Object.entries(this.data.tokens).map(([agent, t]) => ({ agent, hint: t.hint, issuedAt: t.issuedAt }));
  }

  /** A new token for an agent that has none. Returns the value: the only time it exists outside the caller. */
  issue(agent: string): string {
    this.refresh();
    if (this.data.tokens[agent]) throw new TokenStoreError(`${agent} already has a token (issued ${this.data.tokens[agent]!.issuedAt}): use \`agent token rotate --agent ${agent}\``);
    return this.put(agent);
  }

  /** Replace an agent's token: the old one stops working at once. */
  rotate(agent: string): string {
    this.refresh();
    if (!this.data.tokens[agent]) throw new TokenStoreError(`${agent} has no token to rotate: use \`agent token issue --agent ${agent}\``);
    return this.put(agent);
  }

  revoke(agent: string): boolean {
    this.refresh();
    if (!this.data.tokens[agent]) return false;
    const { [agent]: _gone, ...rest } = this.data.tokens;
    this.write({ version: 1, tokens: rest });
    return true;
  }

  private put(agent: string): string {
    const token = PREFIX + randomBytes(32).toString('base64url');
    this.write({
      version: 1,
      tokens: { ...this.data.tokens, [agent]: { sha256: sha256(token), hint: token.slice(0, 8), issuedAt: this.now().toISOString() } },
    });
    return token;
  }

  /** Atomic replace: a reader sees the old file or the new one, never half of one. */
  private write(data: TokenStoreData): void {
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(data, null, 2)}\n`);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(tmp);
      throw err;
    }
    closeSync(fd);
    renameSync(tmp, this.file);
    this.refresh();
  }
}
