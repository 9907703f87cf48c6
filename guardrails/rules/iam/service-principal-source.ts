import { allowStatements, asArray, conditionKeys, fail, sid } from '../../lib';
import type { GuardrailRule } from '../../types';

const SOURCE_KEYS = ['aws:sourcearn', 'aws:sourceaccount', 'aws:sourceorgid', 'aws:sourceorgpaths'];

export const iamServicePrincipalSource: GuardrailRule = {
  id: 'IAM-SERVICE-PRINCIPAL-SOURCE',
  area: 'iam',
  why: 'A resource policy that trusts a service principal alone can be used by that service on behalf of any other account (confused deputy).',
  fix: 'Add an aws:SourceArn (or aws:SourceAccount) condition naming this account\'s trail, distribution or rule.',
  check(resource) {
    const allows = allowStatements(resource, ['resource']);
    if (allows === undefined) return 'not-applicable';
    const bad = allows.filter(({ statement }) => {
      const p = statement.Principal;
      const services = typeof p === 'object' && p !== null ? asArray((p as Record<string, unknown>).Service as string | string[]) : [];
      return services.length > 0 && !conditionKeys(statement).some((k) => SOURCE_KEYS.includes(k));
    });
    return bad.length === 0 ? 'compliant' : fail(bad.map(({ statement }) => `${sid(statement)}: service principal without aws:SourceArn/SourceAccount`).join('; '));
  },
};
