import { bucketCompanions, blocks, fail, isTrue } from '../../lib';
import type { GuardrailRule } from '../../types';

export const s3Versioning: GuardrailRule = {
  id: 'S3-VERSIONING',
  area: 's3',
  why: 'Versioning keeps overwritten and deleted objects recoverable (mistakes, ransomware, a bad sync).',
  fix: 'Add an aws_s3_bucket_versioning with status "Enabled", and a lifecycle rule expiring noncurrent versions.',
  check(resource, context) {
    if (resource.type !== 'aws_s3_bucket') return 'not-applicable';
    const enabled = bucketCompanions(resource, context, 'aws_s3_bucket_versioning')
      .some((v) => blocks(v.config.versioning_configuration).some((c) => c.status === 'Enabled'))
      || blocks(resource.config.versioning).some((v) => isTrue(v.enabled));
    return enabled ? 'compliant' : fail('versioning is not enabled');
  },
};
