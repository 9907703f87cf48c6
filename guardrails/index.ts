/**
 * The guardrail runner: every rule over every block of every synthesized stack. Used by `npm start`, the tests and
 * the PR review (on base and head). Rules live one per file in rules/<area>/; see docs/guardrails.md.
 */
import { resourcesOf, type SynthesizedStack, type TerraformResource } from '../shared/terraform-json';
import { ALL_RULES } from './rules';
import { PROJECT_SUPPRESSIONS } from './suppressions';
import type { Finding, GuardrailReport, GuardrailRule, RuleContext, Suppression } from './types';

export type { Finding, GuardrailReport, GuardrailRule, RuleContext, Suppression, Verdict } from './types';
export { ALL_RULES } from './rules';
export { PROJECT_SUPPRESSIONS } from './suppressions';

/** A written reason is at least this long: "ok" or "n/a" is not a reason. */
const MIN_REASON_LENGTH = 20;

export function runGuardrails(
  stacks: SynthesizedStack[],
  suppressions: readonly Suppression[] = PROJECT_SUPPRESSIONS,
  rules: readonly GuardrailRule[] = ALL_RULES,
): GuardrailReport {
  validateSuppressions(suppressions, rules);
  const findings: Finding[] = [];
  const used = new Set<Suppression>();
  let resourcesChecked = 0;
  for (const stack of stacks) {
    const resources = resourcesOf(stack);
    resourcesChecked += resources.length;
    const context: RuleContext = { stack, resources };
    const blocks = [...resources, ...otherBlocksOf(stack)];
    for (const rule of rules) {
      for (const block of blocks) {
        const result = rule.check(block, context);
        const { verdict, detail } = typeof result === 'string' ? { verdict: result, detail: undefined } : result;
        if (verdict === 'not-applicable') continue;
        const finding: Finding = {
          rule: rule.id, stack: stack.name, address: block.address, path: block.path, verdict, why: rule.why, fix: rule.fix,
          ...(detail ? { detail } : {}),
        };
        const suppression = verdict === 'non-compliant' ? suppressions.find((s) => matches(s, finding)) : undefined;
        if (suppression) used.add(suppression);
        findings.push(suppression ? { ...finding, suppressed: { reason: suppression.reason } } : finding);
      }
    }
  }
  return {
    findings,
    failures: findings.filter((f) => f.verdict === 'non-compliant' && !f.suppressed),
    suppressed: findings.filter((f) => f.suppressed),
    rulesRun: rules.length,
    stacksChecked: stacks.length,
    resourcesChecked,
    unusedSuppressions: suppressions.filter((s) => !used.has(s)),
  };
}

/** Plain text for a terminal or a PR comment's code block: failures in full, suppressions with their reasons. */
export function formatGuardrailReport(report: GuardrailReport): string {
  const compliant = report.findings.filter((f) => f.verdict === 'compliant').length;
  const lines = [
    `guardrails: ${report.rulesRun} rules, ${report.resourcesChecked} resources in ${report.stacksChecked} stacks: `
      + `${compliant} compliant, ${report.suppressed.length} suppressed, ${report.failures.length} failure${report.failures.length === 1 ? '' : 's'}`,
  ];
  for (const f of report.failures) lines.push(formatFailure(f));
  for (const f of report.suppressed) {
    lines.push(`  SUPPRESSED ${f.rule}  ${f.path}  (${f.stack}: ${f.address})`);
    if (f.detail) lines.push(`       found:  ${f.detail}`);
    lines.push(`       reason: ${f.suppressed!.reason}`);
  }
  for (const s of report.unusedSuppressions) {
    lines.push(`  UNUSED SUPPRESSION ${s.rule}  ${s.path ?? s.address ?? s.stack}: matches no failing finding; remove it`);
  }
  return lines.join('\n');
}

/** One failure as `npm start`, the PR review and `cdktf synth` print it: rule, where, what was found, why, fix. */
export function formatFailure(f: Finding): string {
  const lines = [`  FAIL ${f.rule}  ${f.path}  (${f.stack}: ${f.address})`];
  if (f.detail) lines.push(`       found: ${f.detail}`);
  lines.push(`       why:   ${f.why}`, `       fix:   ${f.fix}`);
  return lines.join('\n');
}

function matches(s: Suppression, f: Finding): boolean {
  if (s.rule !== f.rule) return false;
  if (s.stack !== undefined && s.stack !== f.stack) return false;
  if (s.address !== undefined && s.address !== f.address) return false;
  if (s.path !== undefined && f.path !== s.path && !f.path.startsWith(`${s.path}/`)) return false;
  return true;
}

function validateSuppressions(suppressions: readonly Suppression[], rules: readonly GuardrailRule[]): void {
  const ids = new Set(rules.map((r) => r.id));
  for (const s of suppressions) {
    const where = `suppression of ${s.rule}${s.path ? ` at ${s.path}` : ''}`;
    if (!ids.has(s.rule)) throw new Error(`${where}: no rule with that id`);
    if ((s.reason ?? '').trim().length < MIN_REASON_LENGTH) throw new Error(`${where}: needs a written reason (at least ${MIN_REASON_LENGTH} characters)`);
    if (s.path === undefined && s.address === undefined) throw new Error(`${where}: name a path or an address (no blanket suppressions)`);
  }
}

/**
 * The stack's non-resource blocks as pseudo-resources (`output.x`, `provider.aws[0]`, `data.aws_x.y`, …), so that
 * a rule reading every block (SECRETS-NO-PLAINTEXT) also sees outputs, variables' defaults and provider settings.
 * Their types never start with `aws_`, so resource rules find them not applicable.
 */
function otherBlocksOf(stack: SynthesizedStack): TerraformResource[] {
  const out: TerraformResource[] = [];
  const add = (type: string, address: string, config: unknown) => {
    if (typeof config === 'object' && config !== null) {
      out.push({ stack: stack.name, type, name: address, address, path: `${stack.name}/${address}`, config: config as Record<string, unknown> });
    }
  };
  for (const [type, byName] of Object.entries(stack.json.data ?? {})) {
    for (const [name, config] of Object.entries(byName)) add(`data.${type}`, `data.${type}.${name}`, config);
  }
  for (const [name, config] of Object.entries(stack.json.output ?? {})) add('output', `output.${name}`, config);
  for (const [name, config] of Object.entries((stack.json.variable ?? {}) as Record<string, unknown>)) add('variable', `variable.${name}`, config);
  if (stack.json.locals) add('locals', 'locals', stack.json.locals);
  for (const [name, list] of Object.entries(stack.json.provider ?? {})) {
    list.forEach((config, i) => add('provider', `provider.${name}[${i}]`, config));
  }
  if (stack.json.terraform) add('terraform', 'terraform', stack.json.terraform);
  return out;
}
