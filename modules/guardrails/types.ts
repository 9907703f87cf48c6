import type { SynthesizedStack, TerraformResource } from '../../stacks/terraform-json';

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

export interface GuardrailRule {
  /** Stable id, e.g. `S3-PUBLIC-ACCESS-BLOCK`; suppressions name it. */
  readonly id: string;
  /** Why it matters, one sentence. */
  readonly why: string;
  /** How to fix it, one sentence. */
  readonly fix: string;
  readonly check: (resource: TerraformResource, context: RuleContext) => Verdict;
}

export interface Finding {
  readonly rule: string;
  readonly stack: string;
  readonly address: string;
  readonly path: string;
  readonly verdict: Verdict;
  readonly why: string;
  readonly fix: string;
  /** Set when a suppression with a written reason covers this finding. */
  readonly suppressed?: { readonly reason: string };
}

export interface GuardrailReport {
  readonly findings: readonly Finding[];
  /** Non-compliant and not suppressed: what fails the build. */
  readonly failures: readonly Finding[];
  readonly suppressed: readonly Finding[];
}
