/** A kernel parameter's running value. */
import { defineFact, need, type Need } from '../fact';
import { quote } from '../shell';

export const sysctlFact = defineFact<string, string | undefined>({
  name: 'sysctl',
  command: (key) => `sysctl -n ${quote(key)}`,
  parse: ([s]) => (s!.code === 0 ? s!.text.trim().split(/\s+/).join(' ') : undefined),
});

export const sysctlValue = (key: string): Need<string | undefined> => need(sysctlFact, key);
