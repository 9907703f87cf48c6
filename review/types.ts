import type { CostDiff, CostEstimate } from '../cost/estimate';
import type { Finding } from '../guardrails/types';

/** What happens to a resource: Terraform's own action names, `replace` for delete+create in either order. */
export type Action = 'create' | 'update' | 'replace' | 'delete' | 'read' | 'no-op' | 'forget';

export interface AttributeChange {
  /** `rule[0].apply_server_side_encryption_by_default.sse_algorithm`, `policy`, … */
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'changed';
  /** Display values; `(sensitive)` when masked, `(known after apply)` when the plan does not know yet. */
  readonly before?: string;
  readonly after?: string;
  readonly sensitive?: boolean;
  /** A JSON document (policy) that changed: a unified diff of the pretty-printed documents. */
  readonly documentDiff?: string;
  /** Terraform says (plan) or this attribute usually (synth) forces the resource to be replaced. */
  readonly forcesReplacement?: boolean;
}

export interface ResourceChange {
  readonly stack: string;
  readonly address: string;
  readonly type: string;
  /** cdktf's construct path (`storage/assets/bucket`) when known. */
  readonly path?: string;
  readonly action: Action;
  /** Raw values (unmasked: risk checks read them; renderers only use `attributes`). */
  readonly before?: Record<string, unknown>;
  readonly after?: Record<string, unknown>;
  readonly attributes: readonly AttributeChange[];
  /** Terraform's `action_reason`, in words. */
  readonly reason?: string;
  /** Terraform's `replace_paths`, as attribute paths. */
  readonly replacePaths?: readonly string[];
  readonly previousAddress?: string;
}

export interface OutputChange {
  readonly name: string;
  readonly action: 'create' | 'update' | 'delete';
  readonly before?: string;
  readonly after?: string;
  readonly sensitive: boolean;
}

export interface StackChanges {
  readonly stack: string;
  /** `synth`: base vs head synthesized JSON; `plan`: a real `terraform show -json` plan. */
  readonly source: 'synth' | 'plan';
  readonly status: 'added' | 'removed' | 'changed' | 'unchanged';
  readonly changes: readonly ResourceChange[];
  readonly outputs: readonly OutputChange[];
  readonly unchanged: number;
  readonly notes: readonly string[];
}

export type Severity = 'high' | 'medium' | 'low';
export type RiskKind = 'deletion' | 'replacement' | 'iam-widening' | 'sg-opening' | 'public-access' | 'bucket-policy' | 'exposure';

export interface RiskFlag {
  readonly severity: Severity;
  readonly kind: RiskKind;
  readonly stack: string;
  readonly address: string;
  readonly path?: string;
  readonly message: string;
  readonly source: 'synth' | 'plan';
}

export interface GuardrailDiff {
  /** False until guardrails exports runGuardrails (or when it threw): `reason` says why. */
  readonly available: boolean;
  readonly reason?: string;
  /** Unsuppressed failures at head that base did not have. */
  readonly new: readonly Finding[];
  /** Failures at base that head no longer has. */
  readonly fixed: readonly Finding[];
  /** Failures on both sides. */
  readonly remaining: readonly Finding[];
  /** Suppressed at head (with their reasons), for the record. */
  readonly suppressed: readonly Finding[];
}

export interface CostReview {
  /** Absent when there is no base (plan-only or head-only review). */
  readonly diff?: CostDiff;
  readonly base?: CostEstimate;
  readonly head: CostEstimate;
  /** Every scenario of the head config (usage held equal on both sides): base → head totals. */
  readonly scenarios: readonly { readonly name: string; readonly gpuHoursPerDay: number; readonly purchase: string; readonly baseUsd?: number; readonly headUsd: number; readonly baseUnpriced?: readonly string[]; readonly headUnpriced: readonly string[] }[];
}

export interface Revision {
  readonly label: string;
  readonly sha?: string;
}

export interface Review {
  readonly base?: Revision;
  readonly head: Revision;
  readonly stacks: readonly StackChanges[];
  readonly plans: readonly StackChanges[];
  readonly risks: readonly RiskFlag[];
  readonly guardrails: GuardrailDiff;
  readonly cost?: CostReview;
  readonly warnings: readonly string[];
  readonly timings: Readonly<Record<string, number>>;
}
