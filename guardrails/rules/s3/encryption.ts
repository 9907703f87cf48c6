import { bucketCompanions, blocks, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

const ALGORITHMS = ['AES256', 'aws:kms', 'aws:kms:dsse'];

export const s3Encryption: GuardrailRule = {
  id: 'S3-ENCRYPTION',
  area: 's3',
  why: 'Declared server-side encryption keeps objects encrypted at rest whatever the account default is.',
  fix: 'Add an aws_s3_bucket_server_side_encryption_configuration with AES256 or aws:kms.',
  check(resource, context) {
    if (resource.type !== 'aws_s3_bucket') return 'not-applicable';
    const configs = [
      ...bucketCompanions(resource, context, 'aws_s3_bucket_server_side_encryption_configuration').map((c) => c.config),
      ...blocks(resource.config.server_side_encryption_configuration), // the deprecated inline form
    ];
    const ok = configs.some((c) => blocks(c.rule).some((rule) =>
      blocks(rule.apply_server_side_encryption_by_default).some((d) => ALGORITHMS.includes(String(d.sse_algorithm)))));
    return ok ? 'compliant' : fail('no server-side encryption configuration with AES256 or aws:kms');
  },
};
