import { allowStatements, fail, sid } from '../../lib';
import { isUnscopable } from '../../unscopable-actions';
import type { GuardrailRule } from '../../types';

export const iamWildcardResource: GuardrailRule = {
  id: 'IAM-WILDCARD-RESOURCE',
  area: 'iam',
  why: 'Resource "*" lets the actions touch every resource of that type in the account, not just the project\'s.',
  fix: 'Name the ARNs (computed from the config); Resource "*" only for actions listed in guardrails/unscopable-actions.ts.',
  check(resource) {
    const allows = allowStatements(resource, ['identity']);
    if (allows === undefined) return 'not-applicable';
    const bad = allows.flatMap(({ statement }) => (statement.Resource.includes('*')
      ? statement.Action.filter((a) => !isUnscopable(a)).map((a) => `${sid(statement)}: ${a} on "*"`)
      : []));
    return bad.length === 0 ? 'compliant' : fail(bad.join('; '));
  },
};
