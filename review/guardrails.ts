import type { SynthesizedStack } from '../stacks/terraform-json';
import type { Finding, GuardrailReport } from '../modules/guardrails/types';
import type { GuardrailDiff } from './types';

export type RunGuardrails = (stacks: SynthesizedStack[]) => GuardrailReport;

/**
 * The project's guardrails (modules/guardrails: `runGuardrails`), or why they cannot run. Loaded at run time so
 * the review works, and says so, in a checkout where the rules are not written yet.
 */
export function loadGuardrails(): { run?: RunGuardrails; reason?: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../modules/guardrails') as { runGuardrails?: (stacks: SynthesizedStack[], suppressions?: unknown) => GuardrailReport };
    if (typeof mod.runGuardrails !== 'function') return { reason: 'modules/guardrails does not export runGuardrails' };
    const run = mod.runGuardrails;
    return { run: (stacks) => run(stacks) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && /modules\/guardrails/.test(e.message)) return { reason: 'modules/guardrails/index.ts is not in this checkout yet' };
    return { reason: `modules/guardrails failed to load: ${e.message.split('\n')[0]}` };
  }
}

export const findingKey = (f: Pick<Finding, 'rule' | 'stack' | 'address'>) => `${f.rule}|${f.stack}|${f.address}`;

/**
 * Findings new at head vs fixed since base. The same (head's) rules judge both sides, so "new" means the change
 * introduced the problem, not that a rule was added.
 */
export function diffGuardrails(base: readonly SynthesizedStack[] | undefined, head: readonly SynthesizedStack[], run: RunGuardrails | undefined, reason?: string): GuardrailDiff {
  if (!run) return { available: false, reason: reason ?? 'guardrails unavailable', new: [], fixed: [], remaining: [], suppressed: [] };
  let headReport: GuardrailReport;
  let baseReport: GuardrailReport | undefined;
  try {
    headReport = run([...head]);
  } catch (err) {
    return { available: false, reason: `runGuardrails threw on head: ${(err as Error).message}`, new: [], fixed: [], remaining: [], suppressed: [] };
  }
  try {
    baseReport = base ? run([...base]) : undefined;
  } catch (err) {
    // The base may hold JSON the current rules do not expect; judge head alone then.
    baseReport = undefined;
    reason = `runGuardrails threw on base (${(err as Error).message}): every head failure is listed as new`;
  }
  const baseKeys = new Set((baseReport?.failures ?? []).map(findingKey));
  const headKeys = new Set(headReport.failures.map(findingKey));
  return {
    available: true,
    ...(reason ? { reason } : {}),
    new: headReport.failures.filter((f) => !baseKeys.has(findingKey(f))),
    fixed: (baseReport?.failures ?? []).filter((f) => !headKeys.has(findingKey(f))),
    remaining: headReport.failures.filter((f) => baseKeys.has(findingKey(f))),
    suppressed: headReport.suppressed,
  };
}
