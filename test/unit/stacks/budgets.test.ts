import { App } from 'cdktf';
import { BudgetsStack } from '../../../stacks/budgets';
import { exampleConfig, synth } from './helpers';

describe('budgets stack', () => {
  const config = exampleConfig();
  const s = synth((app) => new BudgetsStack(app, 'budgets', config));

  test('monthly cost budget with the configured limit', () => {
    expect(s.one('aws_budgets_budget').config).toMatchObject({
      budget_type: 'COST', time_unit: 'MONTHLY', limit_amount: '150.00', limit_unit: 'USD', account_id: '111122223333',
    });
  });

  test('actual-spend alerts at 50/100/150 USD (absolute) and a forecast alert at the top, to the configured e-mails', () => {
    const notifications = s.one('aws_budgets_budget').config.notification as Array<Record<string, unknown>>;
    expect(notifications.map((n) => [n.notification_type, n.threshold, n.threshold_type, n.comparison_operator])).toEqual([
      ['ACTUAL', 50, 'ABSOLUTE_VALUE', 'GREATER_THAN'],
      ['ACTUAL', 100, 'ABSOLUTE_VALUE', 'GREATER_THAN'],
      ['ACTUAL', 150, 'ABSOLUTE_VALUE', 'GREATER_THAN'],
      ['FORECASTED', 150, 'ABSOLUTE_VALUE', 'GREATER_THAN'],
    ]);
    expect(notifications.every((n) => JSON.stringify(n.subscriber_email_addresses) === JSON.stringify(config.budgets.alertEmails))).toBe(true);
  });

  test('more thresholds than AWS Budgets can notify about is a clear error', () => {
    const changed = exampleConfig();
    changed.budgets.thresholdsUsd = [10, 20, 30, 40, 50];
    expect(() => new BudgetsStack(new App({ outdir: '/tmp/unused' }), 'budgets', changed)).toThrow(/at most 4 thresholds/);
  });
});
