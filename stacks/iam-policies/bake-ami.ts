import type { ZiggieConfig } from '../../config/schema';
import type { PolicyStatement } from '../../shared/iam-policy';
import { BAKE_AMI_TAG } from '../../shared/names';

/**
 * `npm run bake-ami` (ami/permissions.ts declares each call): creations must carry the project tag and the bake's
 * tag, and the bake changes or deletes only what carries its tag, so it can neither touch the GPU nor anything
 * else in the account. No iam:PassRole: the builder has no instance profile.
 */
export function bakeAmiStatements(config: ZiggieConfig): PolicyStatement[] {
  const { region, accountId } = config;
  const ec2 = (resource: string) => `arn:aws:ec2:${region}:${accountId}:${resource}`;
  // EC2 images and snapshots have no account in their ARN.
  const image = `arn:aws:ec2:${region}::image/*`;
  const snapshot = `arn:aws:ec2:${region}::snapshot/*`;
  const parameter = (name: string, account: string) => `arn:aws:ssm:${region}:${account}:parameter${name}`;
  const requestTags = (bakeTag: string) => ({ StringEquals: { 'aws:RequestTag/Project': config.tags.Project, [`aws:RequestTag/${BAKE_AMI_TAG}`]: bakeTag } });
  const resourceTag = (bakeTag: string) => ({ StringEquals: { [`aws:ResourceTag/${BAKE_AMI_TAG}`]: bakeTag } });
  return [
    {
      Sid: 'DescribeUnscopableReadOnly',
      Effect: 'Allow',
      Action: ['ec2:DescribeImages', 'ec2:DescribeSubnets', 'ec2:DescribeInstanceTypeOfferings', 'ec2:DescribeInstances',
        'ec2:DescribeKeyPairs', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSnapshots'],
      Resource: '*',
    },
    {
      Sid: 'ReadImageParameters',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      // The base image's parameter is an AWS public one (no account in its ARN).
      Resource: [parameter(config.amiBuild.baseAmiSsmParameter, ''), parameter(config.gpu.amiSsmParameter, accountId)],
    },
    { Sid: 'PublishImageParameter', Effect: 'Allow', Action: 'ssm:PutParameter', Resource: parameter(config.gpu.amiSsmParameter, accountId) },
    {
      Sid: 'CreateTaggedBuilderParts',
      Effect: 'Allow',
      Action: ['ec2:CreateKeyPair', 'ec2:CreateSecurityGroup', 'ec2:RunInstances'],
      Resource: [ec2('key-pair/*'), ec2('security-group/*'), ec2('instance/*'), ec2('volume/*')],
      Condition: requestTags('builder'),
    },
    { Sid: 'CreateGroupInAVpc', Effect: 'Allow', Action: 'ec2:CreateSecurityGroup', Resource: ec2('vpc/*') },
    {
      Sid: 'LaunchWithExistingParts',
      Effect: 'Allow',
      Action: 'ec2:RunInstances',
      Resource: [ec2('subnet/*'), ec2('network-interface/*'), ec2('security-group/*'), ec2('key-pair/*'), image],
    },
    {
      Sid: 'CreateTaggedImage',
      Effect: 'Allow',
      Action: 'ec2:CreateImage',
      Resource: [image, snapshot],
      Condition: requestTags('image-unpublished'),
    },
    {
      Sid: 'TagOnlyWhileCreating',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: [ec2('key-pair/*'), ec2('security-group/*'), ec2('instance/*'), ec2('volume/*'), image, snapshot],
      Condition: { StringEquals: { 'ec2:CreateAction': ['CreateKeyPair', 'CreateSecurityGroup', 'RunInstances', 'CreateImage'] } },
    },
    {
      Sid: 'ActOnTheBuilderOnly',
      Effect: 'Allow',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupEgress',
        'ec2:GetConsoleOutput', 'ec2:StopInstances', 'ec2:CreateImage', 'ec2:TerminateInstances', 'ec2:DeleteSecurityGroup',
        'ec2:DeleteKeyPair'],
      Resource: [ec2('instance/*'), ec2('security-group/*'), ec2('key-pair/*')],
      Condition: resourceTag('builder'),
    },
    {
      Sid: 'PublishOrRemoveUnpublishedImages',
      Effect: 'Allow',
      Action: ['ec2:CreateTags', 'ec2:DeregisterImage', 'ec2:DeleteSnapshot'],
      Resource: [image, snapshot],
      Condition: resourceTag('image-unpublished'),
    },
  ];
}
