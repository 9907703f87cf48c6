import type { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { bundleLambda } from '../lambda/bundle';
import { assumeRolePolicy, policyDocument, type PolicyStatement } from '../shared/iam-policy';
import { FlatConstruct } from './flat-construct';

/** The ids of the parts, which are their Terraform addresses (flat construct): kept when a stack moves to this. */
export interface BundledFunctionIds {
  /** The function's own id. */
  readonly fn: string;
  /** @default `${fn}-logs` */
  readonly logs?: string;
  /** @default `${fn}-role` */
  readonly role?: string;
  /** @default `${fn}-policy` */
  readonly policy?: string;
  /** @default `${fn}-code` */
  readonly code?: string;
}

export interface BundledFunctionProps {
  /** The directory under lambda/ bundled at synth (`gpu-control`). */
  readonly source: string;
  readonly functionName: string;
  readonly description: string;
  readonly accountId: string;
  /** The name of the role's inline policy. */
  readonly policyName: string;
  /** The role's statements, given its log group's ARN (include `writeOwnLogs(logGroupArn)` where it belongs). */
  readonly statements: (logGroupArn: string) => PolicyStatement[];
  readonly timeoutSeconds: number;
  /** @default 256 */
  readonly memorySize?: number;
  /** A runaway caller must not fan out. */
  readonly reservedConcurrentExecutions: number;
  readonly environment: Record<string, string>;
  /** @default 30 */
  readonly logRetentionDays?: number;
  readonly ids: BundledFunctionIds;
}

/** The statement every bundled function's role holds: write its own log group, nothing else of CloudWatch Logs. */
export function writeOwnLogs(logGroupArn: string): PolicyStatement {
  return { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${logGroupArn}:*`] };
}

/**
 * A Lambda bundled from lambda/<source> at synth (Node 20, arm64, `index.handler`), its log group (created first,
 * so the function never creates an unbounded one), and a role only Lambda of this account may assume. A construct
 * that deploys one extends this (GpuControlFunction, CostReport), so the parts keep their construct paths.
 */
export class BundledFunction extends FlatConstruct {
  readonly fn: LambdaFunction;
  readonly role: IamRole;
  readonly logs: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    super(scope, id);
    const { ids } = props;
    this.logs = new CloudwatchLogGroup(this, ids.logs ?? `${ids.fn}-logs`, {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays ?? 30,
    });
    this.role = new IamRole(this, ids.role ?? `${ids.fn}-role`, {
      name: props.functionName,
      assumeRolePolicy: assumeRolePolicy('lambda.amazonaws.com', props.accountId),
    });
    new IamRolePolicy(this, ids.policy ?? `${ids.fn}-policy`, {
      role: this.role.name,
      name: props.policyName,
      policy: policyDocument(props.statements(this.logs.arn)),
    });
    const bundle = new TerraformAsset(this, ids.code ?? `${ids.fn}-code`, { path: bundleLambda(props.source), type: AssetType.ARCHIVE });
    this.fn = new LambdaFunction(this, ids.fn, {
      functionName: props.functionName,
      description: props.description,
      role: this.role.arn,
      runtime: 'nodejs20.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: bundle.path,
      sourceCodeHash: bundle.assetHash,
      timeout: props.timeoutSeconds,
      memorySize: props.memorySize ?? 256,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: { variables: props.environment },
      dependsOn: [this.logs],
    });
  }
}
