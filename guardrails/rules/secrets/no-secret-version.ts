import { fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const secretsNoSecretVersion: GuardrailRule = {
  id: 'SECRETS-NO-SECRET-VERSION',
  area: 'secrets',
  why: 'A secret value set by Terraform is stored in plain text in the plan and the state, readable by anyone with the state bucket.',
  fix: 'Create only the secret container; put the value with `ziggie secrets put NAME` (stdin).',
  check(resource) {
    if (resource.type === 'aws_secretsmanager_secret_version') return fail('a secret value managed by Terraform');
    if (resource.type === 'aws_ssm_parameter' && resource.config.type === 'SecureString'
      && (resource.config.value !== undefined || resource.config.insecure_value !== undefined)) {
      return fail('a SecureString parameter whose value Terraform manages');
    }
    return 'not-applicable';
  },
};
