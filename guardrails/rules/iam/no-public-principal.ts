import { allowStatements, fail, isAnonymousPrincipal, sid } from '../../lib';
import type { GuardrailRule } from '../../types';

export const iamNoPublicPrincipal: GuardrailRule = {
  id: 'IAM-NO-PUBLIC-PRINCIPAL',
  area: 'iam',
  why: 'An Allow to Principal "*" with no condition opens the resource (or the role) to every AWS account and anonymous callers.',
  fix: 'Name the principal (a service with aws:SourceArn, or an account/role ARN) or add a narrowing condition.',
  check(resource) {
    const allows = allowStatements(resource, ['resource', 'trust']);
    if (allows === undefined) return 'not-applicable';
    const bad = allows.filter(({ statement }) => isAnonymousPrincipal(statement.Principal) && Object.keys(statement.Condition ?? {}).length === 0);
    return bad.length === 0 ? 'compliant' : fail(bad.map(({ statement }) => `${sid(statement)}: Principal "*" without a condition`).join('; '));
  },
};
