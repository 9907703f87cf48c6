/**
 * What `npm run bake-ami` calls in AWS (shared/iam-needs.ts), phase by phase as docs/bake-ami.md lists them. The
 * `ziggie-bake-ami` role (stacks/iam.ts) grants exactly these; the IAM simulation replays each call against it.
 * Creations carry the project tags (aws:RequestTag); everything the bake changes or deletes afterwards carries its
 * `ziggie:bake-ami` tag (aws:ResourceTag), so the role cannot touch the GPU or anything it did not create.
 */
import type { ZiggieConfig } from '../config/schema';
import { ziggieNames } from '../shared/names';
import type { IamCall, IamNeeds } from '../shared/iam-needs';
import { BAKE_TAG } from './types';

export function bakeAmiNeeds(config: ZiggieConfig): IamNeeds {
  const { region, accountId } = config;
  const ec2 = (resource: string) => `arn:aws:ec2:${region}:${accountId}:${resource}`;
  const created = { [`aws:RequestTag/Project`]: config.tags.Project, [`aws:RequestTag/${BAKE_TAG}`]: 'builder' };
  const builder = { [`aws:ResourceTag/${BAKE_TAG}`]: 'builder' };
  const unpublished = { [`aws:ResourceTag/${BAKE_TAG}`]: 'image-unpublished' };
  const call = (action: string, resource: string, why: string, context?: IamCall['context']): IamCall => ({ action, resource, why, ...(context ? { context } : {}) });
  const instance = ec2('instance/i-0123456789abcdef0');
  const group = ec2('security-group/sg-0123456789abcdef0');
  const keyPair = ec2('key-pair/key-0123456789abcdef0');
  // EC2 images and snapshots have no account in their ARN.
  const image = `arn:aws:ec2:${region}::image/ami-0123456789abcdef0`;
  const snapshot = `arn:aws:ec2:${region}::snapshot/snap-0123456789abcdef0`;
  const parameter = (name: string, account = accountId) => `arn:aws:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  const calls: IamCall[] = [
    call('ssm:GetParameter', parameter(config.amiBuild.baseAmiSsmParameter, ''), 'the base image (an AWS public parameter)'),
    call('ssm:GetParameter', parameter(config.gpu.amiSsmParameter), 'the image published last time'),
    ...['DescribeImages', 'DescribeSubnets', 'DescribeInstanceTypeOfferings', 'DescribeInstances', 'DescribeKeyPairs',
      'DescribeSecurityGroups', 'DescribeSnapshots'].map((a) => call(`ec2:${a}`, '*', 'read-only; EC2 Describe calls take no resource')),
    call('ec2:CreateKeyPair', ec2('key-pair/*'), 'a temporary key pair, tagged at creation', created),
    call('ec2:CreateSecurityGroup', ec2('security-group/*'), 'a temporary security group, tagged at creation', created),
    call('ec2:CreateSecurityGroup', ec2('vpc/vpc-0123456789abcdef0'), 'in the builder subnet\'s VPC'),
    call('ec2:AuthorizeSecurityGroupIngress', group, 'SSH from the operator\'s /32', builder),
    call('ec2:AuthorizeSecurityGroupEgress', group, 'HTTP(S) out', builder),
    call('ec2:RevokeSecurityGroupEgress', group, 'drop the default allow-all egress', builder),
    call('ec2:RunInstances', ec2('instance/*'), 'the builder, tagged at creation', created),
    call('ec2:RunInstances', ec2('volume/*'), 'its root volume, tagged at creation', created),
    call('ec2:RunInstances', ec2('network-interface/*'), 'its network interface'),
    call('ec2:RunInstances', ec2('subnet/subnet-0123456789abcdef0'), 'in the public subnet'),
    call('ec2:RunInstances', group, 'with the temporary group', builder),
    call('ec2:RunInstances', keyPair, 'with the temporary key', builder),
    call('ec2:RunInstances', `arn:aws:ec2:${region}::image/ami-0fedcba9876543210`, 'from the base image (owned by AWS)'),
    call('ec2:CreateTags', instance, 'tags written by the creating call', { ...created, 'ec2:CreateAction': 'RunInstances' }),
    call('ec2:GetConsoleOutput', instance, 'the SSH host key fingerprints', builder),
    call('ec2:StopInstances', instance, 'an on-demand builder before imaging', builder),
    call('ec2:CreateImage', instance, 'image the builder', builder),
    call('ec2:CreateImage', image.replace(/ami-[0-9a-f]+$/, '*'), 'the image, tagged at creation', { ...created, [`aws:RequestTag/${BAKE_TAG}`]: 'image-unpublished' }),
    call('ec2:CreateImage', snapshot.replace(/snap-[0-9a-f]+$/, '*'), 'its snapshots, tagged at creation', { ...created, [`aws:RequestTag/${BAKE_TAG}`]: 'image-unpublished' }),
    call('ssm:PutParameter', parameter(config.gpu.amiSsmParameter), 'publish the image id'),
    call('ec2:CreateTags', image, 'mark the image published', unpublished),
    call('ec2:TerminateInstances', instance, 'remove the builder', builder),
    call('ec2:DeleteSecurityGroup', group, 'remove the group', builder),
    call('ec2:DeleteKeyPair', keyPair, 'remove the key pair', builder),
    call('ec2:DeregisterImage', image, 'an unpublished image of a failed bake', unpublished),
    call('ec2:DeleteSnapshot', snapshot, 'its snapshots', unpublished),
  ];
  return { command: 'bake-ami', identity: ziggieNames(config).bakeAmiRole, calls };
}
