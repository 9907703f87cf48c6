import { fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const sqsEncryption: GuardrailRule = {
  id: 'SQS-ENCRYPTED',
  area: 'sqs',
  why: 'An unencrypted queue stores message bodies (job payloads, callback URLs) in plain text at rest.',
  fix: 'Set sqs_managed_sse_enabled = true on the queue (or kms_master_key_id for a customer-managed key).',
  check(resource) {
    if (resource.type !== 'aws_sqs_queue') return 'not-applicable';
    const kms = resource.config.kms_master_key_id;
    if (typeof kms === 'string' && kms !== '') return 'compliant';
    const sse = resource.config.sqs_managed_sse_enabled;
    return sse === true || sse === 'true' ? 'compliant' : fail('neither sqs_managed_sse_enabled nor kms_master_key_id is set');
  },
};
