import type { SynthesizedStack, TerraformResource } from '../shared/terraform-json';

/**
 * A guardrail reads the synthesized Terraform JSON, never constructs, so synth, tests and PR review share it.
 * Modelled on cdk-nag: one rule per file, each a pure function of one resource (and, where a rule needs to look
 * at siblings such as a bucket's public-access block, the stack it sits in).
 */
export type Verdict = 'compliant' | 'non-compliant' | 'not-applicable';

export interface RuleContext {
  readonly stack: SynthesizedStack;
  /** Every resource of the stack, for rules that check a companion resource exists. */
  readonly resources: readonly TerraformResource[];
}

/** The areas rules are grouped in (guardrails/rules/<area>/). */
export type RuleArea =
  | 's3' | 'security-groups' | 'vpc' | 'ec2' | 'iam' | 'cloudtrail' | 'logs' | 'cloudfront' | 'secrets' | 'budgets' | 'tags'
  | 'sqs';

export interface GuardrailRule {
  /** Stable id, e.g. `S3-PUBLIC-ACCESS-BLOCK`; suppressions name it. */
  readonly id: string;
  readonly area: RuleArea;
  /** Why it matters, one sentence. */
  readonly why: string;
  /** How to fix it, one sentence. */
  readonly fix: string;
  /** A verdict, or a verdict with a detail saying where (an attribute, a statement Sid); never a secret value. */
  readonly check: (resource: TerraformResource, context: RuleContext) => Verdict | RuleResult;
}

export interface RuleResult {
  readonly verdict: Verdict;
  readonly detail?: string;
}

/**
 * A finding someone has decided to accept. It must say why (the report lists every one) and name where: a
 * construct path (`storage/assets-cdn`, which also covers everything below it) or a resource address, optionally
 * a stack. A suppression that matches nothing is reported as unused, so a stale one does not linger.
 */
export interface Suppression {
  readonly rule: string;
  readonly path?: string;
  readonly address?: string;
  readonly stack?: string;
  readonly reason: string;
}

export interface Finding {
  readonly rule: string;
  readonly stack: string;
  readonly address: string;
  readonly path: string;
  readonly verdict: Verdict;
  readonly why: string;
  readonly fix: string;
  /** What exactly the rule found, e.g. `statement "AllowAll": Action "*"`. */
  readonly detail?: string;
  /** Set when a suppression with a written reason covers this finding. */
  readonly suppressed?: { readonly reason: string };
}

export interface GuardrailReport {
  /** Compliant and non-compliant findings (not-applicable pairs are counted, not listed). */
  readonly findings: readonly Finding[];
  /** Non-compliant and not suppressed: what fails the build. */
  readonly failures: readonly Finding[];
  readonly suppressed: readonly Finding[];
  /** How many rules ran over how many stacks and resources. */
  readonly rulesRun: number;
  readonly stacksChecked: number;
  readonly resourcesChecked: number;
  /** Suppressions that matched no non-compliant finding: remove them. */
  readonly unusedSuppressions: readonly Suppression[];
}
