import { App, type TerraformStack } from 'cdktf';
import type { ZiggieConfig } from '../config/schema';
import { StateStack } from './state';

/** Every stack of the Ziggie Cloud, in the order a first deployment applies them. */
export function buildApp(config: ZiggieConfig, outdir = 'cdktf.out'): { app: App; stacks: TerraformStack[] } {
  const app = new App({ outdir, skipValidation: false });
  const stacks: TerraformStack[] = [new StateStack(app, 'state', config)];
  return { app, stacks };
}
