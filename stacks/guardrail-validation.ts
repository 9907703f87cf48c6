import path from 'node:path';
import type { App, TerraformStack } from 'cdktf';
import type { IValidation } from 'constructs';
import { formatFailure, PROJECT_SUPPRESSIONS, runGuardrails, type GuardrailReport, type Suppression } from '../guardrails';
import { readTerraformJson } from '../shared/terraform-json';

/**
 * The guardrails as a CDKTF validation on the App. `App.synth()` writes every stack's cdk.tf.json and then runs
 * the app's validations; a failing guardrail makes it throw, so `cdktf synth|diff|deploy` (which run main.ts)
 * refuse the app. The rules read the JSON just written, exactly what Terraform would apply. The last report stays
 * on the object, so `npm start` prints it without running the rules a second time.
 */
/** main.ts's exit status when a guardrail refused the synth (the stacks are written; the manifest is not). */
export const GUARDRAIL_EXIT_CODE = 3;

export class GuardrailValidation implements IValidation {
  /** Set by the last `validate()`, i.e. by the last `App.synth()`. */
  report?: GuardrailReport;

  constructor(
    private readonly app: App,
    private readonly stacks: readonly TerraformStack[],
    private readonly suppressions: readonly Suppression[] = PROJECT_SUPPRESSIONS,
  ) {}

  validate(): string[] {
    const synthesized = this.stacks.map((stack) => {
      const dir = path.join(this.app.outdir, 'stacks', stack.node.id);
      return { name: stack.node.id, dir, json: readTerraformJson(path.join(dir, 'cdk.tf.json')) };
    });
    this.report = runGuardrails(synthesized, this.suppressions);
    return this.report.failures.map(formatFailure);
  }

  /** True when the last synth was refused by a guardrail (not by another validation). */
  get failed(): boolean {
    return (this.report?.failures.length ?? 0) > 0;
  }
}
