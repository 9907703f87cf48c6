/**
 * What a command (an ops CLI command, bake-ami, a control-plane capability) calls in AWS, declared once beside the
 * command. The IAM simulation (iam/) replays every declared call against the identity the declaration names and
 * fails when that identity is not allowed; the identity's policy grants exactly the union of what is declared for it.
 * Pure data, no imports: any layer may declare its needs.
 */

/** One AWS request as IAM authorizes it. */
export interface IamCall {
  /** `service:Action` as IAM names it (not always the API name: DescribeBudget is `budgets:ViewBudget`). */
  readonly action: string;
  /** The ARN the call touches; `*` only for actions that support no resource type. */
  readonly resource: string;
  /** Request context the call carries, e.g. the instance's `aws:ResourceTag/Project`. */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /** Why the command makes it (shown in docs/iam.md). */
  readonly why?: string;
}

/** The names of the identities that hold a declaration (docs/iam.md lists them). */
export type IamIdentityName = string;

/** A command's declaration: who runs it and every call it makes. */
export interface IamNeeds {
  /** `gpu start`, `bake-ami`, `capability gpu.start`, … */
  readonly command: string;
  /** The identity that runs it, e.g. `ziggie-agent`. */
  readonly identity: IamIdentityName;
  readonly calls: readonly IamCall[];
  /**
   * The identity grants nothing near these calls: the simulation also asks, for each call, just outside it (another
   * project's resource, another model or distribution, the instance without its tag, another address for a
   * VPS-held user) and expects a denial. Off where a policy is knowingly wider than its calls (e.g. a `*` that
   * a Describe needs to see everything).
   */
  readonly exact?: boolean;
}

/** The ARN-relevant parts of the config a declaration is computed from (structurally a subset of ZiggieConfig). */
export interface IamNeedsScope {
  readonly project: string;
  readonly environment: string;
  readonly region: string;
  readonly accountId: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** A command's declaration as a function of the config, so ARNs are the deployed ones. */
export type IamNeedsOf<C extends IamNeedsScope = IamNeedsScope> = (config: C) => IamNeeds;
