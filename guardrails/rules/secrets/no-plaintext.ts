import { fail } from '../../lib';
import { findSecrets } from '../../secret-patterns';
import type { GuardrailRule } from '../../types';

export const secretsNoPlaintext: GuardrailRule = {
  id: 'SECRETS-NO-PLAINTEXT',
  area: 'secrets',
  why: 'A secret written into the configuration is in git, in the synthesized JSON, in every plan and in the state.',
  fix: 'Remove it, rotate it, and reference a Secrets Manager secret by name instead.',
  // Runs on every block of the stack: resources, and (as pseudo-resources) data sources, outputs, variables,
  // locals and provider blocks.
  check(resource) {
    const found = findSecrets(resource.config);
    return found.length === 0 ? 'compliant' : fail(found.join('; '));
  },
};
