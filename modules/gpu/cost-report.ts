import type { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { assumeRolePolicy, policyDocument } from '../../shared/iam-policy';
import { GPU_NAMES } from '../../shared/names';
import { BundledFunction, writeOwnLogs } from '../bundled-function';

export interface CostReportProps {
  readonly accountId: string;
  /** The notifications topic the report is e-mailed through. */
  readonly topicArn: string;
  readonly gpuInstanceType: string;
  readonly vpsMonthlyUsd: number;
  readonly budgetLimitUsd: number;
  readonly thresholdsUsd: readonly number[];
  /** n8n webhook the report is also POSTed to. @default none */
  readonly webhookUrl?: string;
  /** @default 'cron(0 7 1 * ? *)' — 07:00 UTC on the 1st */
  readonly monthlyCron?: string;
  /** @default 'cron(0 7 ? * MON *)' — 07:00 UTC on Mondays */
  readonly weeklyCron?: string;
}

/**
 * The cost report: lambda/cost-report (a BundledFunction) run by two EventBridge Scheduler schedules — last
 * month's report on the 1st, the weekly digest on Mondays — publishing to the notifications topic. Its role can
 * read Cost Explorer, publish to that one topic and write its own logs; nothing else.
 */
export class CostReport extends BundledFunction {

  constructor(scope: Construct, id: string, props: CostReportProps) {
    super(scope, id, {
      source: 'cost-report',
      ids: { fn: 'cost-report' },
      functionName: GPU_NAMES.costReportFunction,
      description: 'Monthly cost report (1st) and weekly digest (Monday) to the notifications topic',
      accountId: props.accountId,
      policyName: 'read-costs-publish-report',
      statements: (logs) => [
        // Cost Explorer has no resource-level permissions.
        { Sid: 'ReadCosts', Effect: 'Allow', Action: ['ce:GetCostAndUsage', 'ce:GetCostForecast'], Resource: '*' },
        { Sid: 'PublishReport', Effect: 'Allow', Action: 'sns:Publish', Resource: props.topicArn },
        writeOwnLogs(logs),
      ],
      timeoutSeconds: 60,
      reservedConcurrentExecutions: 1,
      environment: {
        TOPIC_ARN: props.topicArn,
        WEBHOOK_URL: props.webhookUrl ?? '',
        GPU_INSTANCE_TYPE: props.gpuInstanceType,
        VPS_MONTHLY_USD: String(props.vpsMonthlyUsd),
        BUDGET_LIMIT_USD: String(props.budgetLimitUsd),
        THRESHOLDS_USD: props.thresholdsUsd.join(','),
      },
    });
    const schedulerRole = new IamRole(this, 'cost-report-scheduler-role', {
      name: GPU_NAMES.costReportScheduler,
      assumeRolePolicy: assumeRolePolicy('scheduler.amazonaws.com', props.accountId),
    });
    new IamRolePolicy(this, 'cost-report-scheduler-policy', {
      role: schedulerRole.name,
      name: 'invoke-cost-report',
      policy: policyDocument([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: this.fn.arn }]),
    });
    const schedules: [kind: 'monthly' | 'weekly', cron: string, what: string][] = [
      ['monthly', props.monthlyCron ?? 'cron(0 7 1 * ? *)', 'Last month\'s cost report, on the 1st'],
      ['weekly', props.weeklyCron ?? 'cron(0 7 ? * MON *)', 'The weekly cost digest, on Mondays'],
    ];
    for (const [kind, cron, what] of schedules) {
      new SchedulerSchedule(this, `cost-report-${kind}`, {
        name: GPU_NAMES.costReportSchedule(kind),
        description: what,
        scheduleExpression: cron,
        scheduleExpressionTimezone: 'UTC',
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: this.fn.arn,
          roleArn: schedulerRole.arn,
          input: JSON.stringify({ kind }),
          // no retry: a retried run would e-mail the report twice; a failure shows in the Lambda's Errors
          retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 3600 },
        },
      });
    }
  }
}
