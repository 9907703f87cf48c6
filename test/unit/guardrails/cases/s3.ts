import { s3Encryption } from '../../../../guardrails/rules/s3/encryption';
import { s3NoPublicAcl } from '../../../../guardrails/rules/s3/no-public-acl';
import { s3OwnershipEnforced } from '../../../../guardrails/rules/s3/ownership-enforced';
import { s3PublicAccessBlock } from '../../../../guardrails/rules/s3/public-access-block';
import { s3TlsOnly } from '../../../../guardrails/rules/s3/tls-only';
import { s3Versioning } from '../../../../guardrails/rules/s3/versioning';
import { patch, policy, type Resources, type RuleCases, without } from '../fixtures';

const B = '${aws_s3_bucket.b.id}';
const TLS_DENY = {
  Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*',
  Resource: ['arn:aws:s3:::ziggie-x', 'arn:aws:s3:::ziggie-x/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

/** A bucket with every companion the S3 rules ask for (what modules/private-bucket.ts synthesizes). */
export const secureBucket: Resources = {
  aws_s3_bucket: { b: { bucket: 'ziggie-x' } },
  aws_s3_bucket_public_access_block: { pab: { bucket: B, block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true } },
  aws_s3_bucket_server_side_encryption_configuration: { sse: { bucket: B, rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }] } },
  aws_s3_bucket_versioning: { v: { bucket: B, versioning_configuration: { status: 'Enabled' } } },
  aws_s3_bucket_ownership_controls: { o: { bucket: B, rule: { object_ownership: 'BucketOwnerEnforced' } } },
  aws_s3_bucket_policy: { p: { bucket: B, policy: policy(TLS_DENY) } },
};
const target = 'aws_s3_bucket.b';

export const s3Cases: RuleCases[] = [
  {
    rule: s3PublicAccessBlock,
    failing: [
      { name: 'no public access block', resources: without(secureBucket, 'aws_s3_bucket_public_access_block'), target },
      { name: 'restrict_public_buckets false', resources: patch(secureBucket, 'aws_s3_bucket_public_access_block', 'pab', { restrict_public_buckets: false }), target },
      { name: 'a block for another bucket', resources: patch(secureBucket, 'aws_s3_bucket_public_access_block', 'pab', { bucket: '${aws_s3_bucket.other.id}' }), target },
    ],
    passing: [
      { name: 'all four true', resources: secureBucket, target },
      { name: 'bucket named literally', resources: patch(secureBucket, 'aws_s3_bucket_public_access_block', 'pab', { bucket: 'ziggie-x' }), target },
    ],
  },
  {
    rule: s3Encryption,
    failing: [{ name: 'no SSE configuration', resources: without(secureBucket, 'aws_s3_bucket_server_side_encryption_configuration'), target }],
    passing: [
      { name: 'AES256', resources: secureBucket, target },
      { name: 'aws:kms', resources: patch(secureBucket, 'aws_s3_bucket_server_side_encryption_configuration', 'sse', { rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms' } }] }), target },
    ],
  },
  {
    rule: s3Versioning,
    failing: [
      { name: 'no versioning', resources: without(secureBucket, 'aws_s3_bucket_versioning'), target },
      { name: 'suspended', resources: patch(secureBucket, 'aws_s3_bucket_versioning', 'v', { versioning_configuration: { status: 'Suspended' } }), target },
    ],
    passing: [{ name: 'enabled', resources: secureBucket, target }],
  },
  {
    rule: s3TlsOnly,
    failing: [
      { name: 'no bucket policy', resources: without(secureBucket, 'aws_s3_bucket_policy'), target },
      { name: 'deny only the objects', resources: patch(secureBucket, 'aws_s3_bucket_policy', 'p', { policy: policy({ ...TLS_DENY, Resource: 'arn:aws:s3:::ziggie-x/*' }) }), target },
      { name: 'a policy without the TLS deny', resources: patch(secureBucket, 'aws_s3_bucket_policy', 'p', { policy: policy({ Effect: 'Allow', Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::ziggie-x/*' }) }), target },
    ],
    passing: [{ name: 'deny aws:SecureTransport=false on bucket and objects', resources: secureBucket, target }],
  },
  {
    rule: s3NoPublicAcl,
    failing: [
      { name: 'public-read canned ACL', resources: { aws_s3_bucket_acl: { a: { bucket: B, acl: 'public-read' } } } },
      { name: 'grant to AllUsers', resources: { aws_s3_bucket_acl: { a: { bucket: B, access_control_policy: { grant: [{ grantee: { type: 'Group', uri: 'http://acs.amazonaws.com/groups/global/AllUsers' }, permission: 'READ' }], owner: { id: 'x' } } } } } },
    ],
    passing: [
      { name: 'private ACL', resources: { aws_s3_bucket_acl: { a: { bucket: B, acl: 'private' } } } },
      { name: 'bucket without ACL', resources: secureBucket, target },
    ],
  },
  {
    rule: s3OwnershipEnforced,
    failing: [
      { name: 'no ownership controls', resources: without(secureBucket, 'aws_s3_bucket_ownership_controls'), target },
      { name: 'ObjectWriter', resources: patch(secureBucket, 'aws_s3_bucket_ownership_controls', 'o', { rule: { object_ownership: 'ObjectWriter' } }), target },
    ],
    passing: [{ name: 'BucketOwnerEnforced', resources: secureBucket, target }],
  },
];
