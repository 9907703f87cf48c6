/** Every declared command (shared/iam-needs.ts): the ops CLI and bake-ami. Control-plane capabilities join here. */
import { bakeAmiNeeds } from '../ami/permissions';
import type { ZiggieConfig } from '../config/schema';
import { opsCommandNeeds } from '../ops/permissions';
import type { IamNeeds } from '../shared/iam-needs';

export function commandNeeds(config: ZiggieConfig): IamNeeds[] {
  return [...opsCommandNeeds(config), bakeAmiNeeds(config)];
}
