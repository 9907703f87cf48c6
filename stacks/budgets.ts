import type { Construct } from 'constructs';
import { BudgetsBudget, type BudgetsBudgetNotification } from '@cdktf/provider-aws/lib/budgets-budget';
import type { ZiggieConfig } from '../config/schema';
import { ziggieNames } from '../shared/names';
import { ZiggieStack } from './ziggie-stack';

/** AWS Budgets allows at most five notifications per budget. */
export const MAX_BUDGET_NOTIFICATIONS = 5;

/**
 * A monthly cost budget for the whole account (tag-filtered budgets only see tags activated as cost allocation
 * tags, which a new account does not have): an e-mail when actual spend passes each configured threshold, in
 * absolute USD, and one when the month is forecast to pass the top threshold. The GPU stack adds a budget action
 * (stop the instance) against `budget` at the top threshold.
 */
export class BudgetsStack extends ZiggieStack {
  readonly budget: BudgetsBudget;
  readonly budgetName: string;

  constructor(scope: Construct, id: string, config: ZiggieConfig) {
    super(scope, id, { config });
    const b = config.budgets;
    const top = Math.max(...b.thresholdsUsd);
    const notifications: BudgetsBudgetNotification[] = [
      ...b.thresholdsUsd.map((threshold) => notification('ACTUAL', threshold, b.alertEmails)),
      notification('FORECASTED', top, b.alertEmails),
    ];
    if (notifications.length > MAX_BUDGET_NOTIFICATIONS) {
      throw new Error(`config error: budgets.thresholdsUsd: at most ${MAX_BUDGET_NOTIFICATIONS - 1} thresholds ` +
        `(AWS Budgets allows ${MAX_BUDGET_NOTIFICATIONS} notifications per budget and one is the forecast alert)`);
    }
    this.budgetName = ziggieNames(config).budget;
    this.budget = new BudgetsBudget(this, 'monthly-budget', {
      name: this.budgetName,
      accountId: config.accountId,
      budgetType: 'COST',
      limitAmount: b.monthlyLimitUsd.toFixed(2),
      limitUnit: 'USD',
      timeUnit: 'MONTHLY',
      notification: notifications,
    });
  }
}

function notification(type: 'ACTUAL' | 'FORECASTED', thresholdUsd: number, emails: string[]): BudgetsBudgetNotification {
  return {
    notificationType: type,
    comparisonOperator: 'GREATER_THAN',
    threshold: thresholdUsd,
    thresholdType: 'ABSOLUTE_VALUE',
    subscriberEmailAddresses: [...emails],
  };
}
