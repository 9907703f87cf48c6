/**
 * What each `ziggie` command calls in AWS (shared/iam-needs.ts), beside the commands (ops/cli/program.ts).
 * The IAM simulation replays every call against `ziggie-agent`, whose policy (stacks/iam.ts) grants exactly the
 * union; test/unit/ops/permissions.test.ts runs each command against mocked clients and fails on a call that is not
 * declared here. `sts:GetCallerIdentity` (the audit's "who") needs no permission and is not listed.
 */
import type { ZiggieConfig } from '../config/schema';
import { ziggieNames } from '../shared/names';
import { ASSET_PREFIXES } from '../shared/storage-prefixes';
import type { IamCall, IamNeeds } from '../shared/iam-needs';

/** A representative project instance / secret id for calls whose target is found at run time. */
const SAMPLE_INSTANCE = 'i-0123456789abcdef0';
const SAMPLE_SECRET_SUFFIX = 'AbCdEf';

export function opsCommandNeeds(config: ZiggieConfig): IamNeeds[] {
  const names = ziggieNames(config);
  const { region, accountId } = config;
  const instance = `arn:aws:ec2:${region}:${accountId}:instance/${SAMPLE_INSTANCE}`;
  const secret = (name: string) => `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${SAMPLE_SECRET_SUFFIX}`;
  const auditStream = `${names.auditLogGroupArn}:log-stream:ziggie-cli/operator-laptop`;

  const findGpu: IamCall[] = [
    { action: 'ec2:DescribeSpotPriceHistory', resource: '*', why: 'the Spot price for the session cost' },
    { action: 'ec2:DescribeInstances', resource: '*', why: 'find the GPU by its tags' },
    { action: 'cloudwatch:GetMetricStatistics', resource: '*', why: 'ComfyUI\'s heartbeat when the port is not reachable' },
  ];
  const audit: IamCall[] = [
    { action: 'logs:PutLogEvents', resource: auditStream, why: 'the audit record' },
    { action: 'logs:CreateLogStream', resource: auditStream, why: 'this host\'s audit stream, on first use' },
  ];
  const hostingerToken: IamCall[] = [
    { action: 'secretsmanager:GetSecretValue', resource: secret(config.secrets.hostingerApiToken), why: 'the Hostinger token (unless HOSTINGER_API_TOKEN is set)' },
  ];
  const onTheGpu = (action: string, why: string): IamCall =>
    ({ action, resource: instance, context: { 'aws:ResourceTag/Project': config.tags.Project }, why });
  const aSecret = secret(config.secrets.names[0]);

  const commands: Array<[string, IamCall[]]> = [
    ['gpu start', [...findGpu, onTheGpu('ec2:StartInstances', 'start the project-tagged GPU'), ...audit]],
    ['gpu stop', [...findGpu, onTheGpu('ec2:StopInstances', 'stop the project-tagged GPU'), ...audit]],
    ['gpu submit', [
      { action: 'sqs:SendMessage', resource: `arn:aws:sqs:${region}:${accountId}:${names.comfyuiJobsQueue}`, why: 'queue the job' },
      { action: 's3:GetObject', resource: `arn:aws:s3:::${config.storage.assetsBucket}/${ASSET_PREFIXES.comfyuiGenerated}job-1/result.json`, why: 'the job\'s result.json (--wait)' },
      ...audit,
    ]],
    ['gpu status', findGpu],
    ['gpu url', findGpu],
    ['secrets list', [{ action: 'secretsmanager:ListSecrets', resource: '*', why: 'names and dates under the project root, no values' }]],
    ['secrets put', [{ action: 'secretsmanager:PutSecretValue', resource: aSecret, why: 'store the value read from stdin' }, ...audit]],
    ['secrets get', [
      { action: 'secretsmanager:GetSecretValue', resource: aSecret, why: 'the value (printed only with --reveal)' },
      { action: 'secretsmanager:DescribeSecret', resource: aSecret, why: 'when it last changed' },
      ...audit,
    ]],
    ['cost report', [
      { action: 'ce:GetCostAndUsage', resource: '*', why: 'spend by service' },
      { action: 'ce:GetCostForecast', resource: '*', why: 'the month\'s forecast' },
      { action: 'budgets:ViewBudget', resource: `arn:aws:budgets::${accountId}:budget/${names.budget}`, why: 'the budget and its thresholds (DescribeBudget)' },
    ]],
    ['health', [
      ...findGpu,
      { action: 'cloudwatch:DescribeAlarms', resource: `arn:aws:cloudwatch:${region}:${accountId}:alarm:${config.project}-gpu-idle`, why: 'the project\'s alarms' },
      ...audit,
      ...hostingerToken,
    ]],
    ['audit tail', [{ action: 'logs:FilterLogEvents', resource: names.auditLogGroupArn, why: 'read the audit records' }, ...audit]],
    ['audit flush', audit],
    ['vps status', hostingerToken],
    ['vps snapshot', [...hostingerToken, ...audit]],
    ['vps restore', [...hostingerToken, ...audit]],
    ['vps firewall', [...hostingerToken, ...audit]],
    ['dns get', hostingerToken],
    ['dns set', [...hostingerToken, ...audit]],
  ];
  // Every ops command runs as the operator holding the `ziggie-agent` policy.
  return commands.map(([command, calls]) => ({ command, identity: names.agentPolicy, calls }));
}
