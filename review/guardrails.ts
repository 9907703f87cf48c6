import { runGuardrails } from '../guardrails';
import type { Finding, GuardrailReport } from '../guardrails/types';
import type { SynthesizedStack } from '../shared/terraform-json';
import type { GuardrailDiff } from './types';

export type RunGuardrails = (stacks: SynthesizedStack[]) => GuardrailReport;

/** The project's guardrails (guardrails) with its documented suppressions, as the review runs them. */
export function loadGuardrails(): { run?: RunGuardrails; reason?: string } {
  return { run: (stacks) => runGuardrails(stacks) };
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
