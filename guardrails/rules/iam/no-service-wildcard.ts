import { allowStatements, fail, sid } from '../../lib';
import type { GuardrailRule } from '../../types';

export const iamNoServiceWildcard: GuardrailRule = {
  id: 'IAM-NO-SERVICE-WILDCARD',
  area: 'iam',
  why: '"service:*" grants that service\'s future and destructive actions too (s3:* includes DeleteBucket and PutBucketPolicy).',
  fix: 'List the actions needed; a prefix such as ec2:Describe* is fine.',
  check(resource) {
    const allows = allowStatements(resource);
    if (allows === undefined) return 'not-applicable';
    const bad = allows.flatMap(({ statement }) => statement.Action.filter((a) => /^[a-z0-9-]+:\*$/i.test(a))
      .map((a) => `${sid(statement)}: ${a}`));
    return bad.length === 0 ? 'compliant' : fail(bad.join('; '));
  },
};
