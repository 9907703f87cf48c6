import { execFileSync } from 'node:child_process';
import { quote, raw, sh } from '../../../provision/quote';

const echo = (word: string): string => execFileSync('/bin/sh', ['-c', `printf %s ${word}`]).toString();

describe('quote', () => {
  const nasty = ["it's", 'a b', '$(touch /tmp/pwned)', '`id`', '"; rm -rf / #', '\\', '\n', "''", '*', '~root', '-n', '', 'é ü ✓', "a'b'c", '${HOME}', '!x'];
  test.each(nasty)('%j survives /bin/sh as one literal word', (s) => {
    expect(echo(quote(s))).toBe(s);
    expect(execFileSync('/bin/sh', ['-c', `set -- ${quote(s)}; echo $#`]).toString().trim()).toBe('1');
  });
  test('plain words stay readable', () => {
    expect(quote('/etc/app.conf')).toBe('/etc/app.conf');
    expect(quote(644)).toBe('644');
  });
  test('NUL is refused', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/);
  });
  test('sh`` quotes every value; arrays become words; raw is verbatim', () => {
    const cmd = sh`printf '%s|' ${"a b"} ${['c d', "e'f"]} ${raw('$((1+1))')}`;
    expect(execFileSync('/bin/sh', ['-c', cmd]).toString()).toBe("a b|c d|e'f|2|");
  });
  test('sh`` refuses objects', () => {
    expect(() => sh`echo ${{} as never}`).toThrow(/cannot interpolate/);
  });
});
