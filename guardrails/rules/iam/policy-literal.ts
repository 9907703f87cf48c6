import { fail, policyDocumentsOf } from '../../lib';
import type { GuardrailRule } from '../../types';

export const iamPolicyLiteral: GuardrailRule = {
  id: 'IAM-POLICY-LITERAL',
  area: 'iam',
  why: 'A policy built by a data source or function is unknown until plan, so neither these guardrails nor the PR review can read it.',
  fix: 'Write the policy with policyDocument() from shared/iam-policy.ts (a literal JSON string).',
  check(resource) {
    const docs = policyDocumentsOf(resource);
    if (docs.length === 0) return 'not-applicable';
    const unreadable = docs.filter((d) => d.statements === undefined);
    return unreadable.length === 0 ? 'compliant' : fail(`not a literal JSON policy: ${unreadable.map((d) => d.attribute).join(', ')}`);
  },
};
