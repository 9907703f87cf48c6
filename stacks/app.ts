import { App, type TerraformStack } from 'cdktf';
import type { ZiggieConfig } from '../config/schema';
import { PROJECT_SUPPRESSIONS, type Suppression } from '../guardrails';
import { AuditStack } from './audit';
import { BudgetsStack } from './budgets';
import { GuardrailValidation } from './guardrail-validation';
import { GpuStack } from './gpu';
import { IamStack } from './iam';
import { NetworkStack } from './network';
import { SecretsStack } from './secrets';
import { StateStack } from './state';
import { StorageStack } from './storage';

/**
 * Every stack of the Ziggie Cloud, in the order a first deployment applies them, with the guardrails registered
 * as the app's validation: `app.synth()` throws when one fails (see guardrail-validation.ts).
 */
export function buildApp(config: ZiggieConfig, outdir = 'cdktf.out', suppressions: readonly Suppression[] = PROJECT_SUPPRESSIONS)
  : { app: App; stacks: TerraformStack[]; guardrails: GuardrailValidation } {
  const app = new App({ outdir, skipValidation: false });
  const stacks: TerraformStack[] = [
    // First, alone, with local state: every other stack keeps its state in this bucket.
    new StateStack(app, 'state', config),
    new NetworkStack(app, 'network', config),
    new StorageStack(app, 'storage', config),
    new SecretsStack(app, 'secrets', config),
    new IamStack(app, 'iam', config),
    new AuditStack(app, 'audit', config),
    new BudgetsStack(app, 'budgets', config),
  ];
  const network = stacks[1] as NetworkStack;
  stacks.push(new GpuStack(app, 'gpu', config, {
    subnetId: network.publicSubnets[0].id,
    comfyuiSecurityGroupId: network.comfyuiSecurityGroup.id,
  }));
  const guardrails = new GuardrailValidation(app, stacks, suppressions);
  app.node.addValidation(guardrails);
  return { app, stacks, guardrails };
}
