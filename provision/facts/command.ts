/** The exit status of a read-only command (command's `unless` / `onlyIf` guards; a playbook's own checks). */
import { defineFact, need, type Need } from '../fact';

export const exitStatusFact = defineFact<string, number>({
  name: 'exit-status',
  command: (script) => `( ${script}\n) >/dev/null 2>&1`,
  parse: ([s]) => s!.code,
});

/** Output and exit status of a read-only command. */
export const commandOutputFact = defineFact<string, { code: number; out: string }>({
  name: 'output',
  command: (script) => script,
  parse: ([s]) => ({ code: s!.code, out: s!.text }),
});

/** The same, started beside the rest of the probe: for a slow command whose output is never secret (fact.ts). */
export const concurrentCommandOutputFact = defineFact<string, { code: number; out: string }>({
  ...commandOutputFact,
  name: 'output-concurrent',
  concurrent: true,
});

export const exitStatus = (script: string): Need<number> => need(exitStatusFact, script);
export const commandOutput = (script: string, o: { concurrent?: boolean } = {}): Need<{ code: number; out: string }> =>
  need(o.concurrent ? concurrentCommandOutputFact : commandOutputFact, script);
