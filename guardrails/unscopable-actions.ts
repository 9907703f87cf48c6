/**
 * IAM actions that do not support resource-level permissions (AWS Service Authorization Reference: the action's
 * "Resource types" column is empty), so a policy must grant them on Resource "*". IAM-WILDCARD-RESOURCE allows
 * "*" only for these. Add an entry only with the reason; a trailing `*` covers the actions with that prefix.
 */
export const UNSCOPABLE_ACTIONS: Readonly<Record<string, string>> = {
  'ec2:Describe*': 'EC2 Describe calls support no resource-level permissions',
  'autoscaling:Describe*': 'Auto Scaling Describe calls support no resource-level permissions',
  'secretsmanager:ListSecrets': 'lists metadata only; no resource-level permissions',
  'secretsmanager:GetRandomPassword': 'generates a value; touches no resource',
  'ssm:DescribeParameters': 'no resource-level permissions',
  'ssm:UpdateInstanceInformation': 'SSM agent registration (AmazonSSMManagedInstanceCore grants it on *)',
  'ssmmessages:CreateControlChannel': 'Session Manager channel; no resource-level permissions',
  'ssmmessages:CreateDataChannel': 'Session Manager channel; no resource-level permissions',
  'ssmmessages:OpenControlChannel': 'Session Manager channel; no resource-level permissions',
  'ssmmessages:OpenDataChannel': 'Session Manager channel; no resource-level permissions',
  'logs:DescribeLogGroups': 'lists groups; used with a name prefix',
  's3:ListAllMyBuckets': 'no resource-level permissions',
  'sts:GetCallerIdentity': 'needs no permission at all; listed so a policy that names it is not flagged',
  'ce:GetCostAndUsage': 'Cost Explorer supports no resource-level permissions for this action',
  'ce:GetCostForecast': 'Cost Explorer supports no resource-level permissions for this action',
  'cloudwatch:PutMetricData': 'no resource-level permissions (scope with the cloudwatch:namespace condition)',
  'cloudwatch:GetMetricData': 'no resource-level permissions',
  'cloudwatch:GetMetricStatistics': 'no resource-level permissions',
  'cloudwatch:ListMetrics': 'no resource-level permissions',
  'pricing:GetProducts': 'the Price List API has no resources',
  'pricing:DescribeServices': 'the Price List API has no resources',
  'ecr:GetAuthorizationToken': 'registry-wide token; no resource-level permissions',
  'xray:PutTraceSegments': 'no resource-level permissions',
  'xray:PutTelemetryRecords': 'no resource-level permissions',
  'tag:GetResources': 'no resource-level permissions',
  'cloudtrail:LookupEvents': 'no resource-level permissions',
  'cloudtrail:DescribeTrails': 'no resource-level permissions',
  'cloudwatch:DescribeAlarms': 'returns composite alarms only when granted on * (DescribeAlarms API reference)',
  'bedrock:ListFoundationModels': 'no resource-level permissions',
};

/** An action (possibly itself a wildcard such as `ec2:Describe*`) that the list covers entirely. */
export function isUnscopable(action: string): boolean {
  const a = action.toLowerCase();
  return Object.keys(UNSCOPABLE_ACTIONS).some((entry) => {
    const e = entry.toLowerCase();
    if (!e.endsWith('*')) return a === e;
    // `ec2:Describe*` covers `ec2:DescribeInstances` and `ec2:DescribeInst*`, not `ec2:*`.
    return a.startsWith(e.slice(0, -1)) && !a.slice(0, e.length - 1).includes('*');
  });
}
