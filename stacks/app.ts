import { App, type TerraformStack } from 'cdktf';
import type { ZiggieConfig } from '../config/schema';
import { AuditStack } from './audit';
import { BudgetsStack } from './budgets';
import { GpuStack } from './gpu';
import { IamStack } from './iam';
import { NetworkStack } from './network';
import { SecretsStack } from './secrets';
import { StateStack } from './state';
import { StorageStack } from './storage';

/** Every stack of the Ziggie Cloud, in the order a first deployment applies them. */
export function buildApp(config: ZiggieConfig, outdir = 'cdktf.out'): { app: App; stacks: TerraformStack[] } {
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
  return { app, stacks };
}
