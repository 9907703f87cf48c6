import { runGuardrails } from '../../../guardrails';
import type { GuardrailRule, Verdict } from '../../../guardrails/types';
import type { SynthesizedStack, TerraformJson } from '../../../shared/terraform-json';

export type Resources = Record<string, Record<string, Record<string, unknown>>>;

/** A tiny hand-written Terraform JSON stack and the block a rule is checked against. */
export interface Fixture {
  readonly name: string;
  readonly resources?: Resources;
  /** Other top-level blocks (provider, output, variable, data…); a provider with default tags is added if absent. */
  readonly json?: Partial<TerraformJson>;
  /** Address of the block checked, e.g. `aws_s3_bucket.b` or `output.x`; defaults to the first resource. */
  readonly target?: string;
  /** What a passing fixture yields (default compliant; presence rules such as VPC-NO-NAT-GATEWAY say not-applicable). */
  readonly expect?: Verdict;
}

export interface RuleCases {
  readonly rule: GuardrailRule;
  readonly failing: readonly Fixture[];
  readonly passing: readonly Fixture[];
}

export const PROVIDER = { aws: [{ region: 'eu-north-1', default_tags: [{ tags: { Project: 'Ziggie' } }] }] };

export function fixtureStack(f: Fixture): SynthesizedStack {
  return { name: 'fixture', dir: '/nonexistent', json: { provider: PROVIDER, ...f.json, resource: f.resources ?? {} } };
}

/** The rule's verdict (and detail) for the fixture's target, through the real runner with no suppressions. */
export function verdictOf(rule: GuardrailRule, f: Fixture): { verdict: Verdict; detail?: string } {
  const target = f.target ?? firstAddress(f);
  const report = runGuardrails([fixtureStack(f)], [], [rule]);
  const finding = report.findings.find((x) => x.address === target);
  return finding ? { verdict: finding.verdict, detail: finding.detail } : { verdict: 'not-applicable' };
}

function firstAddress(f: Fixture): string {
  const [type, byName] = Object.entries(f.resources ?? {})[0] ?? [];
  if (!type) throw new Error(`fixture "${f.name}" has no resource and no target`);
  return `${type}.${Object.keys(byName!)[0]}`;
}

/** A literal policy document, as shared/iam-policy.ts writes it. */
export function policy(...statements: Array<Record<string, unknown>>): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** Copy resources with one type removed, or one resource's config patched. */
export function without(resources: Resources, type: string): Resources {
  const { [type]: _gone, ...rest } = resources;
  return rest;
}
export function patch(resources: Resources, type: string, name: string, change: Record<string, unknown>): Resources {
  return { ...resources, [type]: { ...resources[type], [name]: { ...resources[type][name], ...change } } };
}
