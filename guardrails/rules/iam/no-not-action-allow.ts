import { allowStatements, fail, sid } from '../../lib';
import type { GuardrailRule } from '../../types';

export const iamNoNotActionAllow: GuardrailRule = {
  id: 'IAM-NO-NOTACTION-ALLOW',
  area: 'iam',
  why: 'Allow with NotAction or NotResource grants everything except a list, including every action AWS adds later.',
  fix: 'Allow the listed actions on the listed resources; use NotAction only in Deny statements.',
  check(resource) {
    const allows = allowStatements(resource);
    if (allows === undefined) return 'not-applicable';
    const bad = allows.filter(({ statement }) => statement.NotAction.length > 0 || statement.NotResource.length > 0);
    return bad.length === 0 ? 'compliant' : fail(bad.map(({ statement }) => `${sid(statement)}: Allow with NotAction/NotResource`).join('; '));
  },
};
