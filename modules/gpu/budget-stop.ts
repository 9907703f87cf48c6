import type { Construct } from 'constructs';
import { BudgetsBudgetAction } from '@cdktf/provider-aws/lib/budgets-budget-action';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { assumeRolePolicy, policyDocument } from '../../shared/iam-policy';
import { GPU_NAMES } from '../../shared/names';
import { FlatConstruct } from '../flat-construct';

export interface BudgetStopProps {
  readonly accountId: string;
  readonly region: string;
  /** The budgets stack's budget, by its derived name (deploy budgets before gpu). */
  readonly budgetName: string;
  /** Actual spend in USD at which the instance is stopped. */
  readonly thresholdUsd: number;
  readonly instanceId: string;
  readonly instanceArn: string;
  /** Told when the action runs. */
  readonly alertEmails: readonly string[];
}

/** Stop path 3: a Budgets action runs AWS-StopEC2Instance on the GPU when actual spend reaches the threshold. */
export class BudgetStop extends FlatConstruct {
  constructor(scope: Construct, id: string, props: BudgetStopProps) {
    super(scope, id);
    const role = new IamRole(this, 'budget-action-role', {
      name: GPU_NAMES.budgetStopRole,
      assumeRolePolicy: assumeRolePolicy('budgets.amazonaws.com', props.accountId),
    });
    new IamRolePolicy(this, 'budget-action-policy', {
      role: role.name,
      name: 'stop-the-gpu',
      policy: policyDocument([
        { Sid: 'StopThisInstance', Effect: 'Allow', Action: 'ec2:StopInstances', Resource: [props.instanceArn] },
        // DescribeInstanceStatus cannot be scoped to a resource in IAM.
        { Sid: 'ReadInstanceStatus', Effect: 'Allow', Action: 'ec2:DescribeInstanceStatus', Resource: '*' },
        {
          Sid: 'RunStopAutomation',
          Effect: 'Allow',
          Action: 'ssm:StartAutomationExecution',
          // IAM names AWS-owned runbooks with the caller's account in the ARN.
          Resource: [`arn:aws:ssm:${props.region}:${props.accountId}:automation-definition/AWS-StopEC2Instance:*`],
        },
      ]),
    });
    new BudgetsBudgetAction(this, 'budget-stop', {
      budgetName: props.budgetName,
      actionType: 'RUN_SSM_DOCUMENTS',
      approvalModel: 'AUTOMATIC',
      notificationType: 'ACTUAL',
      actionThreshold: { actionThresholdType: 'ABSOLUTE_VALUE', actionThresholdValue: props.thresholdUsd },
      definition: {
        ssmActionDefinition: { actionSubType: 'STOP_EC2_INSTANCES', region: props.region, instanceIds: [props.instanceId] },
      },
      executionRoleArn: role.arn,
      subscriber: props.alertEmails.map((address) => ({ address, subscriptionType: 'EMAIL' })),
    });
  }
}
