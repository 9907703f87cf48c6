import { fail, isTrue } from '../../lib';
import type { GuardrailRule } from '../../types';

export const cloudtrailLogFileValidation: GuardrailRule = {
  id: 'CLOUDTRAIL-LOG-FILE-VALIDATION',
  area: 'cloudtrail',
  why: 'Without digest files nobody can prove the audit log was not edited or deleted after the fact.',
  fix: 'Set enable_log_file_validation = true.',
  check(resource) {
    if (resource.type !== 'aws_cloudtrail') return 'not-applicable';
    return isTrue(resource.config.enable_log_file_validation) ? 'compliant' : fail('enable_log_file_validation is not true');
  },
};
