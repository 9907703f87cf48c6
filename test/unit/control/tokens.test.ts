import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TokenStore } from '../../../control/tokens';

const fresh = () => new TokenStore(path.join(mkdtempSync(path.join(os.tmpdir(), 'ziggie-tokens-')), 'sub', 'agent-tokens.json'));

test('issue: 256 random bits, stored only as a SHA-256 hash in a 0600 file; verify finds the agent', () => {
  const store = fresh();
  const token = store.issue('agent-a');
  expect(token).toMatch(/^zgt_[A-Za-z0-9_-]{43}$/);
  const text = readFileSync(store.file, 'utf8');
  expect(text).not.toContain(token);
  expect(text).not.toContain(token.slice(8));
  expect(statSync(store.file).mode & 0o777).toBe(0o600);
  expect(store.verify(token)).toBe('agent-a');
  expect(store.verifyFor('agent-a', token)).toBe(true);
  expect(store.verifyFor('agent-b', token)).toBe(false);
  expect(store.verify(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
  expect(store.verify('not a token')).toBeUndefined();
});

test('a token is shown once: issuing again is refused; rotate replaces it; revoke removes it', () => {
  const store = fresh();
  const first = store.issue('agent-a');
  expect(() => store.issue('agent-a')).toThrow(/already has a token.*agent token rotate/);
  const second = store.rotate('agent-a');
  expect(second).not.toBe(first);
  expect(store.verify(first)).toBeUndefined();
  expect(store.verify(second)).toBe('agent-a');
  expect(store.revoke('agent-a')).toBe(true);
  expect(store.revoke('agent-a')).toBe(false);
  expect(store.verify(second)).toBeUndefined();
  expect(() => store.rotate('agent-a')).toThrow(/has no token to rotate/);
});

test('another process\'s change is seen at the next verify (a revoke takes effect at once)', () => {
  const a = fresh();
  const token = a.issue('agent-a');
  const b = new TokenStore(a.file);
  expect(b.verify(token)).toBe('agent-a');
  a.revoke('agent-a');
  expect(b.verify(token)).toBeUndefined();
});

test('a store readable by others, or not a store, is refused with one line', () => {
  const store = fresh();
  store.issue('agent-a');
  chmodSync(store.file, 0o644);
  const other = new TokenStore(store.file);
  expect(() => other.refresh()).toThrow(/readable by others \(mode 644\): chmod 600/);
  writeFileSync(store.file, '{"version":2}', { mode: 0o600 });
  chmodSync(store.file, 0o600);
  expect(() => new TokenStore(store.file).refresh()).toThrow(/^token store .*: version: /);
  writeFileSync(store.file, 'garbage');
  expect(() => new TokenStore(store.file).refresh()).toThrow(/not valid JSON/);
});
