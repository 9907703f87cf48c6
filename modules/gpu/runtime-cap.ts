import type { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { assumeRolePolicy, policyDocument } from '../../shared/iam-policy';
import { GPU_NAMES } from '../../shared/names';
import { FlatConstruct } from '../flat-construct';

export interface RuntimeCapProps {
  readonly accountId: string;
  /** The gpu-control function: it stops the instance when it has run longer than the cap. */
  readonly functionArn: string;
  /** For the description; the function enforces it (MAX_RUNTIME_HOURS). */
  readonly maxRuntimeHours: number;
}

/** Stop path 2: every 15 minutes a schedule asks gpu-control to enforce the max-runtime cap. */
export class RuntimeCap extends FlatConstruct {
  constructor(scope: Construct, id: string, props: RuntimeCapProps) {
    super(scope, id);
    const role = new IamRole(this, 'scheduler-role', {
      name: GPU_NAMES.runtimeCap,
      assumeRolePolicy: assumeRolePolicy('scheduler.amazonaws.com', props.accountId),
    });
    new IamRolePolicy(this, 'scheduler-policy', {
      role: role.name,
      name: 'invoke-gpu-control',
      policy: policyDocument([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: props.functionArn }]),
    });
    new SchedulerSchedule(this, 'runtime-cap', {
      name: GPU_NAMES.runtimeCap,
      description: `Stop the GPU when it has run longer than ${props.maxRuntimeHours} h`,
      scheduleExpression: 'rate(15 minutes)',
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: props.functionArn,
        roleArn: role.arn,
        input: JSON.stringify({ action: 'enforce-max-runtime' }),
        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 600 },
      },
    });
  }
}
