/**
 * Host key verification: OpenSSH known_hosts files (plain, hashed |1|, wildcards, @revoked) or a pinned
 * SHA256 fingerprint. A host with no key of any type on record is refused unless the caller asked to trust new
 * keys; a key that is not the one on record (changed, or of another type) is always refused.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** "SHA256:<base64 without padding>", as `ssh-keygen -lf` prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const n = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + n).toString('latin1');
}

/** The name known_hosts uses for host:port. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export interface KnownHostEntry {
  marker?: '@revoked' | '@cert-authority';
  patterns: string;
  type: string;
  key: Buffer;
  line: number;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (f[0] === '@revoked' || f[0] === '@cert-authority') marker = f.shift() as KnownHostEntry['marker'];
    if (f.length < 3) return;
    out.push({ marker, patterns: f[0]!, type: f[1]!, key: Buffer.from(f[2]!, 'base64'), line: i + 1 });
  });
  return out;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(name);
}

/** Does a known_hosts host field match this host:port? */
export function patternsMatch(patterns: string, host: string, port: number): boolean {
  const name = hostPattern(host, port);
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (!salt || !hash) return false;
    const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return h === hash;
  }
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

export type HostKeyVerdict =
  | { ok: true; how: 'known_hosts' | 'pinned' | 'trusted-new' }
  | { ok: false; reason: 'unknown' | 'mismatch' | 'revoked'; message: string };

export interface VerifyOptions {
  host: string;
  port: number;
  knownHostsFile: string;
  hostKeyFingerprint?: string;
  trustNewHostKey?: boolean;
  /** Host name from the inventory, for messages. */
  name?: string;
}

/** Key types already recorded for this host, so the client can prefer them during key exchange. */
export function knownKeyTypes(opts: VerifyOptions): string[] {
  if (opts.hostKeyFingerprint || !existsSync(opts.knownHostsFile)) return [];
  try {
    return parseKnownHosts(readFileSync(opts.knownHostsFile, 'utf8'))
      .filter((e) => !e.marker && patternsMatch(e.patterns, opts.host, opts.port))
      .map((e) => e.type);
  } catch {
    return [];
  }
}

export function verifyHostKey(keyBlob: Buffer, opts: VerifyOptions): HostKeyVerdict {
  const fp = fingerprint(keyBlob);
  const type = keyType(keyBlob);
  const who = `${opts.name && opts.name !== opts.host ? opts.name + ' ' : ''}(${hostPattern(opts.host, opts.port)})`;
  if (opts.hostKeyFingerprint) {
    if (fp === opts.hostKeyFingerprint) return { ok: true, how: 'pinned' };
    return {
      ok: false,
      reason: 'mismatch',
      message: `HOST KEY MISMATCH for ${who}: pinned ${opts.hostKeyFingerprint}, server presented ${type} ${fp}. Refusing to connect (possible man-in-the-middle). If the host was rebuilt, update ssh_host_key_fingerprint.`,
    };
  }
  let entries: KnownHostEntry[] = [];
  if (existsSync(opts.knownHostsFile)) entries = parseKnownHosts(readFileSync(opts.knownHostsFile, 'utf8'));
  const mine = entries.filter((e) => patternsMatch(e.patterns, opts.host, opts.port));
  if (mine.some((e) => e.marker === '@revoked' && e.key.equals(keyBlob)))
    return { ok: false, reason: 'revoked', message: `host key ${type} ${fp} for ${who} is marked @revoked in ${opts.knownHostsFile}. Refusing to connect.` };
  const plain = mine.filter((e) => !e.marker);
  if (plain.some((e) => e.key.equals(keyBlob))) return { ok: true, how: 'known_hosts' };
  // A host with a key of any type on record is not new: a server that now offers only another type (recorded
  // ed25519, offered RSA) is refused like a changed key, --trust-new-host-key or not.
  if (plain.length) {
    const lines = plain.map((e) => e.line).join(',');
    const expected = plain.map((e) => `${e.type} ${fingerprint(e.key)}`).join(' or ');
    const other = plain.some((e) => e.type === type) ? '' : ' (a key of a different type than the one on record)';
    return {
      ok: false,
      reason: 'mismatch',
      message: `HOST KEY MISMATCH for ${who}: ${opts.knownHostsFile}:${lines} expects ${expected}, server presented ${type} ${fp}${other}. Refusing to connect (possible man-in-the-middle). If the host was rebuilt, remove the old line (ssh-keygen -R '${hostPattern(opts.host, opts.port)}' -f ${opts.knownHostsFile}).`,
    };
  }
  // only for a host with no key of any type in known_hosts
  if (opts.trustNewHostKey) {
    mkdirSync(dirname(opts.knownHostsFile), { recursive: true, mode: 0o700 });
    appendFileSync(opts.knownHostsFile, `${hostPattern(opts.host, opts.port)} ${type} ${keyBlob.toString('base64')}\n`, { mode: 0o600 });
    return { ok: true, how: 'trusted-new' };
  }
  return {
    ok: false,
    reason: 'unknown',
    message: `host key for ${who} is not known: ${type} ${fp}. Verify this fingerprint out of band, then re-run with --trust-new-host-key to record it in ${opts.knownHostsFile} (or pin it with ssh_host_key_fingerprint).`,
  };
}
