import { blocks, budgetNotifies, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const budgetsForecastAlert: GuardrailRule = {
  id: 'BUDGETS-FORECAST-ALERT',
  area: 'budgets',
  why: 'Actual-spend alerts arrive after the money is spent; a forecast alert warns while there is still time to stop.',
  fix: 'Add a FORECASTED notification at the top threshold with subscribers.',
  check(resource) {
    if (resource.type !== 'aws_budgets_budget') return 'not-applicable';
    const forecast = blocks(resource.config.notification).some((n) => budgetNotifies(n, 'FORECASTED'));
    return forecast ? 'compliant' : fail('no FORECASTED notification with a subscriber');
  },
};
