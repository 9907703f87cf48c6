import type { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamUser } from '@cdktf/provider-aws/lib/iam-user';
import { IamUserPolicyAttachment } from '@cdktf/provider-aws/lib/iam-user-policy-attachment';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import type { ZiggieConfig } from '../config/schema';
import { secretArnPattern, ziggieNames, type ZiggieNames } from '../shared/names';
import { type PolicyStatement, policyDocument } from '../shared/iam-policy';
import { BACKUP_PREFIXES } from '../shared/storage-prefixes';
import { agentStatements } from './iam-policies/agent';
import { bakeAmiStatements } from './iam-policies/bake-ami';
import { grafanaStatements } from './iam-policies/grafana';
import { prPlanStatements } from './iam-policies/pr-plan';
import { ZiggieStack } from './ziggie-stack';

const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/**
 * Least-privilege identities. Every ARN is computed from the config (no cross-stack reference, no lookup).
 *
 * The VPS is not in AWS, so it cannot assume a role through instance metadata. It gets IAM users whose access keys
 * are created OUT of Terraform (`aws iam create-access-key --user-name ziggie-vps`, stored on the VPS by the
 * provisioning playbook): an aws_iam_access_key resource would put the secret key into the Terraform state.
 * Every statement of those users is bound to the VPS's address (`aws:SourceIp` = vps.publicIp/32), so a leaked key
 * is useless anywhere else. IAM Roles Anywhere would avoid the long-lived key but needs a CA and certificate
 * rotation on the VPS (or AWS Private CA at ~400 USD/month): more moving parts than one IP-pinned key for one host.
 */
export class IamStack extends ZiggieStack {
  readonly agentPolicy: IamPolicy;
  readonly vpsUser: IamUser;
  /** n8n and Flowise; its Bedrock policy only when models are configured. */
  readonly bedrockUser: IamUser;
  readonly grafanaUser: IamUser;
  /** The control center's identity; undefined when the config has no agents. */
  readonly controlPlaneUser?: IamUser;

  constructor(scope: Construct, id: string, config: ZiggieConfig) {
    super(scope, id, { config });
    const names = ziggieNames(config);
    const backups = `arn:aws:s3:::${config.storage.backupsBucket}`;

    this.agentPolicy = new IamPolicy(this, 'agent-policy', {
      name: names.agentPolicy,
      path: names.iamPath,
      description: 'Ziggie agent / ops CLI: exactly what the ops commands declare (ops/permissions.ts)',
      policy: policyDocument(agentStatements(config)),
    });

    // Only from the VPS's own address: a copied key does not work from anywhere else.
    const fromVps = { IpAddress: { 'aws:SourceIp': `${config.vps.publicIp}/32` } };

    // the containers' secrets, and the control center's token store (ziggie-vps fetches it into tmpfs like theirs)
    const vpsSecrets = [...new Set([...config.containers.flatMap((c) => Object.values(c.secrets)),
      ...(config.controlCenter?.vps ? [config.controlCenter.vps.tokenStoreSecret] : [])])].sort();
    const vpsStatements: PolicyStatement[] = [
      ...(vpsSecrets.length > 0 ? [{
        Sid: 'ReadContainerSecrets',
        Effect: 'Allow' as const,
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: vpsSecrets.map((name) => secretArnPattern(config, name)),
        Condition: fromVps,
      }] : []),
      {
        // Write-only backups: the VPS can add and overwrite (versioned) but not delete or read others' data.
        Sid: 'WriteBackups',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Resource: Object.values(BACKUP_PREFIXES).map((prefix) => `${backups}/${prefix}*`),
        Condition: fromVps,
      },
      {
        Sid: 'ListBackupPrefixes',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: backups,
        Condition: { ...fromVps, StringLike: { 's3:prefix': Object.values(BACKUP_PREFIXES).map((p) => `${p}*`) } },
      },
    ];
    this.vpsUser = this.userWithPolicy('vps', names.vpsUser, names.vpsPolicy, names.iamPath,
      'The Hostinger VPS: reads its containers\' secrets, writes backups', vpsStatements);

    // Always created: the gpu stack attaches gpu-control's invoke policy to it whatever models are configured.
    this.bedrockUser = this.userWithPolicy('bedrock', names.bedrockUser, names.bedrockPolicy, names.iamPath,
      'n8n and Flowise on the VPS: invoke the configured Bedrock models only',
      config.bedrock.modelArns.length === 0 ? [] : [{
        Sid: 'InvokeConfiguredModels',
        Effect: 'Allow',
        Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        Resource: [...config.bedrock.modelArns],
        Condition: fromVps,
      }]);

    if (Object.keys(config.agents).length > 0) {
      this.controlPlaneUser = this.userWithPolicy('control-plane', names.controlPlaneUser, names.controlPlaneUser,
        names.iamPath, 'The agent control plane on the VPS: exactly what its capabilities declare (control/capabilities)',
        controlPlaneStatements(config, fromVps));
    }

    this.grafanaUser = this.userWithPolicy('grafana', names.grafanaUser, names.grafanaUser, names.iamPath,
      'Grafana on the VPS: read CloudWatch metrics only', grafanaStatements(fromVps));

    // bake-ami: assumed by the operator (any identity of this account allowed sts:AssumeRole on it).
    const bake = new IamRole(this, 'bake-ami-role', {
      name: names.bakeAmiRole,
      path: names.iamPath,
      description: 'npm run bake-ami: creates and removes only what it tags (ami/permissions.ts)',
      assumeRolePolicy: policyDocument([{
        Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${config.accountId}:root` }, Action: 'sts:AssumeRole',
      }]),
      maxSessionDuration: 7200,
    });
    new IamRolePolicy(this, 'bake-ami-policy', { role: bake.name, name: 'bake-the-comfyui-image', policy: policyDocument(bakeAmiStatements(config)) });

    if (config.github) this.prPlanRole(config, config.github.repository, names);

    new TerraformOutput(this, 'agent_policy_arn', { value: this.agentPolicy.arn });
    new TerraformOutput(this, 'vps_user', { value: this.vpsUser.name });
  }

  /** A user; its policy only when there is a statement to put in it. */
  private userWithPolicy(id: string, userName: string, policyName: string, path: string, description: string,
    statements: PolicyStatement[]): IamUser {
    // No aws_iam_access_key and no login profile: keys are created out of band (see the class comment).
    const user = new IamUser(this, `${id}-user`, { name: userName, path });
    if (statements.length === 0) return user;
    const policy = new IamPolicy(this, `${id}-policy`, { name: policyName, path, description, policy: policyDocument(statements) });
    new IamUserPolicyAttachment(this, `${id}-policy-attachment`, { user: user.name, policyArn: policy.arn });
    return user;
  }

  /**
   * GitHub OIDC and the PR review's read-only plan role, trusted only by this repository's pull_request workflow
   * (`sub` = repo:<owner/name>:pull_request, audience sts.amazonaws.com).
   */
  private prPlanRole(config: ZiggieConfig, repository: string, names: ZiggieNames): void {
    const github = new IamOpenidConnectProvider(this, 'github-oidc', {
      url: `https://${GITHUB_OIDC_HOST}`,
      clientIdList: ['sts.amazonaws.com'],
    });
    const role = new IamRole(this, 'pr-plan-role', {
      name: names.prPlanRole,
      path: names.iamPath,
      description: `terraform plan for pull requests of ${repository} (read-only)`,
      assumeRolePolicy: policyDocument([{
        Sid: 'ThisRepositoryPullRequestsOnly',
        Effect: 'Allow',
        Principal: { Federated: github.arn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
            [`${GITHUB_OIDC_HOST}:sub`]: `repo:${repository}:pull_request`,
          },
        },
      }]),
      maxSessionDuration: 3600,
    });
    new IamRolePolicy(this, 'pr-plan-policy', { role: role.name, name: 'plan-read-only', policy: policyDocument(prPlanStatements(config)) });
    new TerraformOutput(this, 'pr_plan_role_arn', { value: role.arn, description: 'set as the repository variable AWS_PLAN_ROLE_ARN' });
  }
}

/**
 * The control plane's policy: the union of what its capabilities declare (each `iam(config)` in
 * control/capabilities, plus the audit log: control/iam.ts), every statement bound to the VPS's address.
 * The IAM simulation (iam/expectations.ts; test/unit/iam, test/unit/control/iam.test.ts) replays each declared call
 * against this policy, expects a denial just outside each, and fails on a statement no capability needs.
 */
function controlPlaneStatements(config: ZiggieConfig, fromVps: NonNullable<PolicyStatement['Condition']>): PolicyStatement[] {
  const names = ziggieNames(config);
  const assets = `arn:aws:s3:::${config.storage.assetsBucket}`;
  const frontend = config.controlCenter?.deploy.frontend.prefix ?? 'frontend/';
  const distribution = config.controlCenter?.deploy.frontend.cloudfrontDistributionId;
  return [
    {
      // Describe*, GetMetricStatistics and Cost Explorer have no resource-level permissions: Resource must be "*".
      Sid: 'ReadOnlyUnscopable',
      Effect: 'Allow',
      Action: ['ce:GetCostAndUsage', 'ce:GetCostForecast', 'cloudwatch:GetMetricStatistics', 'ec2:DescribeInstances', 'ec2:DescribeSpotPriceHistory'],
      Resource: '*',
      Condition: fromVps,
    },
    {
      Sid: 'StartStopProjectInstancesOnly',
      Effect: 'Allow',
      Action: ['ec2:StartInstances', 'ec2:StopInstances'],
      Resource: names.arn('ec2', 'instance/*'),
      Condition: { ...fromVps, StringEquals: { 'aws:ResourceTag/Project': config.tags.Project } },
    },
    {
      Sid: 'ReadHostingerToken',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: secretArnPattern(config, config.secrets.hostingerApiToken),
      Condition: fromVps,
    },
    { Sid: 'ViewProjectBudget', Effect: 'Allow', Action: 'budgets:ViewBudget', Resource: `arn:aws:budgets::${config.accountId}:budget/${names.budget}`, Condition: fromVps },
    { Sid: 'DescribeProjectAlarms', Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: names.arn('cloudwatch', `alarm:${config.project}-*`), Condition: fromVps },
    {
      Sid: 'ListFrontendPrefix',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: assets,
      Condition: { ...fromVps, StringLike: { 's3:prefix': [`${frontend}*`] } },
    },
    { Sid: 'PublishFrontend', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `${assets}/${frontend}*`, Condition: fromVps },
    ...(distribution ? [{
      Sid: 'InvalidateFrontend', Effect: 'Allow' as const, Action: 'cloudfront:CreateInvalidation',
      Resource: `arn:aws:cloudfront::${config.accountId}:distribution/${distribution}`, Condition: fromVps,
    }] : []),
    ...(config.bedrock.modelArns.length ? [{
      Sid: 'InvokeConfiguredModels', Effect: 'Allow' as const, Action: 'bedrock:InvokeModel', Resource: [...config.bedrock.modelArns], Condition: fromVps,
    }] : []),
    {
      Sid: 'WriteAuditLog',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${names.auditLogGroupArn}:log-stream:*`,
      Condition: fromVps,
    },
  ];
}
