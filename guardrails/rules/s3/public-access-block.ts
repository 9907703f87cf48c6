import { bucketCompanions, fail, isTrue } from '../../lib';
import type { GuardrailRule } from '../../types';

const FLAGS = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];

export const s3PublicAccessBlock: GuardrailRule = {
  id: 'S3-PUBLIC-ACCESS-BLOCK',
  area: 's3',
  why: 'Without all four public-access-block settings one ACL or policy change can publish the whole bucket.',
  fix: 'Add an aws_s3_bucket_public_access_block with all four flags true (modules/private-bucket.ts does).',
  check(resource, context) {
    if (resource.type !== 'aws_s3_bucket') return 'not-applicable';
    const blocks = bucketCompanions(resource, context, 'aws_s3_bucket_public_access_block');
    if (blocks.length === 0) return fail('no aws_s3_bucket_public_access_block for this bucket');
    const off = FLAGS.filter((flag) => !blocks.some((b) => isTrue(b.config[flag])));
    return off.length === 0 ? 'compliant' : fail(`not true: ${off.join(', ')}`);
  },
};
