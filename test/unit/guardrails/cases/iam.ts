import { iamNoAccessKey } from '../../../../guardrails/rules/iam/no-access-key';
import { iamNoAdminAction } from '../../../../guardrails/rules/iam/no-admin-action';
import { iamNoNotActionAllow } from '../../../../guardrails/rules/iam/no-not-action-allow';
import { iamNoPassRoleWildcard } from '../../../../guardrails/rules/iam/no-passrole-wildcard';
import { iamNoPublicPrincipal } from '../../../../guardrails/rules/iam/no-public-principal';
import { iamNoServiceWildcard } from '../../../../guardrails/rules/iam/no-service-wildcard';
import { iamPolicyLiteral } from '../../../../guardrails/rules/iam/policy-literal';
import { iamServicePrincipalSource } from '../../../../guardrails/rules/iam/service-principal-source';
import { iamWildcardResource } from '../../../../guardrails/rules/iam/wildcard-resource';
import { policy, type RuleCases } from '../fixtures';

const identity = (...statements: Array<Record<string, unknown>>) => ({ aws_iam_policy: { p: { name: 'x', policy: policy(...statements) } } });
const bucketPolicy = (...statements: Array<Record<string, unknown>>) => ({ aws_s3_bucket_policy: { p: { bucket: 'b', policy: policy(...statements) } } });
const scoped = { Sid: 'Scoped', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::ziggie-cloud-assets/*' };

export const iamCases: RuleCases[] = [
  {
    rule: iamPolicyLiteral,
    failing: [{ name: 'policy from a data source', resources: { aws_iam_policy: { p: { name: 'x', policy: '${data.aws_iam_policy_document.d.json}' } } } }],
    passing: [{ name: 'literal JSON', resources: identity(scoped) }],
  },
  {
    rule: iamNoAdminAction,
    failing: [
      { name: 'Action "*"', resources: identity({ Effect: 'Allow', Action: '*', Resource: '*' }) },
      { name: 'Action "*:*" in a role inline policy', resources: { aws_iam_role: { r: { assume_role_policy: policy({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }), inline_policy: [{ name: 'i', policy: policy({ Effect: 'Allow', Action: '*:*', Resource: 'arn:aws:s3:::x' }) }] } } } },
    ],
    passing: [
      { name: 'listed actions', resources: identity(scoped) },
      { name: 'Deny "*" is fine', resources: identity(scoped, { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.10/32' } } }) },
    ],
  },
  {
    rule: iamNoServiceWildcard,
    failing: [{ name: 's3:*', resources: identity({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::x/*' }) }],
    passing: [
      { name: 'a prefix wildcard', resources: identity({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }) },
      { name: 'the TLS-only Deny s3:*', resources: bucketPolicy({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::x/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }) },
    ],
  },
  {
    rule: iamNoNotActionAllow,
    failing: [
      { name: 'Allow NotAction', resources: identity({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }) },
      { name: 'Allow NotResource', resources: identity({ Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::secret/*' }) },
    ],
    passing: [{ name: 'Deny NotAction', resources: identity(scoped, { Effect: 'Deny', NotAction: 's3:GetObject', Resource: '*' }) }],
  },
  {
    rule: iamWildcardResource,
    failing: [
      { name: 'StartInstances on "*"', resources: identity({ Effect: 'Allow', Action: 'ec2:StartInstances', Resource: '*' }) },
      { name: 'GetSecretValue on "*" next to an unscopable action', resources: identity({ Effect: 'Allow', Action: ['secretsmanager:ListSecrets', 'secretsmanager:GetSecretValue'], Resource: '*' }) },
      { name: 'ec2:* is not covered by ec2:Describe*', resources: identity({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }) },
    ],
    passing: [
      { name: 'Describe on "*"', resources: identity({ Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:Describe*'], Resource: '*' }) },
      { name: 'scoped resource', resources: identity(scoped) },
    ],
  },
  {
    rule: iamNoPassRoleWildcard,
    failing: [
      { name: 'iam:PassRole on "*"', resources: identity({ Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }) },
      { name: 'iam:Pass* on every role', resources: identity({ Effect: 'Allow', Action: 'iam:Pass*', Resource: 'arn:aws:iam::111122223333:role/*' }) },
    ],
    passing: [{ name: 'one role', resources: identity({ Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::111122223333:role/ziggie/comfyui', Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } }) }],
  },
  {
    rule: iamNoAccessKey,
    failing: [
      { name: 'access key', resources: { aws_iam_access_key: { k: { user: 'ziggie-vps' } } } },
      { name: 'login profile', resources: { aws_iam_user_login_profile: { l: { user: 'ziggie-vps' } } } },
    ],
    passing: [{ name: 'a user alone', resources: { aws_iam_user: { u: { name: 'ziggie-vps' } } }, expect: 'not-applicable' }],
  },
  {
    rule: iamNoPublicPrincipal,
    failing: [
      { name: 'bucket policy Allow to "*"', resources: bucketPolicy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::x/*' }) },
      { name: 'role trusting any AWS account', resources: { aws_iam_role: { r: { assume_role_policy: policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }) } } } },
    ],
    passing: [
      { name: 'service principal', resources: bucketPolicy({ Effect: 'Allow', Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::x/*', Condition: { StringEquals: { 'AWS:SourceArn': 'arn:aws:cloudfront::111122223333:distribution/E1' } } }) },
      { name: '"*" narrowed by a condition', resources: bucketPolicy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::x/*', Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } } }) },
    ],
  },
  {
    rule: iamServicePrincipalSource,
    failing: [{ name: 'CloudTrail write without aws:SourceArn', resources: bucketPolicy({ Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::x/AWSLogs/111122223333/*' }) }],
    passing: [
      { name: 'with aws:SourceArn', resources: bucketPolicy({ Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::x/AWSLogs/111122223333/*', Condition: { StringEquals: { 'aws:SourceArn': 'arn:aws:cloudtrail:eu-north-1:111122223333:trail/t' } } }) },
      { name: 'a role trust policy is out of scope', resources: { aws_iam_role: { r: { assume_role_policy: policy({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }) } } }, expect: 'not-applicable' },
    ],
  },
];
