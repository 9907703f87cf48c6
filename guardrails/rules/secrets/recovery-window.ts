import { fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const secretsRecoveryWindow: GuardrailRule = {
  id: 'SECRETS-RECOVERY-WINDOW',
  area: 'secrets',
  why: 'With a recovery window of 0 a mistaken destroy deletes the secret at once, with no way to restore it.',
  fix: 'Set recovery_window_in_days between 7 and 30 (config secrets.recoveryWindowDays).',
  check(resource) {
    if (resource.type !== 'aws_secretsmanager_secret') return 'not-applicable';
    const days = resource.config.recovery_window_in_days;
    if (days === undefined) return 'compliant'; // AWS default: 30 days
    return Number(days) >= 7 ? 'compliant' : fail(`recovery_window_in_days ${String(days)}`);
  },
};
