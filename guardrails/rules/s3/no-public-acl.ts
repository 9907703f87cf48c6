import { blocks, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

const PUBLIC_CANNED = ['public-read', 'public-read-write', 'authenticated-read'];
const PUBLIC_GRANTEES = ['http://acs.amazonaws.com/groups/global/AllUsers', 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'];

export const s3NoPublicAcl: GuardrailRule = {
  id: 'S3-NO-PUBLIC-ACL',
  area: 's3',
  why: 'A public ACL gives anyone on the internet (or any AWS account) read or write access to objects.',
  fix: 'Remove the ACL: keep object ownership BucketOwnerEnforced and grant access with policies (e.g. CloudFront OAC).',
  check(resource) {
    if (!['aws_s3_bucket', 'aws_s3_bucket_acl', 'aws_s3_object'].includes(resource.type)) return 'not-applicable';
    const acl = resource.config.acl;
    if (typeof acl === 'string' && PUBLIC_CANNED.includes(acl)) return fail(`canned ACL "${acl}"`);
    const grants = blocks(resource.config.access_control_policy).flatMap((p) => blocks(p.grant));
    const publicGrant = grants.find((g) => blocks(g.grantee).some((who) => PUBLIC_GRANTEES.includes(String(who.uri))));
    return publicGrant ? fail('a grant to AllUsers or AuthenticatedUsers') : 'compliant';
  },
};
