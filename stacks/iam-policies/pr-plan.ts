import type { ZiggieConfig } from '../../config/schema';
import type { PolicyStatement } from '../../shared/iam-policy';
import { ziggieNames } from '../../shared/names';

/**
 * The PR review's `terraform plan` (.github/workflows/review.yml, `-lock=false`): reads every resource the stacks
 * manage, the state objects and the state bucket's listing (where the lock file would be). No writes anywhere, and
 * no secret values: secretsmanager:DescribeSecret/GetResourcePolicy, never GetSecretValue.
 */
export function prPlanStatements(config: ZiggieConfig): PolicyStatement[] {
  const names = ziggieNames(config);
  const { region, accountId } = config;
  const bucketArns = [config.state.bucket, config.storage.assetsBucket, config.storage.backupsBucket, names.auditBucket].map((b) => `arn:aws:s3:::${b}`);
  const iam = (kind: string) => `arn:aws:iam::${accountId}:${kind}/*`;
  return [
    {
      // None of these support resource-level permissions; all are reads. DescribeAlarms returns composite alarms
      // only when granted on "*".
      Sid: 'DescribeUnscopableReadOnly',
      Effect: 'Allow',
      Action: ['ec2:Describe*', 'logs:DescribeLogGroups', 'cloudwatch:DescribeAlarms', 'cloudtrail:DescribeTrails'],
      Resource: '*',
    },
    {
      Sid: 'ReadStateObjects',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: [`arn:aws:s3:::${config.state.bucket}/${config.state.keyPrefix}/*`],
    },
    {
      // Bucket-level reads and listings (bucket ARNs, no `/*`: object reads other than the state are not granted).
      Sid: 'ReadBucketConfiguration',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucket*', 's3:GetEncryptionConfiguration', 's3:GetLifecycleConfiguration',
        's3:GetAccelerateConfiguration', 's3:GetReplicationConfiguration'],
      Resource: bucketArns,
    },
    {
      Sid: 'ReadIam',
      Effect: 'Allow',
      Action: ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:GetUser',
        'iam:ListAttachedUserPolicies', 'iam:ListUserPolicies', 'iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions',
        'iam:GetInstanceProfile', 'iam:GetOpenIDConnectProvider'],
      Resource: [iam('role'), iam('user'), iam('policy'), iam('instance-profile'), iam('oidc-provider')],
    },
    {
      Sid: 'ReadRegionalResources',
      Effect: 'Allow',
      Action: ['lambda:GetFunction', 'lambda:GetFunctionUrlConfig', 'lambda:GetPolicy', 'lambda:ListVersionsByFunction',
        'lambda:GetFunctionCodeSigningConfig', 'lambda:GetFunctionConcurrency', 'logs:ListTagsForResource', 'logs:ListTagsLogGroup',
        'cloudwatch:ListTagsForResource', 'events:DescribeRule', 'events:ListTargetsByRule', 'events:ListTagsForResource',
        'scheduler:GetSchedule', 'sns:GetTopicAttributes', 'sns:GetSubscriptionAttributes', 'sns:ListTagsForResource',
        'sqs:GetQueueAttributes', 'sqs:ListQueueTags', 'cloudtrail:GetTrail', 'cloudtrail:GetTrailStatus', 'cloudtrail:GetEventSelectors',
        'cloudtrail:GetInsightSelectors', 'cloudtrail:ListTags'],
      Resource: ['lambda', 'logs', 'cloudwatch', 'events', 'scheduler', 'sns', 'sqs', 'cloudtrail'].map((s) => `arn:aws:${s}:${region}:${accountId}:*`),
    },
    {
      Sid: 'ReadGlobalResources',
      Effect: 'Allow',
      Action: ['cloudfront:GetDistribution', 'cloudfront:GetOriginAccessControl', 'cloudfront:GetResponseHeadersPolicy',
        'cloudfront:ListTagsForResource', 'budgets:ViewBudget', 'budgets:DescribeBudgetAction', 'budgets:DescribeBudgetActionsForBudget',
        'budgets:ListTagsForResource'],
      Resource: [`arn:aws:cloudfront::${accountId}:*`, `arn:aws:budgets::${accountId}:budget/*`],
    },
    {
      Sid: 'ReadSecretMetadataNotValues',
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetResourcePolicy'],
      Resource: names.arn('secretsmanager', `secret:${names.secretsRoot}*`),
    },
    {
      Sid: 'ReadImageParameter',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      Resource: names.arn('ssm', `parameter${config.gpu.amiSsmParameter}`),
    },
  ];
}
