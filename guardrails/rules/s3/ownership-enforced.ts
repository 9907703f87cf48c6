import { bucketCompanions, blocks, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const s3OwnershipEnforced: GuardrailRule = {
  id: 'S3-OWNERSHIP-ENFORCED',
  area: 's3',
  why: 'BucketOwnerEnforced disables ACLs altogether, so access is decided by policies that can be reviewed.',
  fix: 'Add an aws_s3_bucket_ownership_controls with object_ownership "BucketOwnerEnforced".',
  check(resource, context) {
    if (resource.type !== 'aws_s3_bucket') return 'not-applicable';
    const enforced = bucketCompanions(resource, context, 'aws_s3_bucket_ownership_controls')
      .some((c) => blocks(c.config.rule).some((r) => r.object_ownership === 'BucketOwnerEnforced'));
    return enforced ? 'compliant' : fail('ACLs are not disabled (no BucketOwnerEnforced ownership controls)');
  },
};
