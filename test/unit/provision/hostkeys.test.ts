import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprint, hostPattern, keyType, parseKnownHosts, patternsMatch, verifyHostKey } from '../../../provision/hostkeys';
import { tempDir } from './helpers';

function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const t = Buffer.from('ssh-ed25519');
  const b = Buffer.alloc(4 + t.length + 4 + 32);
  b.writeUInt32BE(t.length, 0);
  t.copy(b, 4);
  b.writeUInt32BE(32, 4 + t.length);
  raw.copy(b, 8 + t.length);
  return b;
}

/** An ssh-rsa public key blob (string "ssh-rsa", mpint e, mpint n) of a fresh RSA key. */
function rsaBlob(): Buffer {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { e: string; n: string };
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (b.length >>> (24 - 8 * i)) & 0xff)), b]);
  const mpint = (b64url: string): Buffer => {
    const b = Buffer.from(b64url, 'base64url');
    return str(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  };
  return Buffer.concat([str(Buffer.from('ssh-rsa')), mpint(jwk.e), mpint(jwk.n)]);
}

describe('host keys', () => {
  const key = ed25519Blob();
  const other = ed25519Blob();
  const line = (k: Buffer, host = '[127.0.0.1]:2222') => `${host} ssh-ed25519 ${k.toString('base64')}\n`;

  test('fingerprint and type like ssh-keygen', () => {
    expect(fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(keyType(key)).toBe('ssh-ed25519');
    expect(hostPattern('h', 22)).toBe('h');
    expect(hostPattern('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  test('patterns: plain, list, wildcard, negation, hashed', () => {
    expect(patternsMatch('a,[127.0.0.1]:2222', '127.0.0.1', 2222)).toBe(true);
    expect(patternsMatch('127.0.0.1', '127.0.0.1', 2222)).toBe(false);
    expect(patternsMatch('*.example.com,!bad.example.com', 'web.example.com', 22)).toBe(true);
    expect(patternsMatch('*.example.com,!bad.example.com', 'bad.example.com', 22)).toBe(false);
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[127.0.0.1]:2222').digest('base64');
    expect(patternsMatch(`|1|${salt.toString('base64')}|${hash}`, '127.0.0.1', 2222)).toBe(true);
    expect(patternsMatch(`|1|${salt.toString('base64')}|${hash}`, '127.0.0.1', 2223)).toBe(false);
    expect(parseKnownHosts('# c\n\n@revoked * ssh-ed25519 AAAA\nh ssh-rsa AAAA x\n')).toHaveLength(2);
  });

  test('known key accepted; unknown refused with its fingerprint; mismatch refused', () => {
    const d = tempDir();
    const kh = join(d, 'known_hosts');
    writeFileSync(kh, line(key));
    const o = { host: '127.0.0.1', port: 2222, knownHostsFile: kh };
    expect(verifyHostKey(key, o)).toEqual({ ok: true, how: 'known_hosts' });
    const mm = verifyHostKey(other, o);
    expect(mm.ok).toBe(false);
    expect(mm.ok === false && mm.reason).toBe('mismatch');
    expect(mm.ok === false && mm.message).toContain('HOST KEY MISMATCH');
    expect(mm.ok === false && mm.message).toContain(fingerprint(other));
    const unk = verifyHostKey(key, { ...o, port: 2223 });
    expect(unk.ok === false && unk.reason).toBe('unknown');
    expect(unk.ok === false && unk.message).toContain(fingerprint(key));
    expect(unk.ok === false && unk.message).toContain('--trust-new-host-key');
  });

  test('--trust-new-host-key records an unknown key, but never overrides a mismatch', () => {
    const d = tempDir();
    const kh = join(d, 'sub', 'known_hosts');
    const o = { host: '127.0.0.1', port: 2222, knownHostsFile: kh, trustNewHostKey: true };
    expect(verifyHostKey(key, o)).toEqual({ ok: true, how: 'trusted-new' });
    expect(readFileSync(kh, 'utf8')).toBe(line(key));
    expect(verifyHostKey(key, { ...o, trustNewHostKey: false })).toEqual({ ok: true, how: 'known_hosts' });
    const mm = verifyHostKey(other, o);
    expect(mm.ok === false && mm.reason).toBe('mismatch');
    expect(readFileSync(kh, 'utf8')).toBe(line(key));
  });

  test('pinned fingerprint wins over known_hosts', () => {
    const o = { host: 'h', port: 22, knownHostsFile: '/nonexistent', hostKeyFingerprint: fingerprint(key) };
    expect(verifyHostKey(key, o)).toEqual({ ok: true, how: 'pinned' });
    const r = verifyHostKey(other, { ...o, trustNewHostKey: true });
    expect(r.ok === false && r.message).toContain('pinned');
  });

  test('@revoked refuses', () => {
    const d = tempDir();
    const kh = join(d, 'kh');
    writeFileSync(kh, `@revoked ${line(key)}`);
    const r = verifyHostKey(key, { host: '127.0.0.1', port: 2222, knownHostsFile: kh, trustNewHostKey: true });
    expect(r.ok === false && r.reason).toBe('revoked');
  });

  test('--trust-new-host-key does not record a key of another type for a host already known (ed25519 recorded, RSA offered)', () => {
    const rsa = rsaBlob();
    expect(keyType(rsa)).toBe('ssh-rsa');
    const d = tempDir();
    const kh = join(d, 'known_hosts');
    writeFileSync(kh, line(key));
    const o = { host: '127.0.0.1', port: 2222, knownHostsFile: kh, trustNewHostKey: true };
    const r = verifyHostKey(rsa, o);
    expect(r).toMatchObject({ ok: false, reason: 'mismatch' });
    const msg = r.ok === false ? r.message : '';
    // both fingerprints: the one on record and the one offered
    expect(msg).toContain(`expects ssh-ed25519 ${fingerprint(key)}`);
    expect(msg).toContain(`server presented ssh-rsa ${fingerprint(rsa)} (a key of a different type`);
    expect(readFileSync(kh, 'utf8')).toBe(line(key)); // nothing appended
    // without the flag, the same refusal (not "unknown: re-run with --trust-new-host-key")
    expect(verifyHostKey(rsa, { ...o, trustNewHostKey: false })).toMatchObject({ ok: false, reason: 'mismatch' });
    // the same key type under another port is another host: new, recorded
    expect(verifyHostKey(rsa, { ...o, port: 2223 })).toEqual({ ok: true, how: 'trusted-new' });
    expect(readFileSync(kh, 'utf8')).toBe(line(key) + `[127.0.0.1]:2223 ssh-rsa ${rsa.toString('base64')}\n`);
  });

  test('a hashed known_hosts entry of another type counts as on record too', () => {
    const d = tempDir();
    const kh = join(d, 'known_hosts');
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[127.0.0.1]:2222').digest('base64');
    writeFileSync(kh, `|1|${salt.toString('base64')}|${hash} ssh-rsa ${rsaBlob().toString('base64')}\n`);
    const before = readFileSync(kh, 'utf8');
    expect(verifyHostKey(key, { host: '127.0.0.1', port: 2222, knownHostsFile: kh, trustNewHostKey: true })).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(readFileSync(kh, 'utf8')).toBe(before);
  });
});
