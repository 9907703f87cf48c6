import { allowStatements, fail, iamGlob, sid } from '../../lib';
import type { GuardrailRule } from '../../types';

export const iamNoPassRoleWildcard: GuardrailRule = {
  id: 'IAM-NO-PASSROLE-WILDCARD',
  area: 'iam',
  why: 'iam:PassRole on every role lets the holder launch compute with any role in the account, including admin roles.',
  fix: 'Grant iam:PassRole on the one role ARN that is passed, with an iam:PassedToService condition.',
  check(resource) {
    const allows = allowStatements(resource, ['identity']);
    if (allows === undefined) return 'not-applicable';
    const bad = allows.filter(({ statement }) => statement.Action.some((a) => iamGlob(a, 'iam:PassRole'))
      && statement.Resource.some((r) => r === '*' || /:role\/\*$/.test(r)));
    return bad.length === 0 ? 'compliant' : fail(bad.map(({ statement }) => `${sid(statement)}: iam:PassRole on every role`).join('; '));
  },
};
