import { allowStatements, fail, sid } from '../../lib';
import type { GuardrailRule } from '../../types';

export const iamNoAdminAction: GuardrailRule = {
  id: 'IAM-NO-ADMIN-ACTION',
  area: 'iam',
  why: 'Action "*" (or "*:*") grants every permission in AWS, including changing IAM itself.',
  fix: 'List the actions the identity calls.',
  check(resource) {
    const allows = allowStatements(resource);
    if (allows === undefined) return 'not-applicable';
    const bad = allows.filter(({ statement }) => statement.Action.some((a) => a === '*' || a === '*:*'));
    return bad.length === 0 ? 'compliant' : fail(bad.map(({ statement }) => `${sid(statement)}: Action "*"`).join('; '));
  },
};
