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

export const exitStatus = (script: string): Need<number> => need(exitStatusFact, script);
export const commandOutput = (script: string): Need<{ code: number; out: string }> => need(commandOutputFact, script);
