/** Every declared command (shared/iam-needs.ts): the ops CLI, bake-ami and the control plane's capabilities. */
import { bakeAmiNeeds } from '../ami/permissions';
import type { ZiggieConfig } from '../config/schema';
import { Registry } from '../control/registry';
import { opsCommandNeeds } from '../ops/permissions';
import type { IamNeeds } from '../shared/iam-needs';

export function commandNeeds(config: ZiggieConfig): IamNeeds[] {
  return [...opsCommandNeeds(config), bakeAmiNeeds(config), ...new Registry().iamNeeds(config)];
}
