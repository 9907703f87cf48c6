import type { ZiggieConfig } from '../../config/schema';
import type { PolicyStatement } from '../../shared/iam-policy';
import { ziggieNames } from '../../shared/names';
import { ASSET_PREFIXES } from '../../shared/storage-prefixes';

/**
 * `ziggie-agent`: exactly what the ops commands declare (ops/permissions.ts; test/unit/ops/permissions.test.ts
 * compares the two action sets). Nothing else: no bucket access beyond job results, no reboot, no Describe the CLI does not make.
 */
export function agentStatements(config: ZiggieConfig): PolicyStatement[] {
  const names = ziggieNames(config);
  return [
    {
      // None of these support resource-level permissions (Service Authorization Reference); all are reads.
      // DescribeAlarms does, but returns composite alarms only when granted on "*" (its API reference).
      Sid: 'ReadOnlyUnscopable',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeInstances', 'ec2:DescribeSpotPriceHistory', 'cloudwatch:GetMetricStatistics', 'cloudwatch:DescribeAlarms',
        'secretsmanager:ListSecrets', 'ce:GetCostAndUsage', 'ce:GetCostForecast',
      ],
      Resource: '*',
    },
    {
      Sid: 'StartStopProjectInstancesOnly',
      Effect: 'Allow',
      Action: ['ec2:StartInstances', 'ec2:StopInstances'],
      Resource: names.arn('ec2', 'instance/*'),
      Condition: { StringEquals: { 'aws:ResourceTag/Project': config.tags.Project } },
    },
    {
      Sid: 'ReadWriteProjectSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:PutSecretValue'],
      Resource: names.arn('secretsmanager', `secret:${names.secretsRoot}*`),
    },
    {
      Sid: 'SubmitComfyuiJobs',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: names.arn('sqs', names.comfyuiJobsQueue),
    },
    {
      // `gpu submit --wait` reads result.json; only the job results, not the rest of the bucket.
      Sid: 'ReadJobResults',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${config.storage.assetsBucket}/${ASSET_PREFIXES.comfyuiGenerated}*/result.json`,
    },
    {
      Sid: 'ViewProjectBudget',
      Effect: 'Allow',
      Action: 'budgets:ViewBudget',
      Resource: `arn:aws:budgets::${config.accountId}:budget/${names.budget}`,
    },
    {
      // `:*` covers the group as IAM names it for FilterLogEvents and every stream in it.
      Sid: 'WriteAndReadAuditLog',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:FilterLogEvents'],
      Resource: [names.auditLogGroupArn, `${names.auditLogGroupArn}:*`],
    },
  ];
}
