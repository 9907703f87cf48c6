import { inspect } from 'node:util';
import { unifiedDiff } from '../../../provision/diff';
import { redact, redactDeep, reveal, secret } from '../../../provision/secret';

describe('secrets', () => {
  const canary = 'canary-7f3a9c2e-secret';
  const s = secret(canary);
  test('never prints', () => {
    expect(String(s)).toBe('***');
    expect(`${s}`).toBe('***');
    expect(JSON.stringify({ s })).toBe('{"s":"***"}');
    expect(inspect(s)).toBe('Secret(***)');
    expect(reveal(s)).toBe(canary);
  });
  test('redact scrubs the value wherever it appears', () => {
    expect(redact(`password=${canary}; again ${canary}`)).toBe('password=***; again ***');
    expect(redactDeep({ a: [`x${canary}y`], b: { c: s }, n: 3 })).toEqual({ a: ['x***y'], b: { c: '***' }, n: 3 });
  });
  test('diffs are redacted', () => {
    const d = unifiedDiff({ label: '/etc/app.env', before: 'A=1\n', after: `A=1\nTOKEN=${canary}\n` });
    expect(d).toContain('+TOKEN=***');
    expect(d).not.toContain(canary);
    expect(d).toContain('--- /etc/app.env (before)');
  });
  test('a diff that only differs in a secret shows no secret', () => {
    const other = secret('other-secret-value');
    const d = unifiedDiff({ label: 'f', before: `K=${reveal(other)}\n`, after: `K=${canary}\n` });
    expect(d).toContain('only secret values differ');
    expect(d).not.toContain('other-secret-value');
    expect(d).not.toContain(canary);
  });
});
