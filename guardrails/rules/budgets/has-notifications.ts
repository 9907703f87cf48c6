import { blocks, budgetNotifies, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const budgetsHasNotifications: GuardrailRule = {
  id: 'BUDGETS-HAS-NOTIFICATIONS',
  area: 'budgets',
  why: 'A budget nobody is told about does not stop a forgotten GPU instance from running all month.',
  fix: 'Add ACTUAL notifications at the configured thresholds with subscriber e-mails (config budgets.alertEmails).',
  check(resource) {
    if (resource.type !== 'aws_budgets_budget') return 'not-applicable';
    const actual = blocks(resource.config.notification).filter((n) => budgetNotifies(n, 'ACTUAL'));
    return actual.length > 0 ? 'compliant' : fail('no ACTUAL notification with a subscriber');
  },
};
