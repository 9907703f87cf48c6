import { fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const logsRetention: GuardrailRule = {
  id: 'LOGS-RETENTION',
  area: 'logs',
  why: 'A log group without retention keeps (and bills) every event forever.',
  fix: 'Set retention_in_days from the config (network.flowLogRetentionDays, audit.retentionDays).',
  check(resource) {
    if (resource.type !== 'aws_cloudwatch_log_group') return 'not-applicable';
    const days = Number(resource.config.retention_in_days ?? 0);
    return days > 0 ? 'compliant' : fail('retention_in_days is not set (never expires)');
  },
};
