/**
 * The documents of the AWS-managed policies the stacks attach. They are not in the synthesized JSON, so the
 * simulation needs their text; an ARN missing here makes the resolver fail rather than simulate an identity with
 * a policy left out. Copied from the IAM console (policy version noted), Resource "*" as AWS publishes them.
 */
import type { PolicyDocument } from './policy-document';

export const AWS_MANAGED_POLICIES: Readonly<Record<string, { readonly version: string; readonly document: PolicyDocument }>> = {
  'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore': {
    version: 'v2',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'ssm:DescribeAssociation', 'ssm:GetDeployablePatchSnapshotForInstance', 'ssm:GetDocument', 'ssm:DescribeDocument',
            'ssm:GetManifest', 'ssm:GetParameter', 'ssm:GetParameters', 'ssm:ListAssociations', 'ssm:ListInstanceAssociations',
            'ssm:PutInventory', 'ssm:PutComplianceItems', 'ssm:PutConfigurePackageResult', 'ssm:UpdateAssociationStatus',
            'ssm:UpdateInstanceAssociationStatus', 'ssm:UpdateInstanceInformation',
          ],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: [
            'ec2messages:AcknowledgeMessage', 'ec2messages:DeleteMessage', 'ec2messages:FailMessage', 'ec2messages:GetEndpoint',
            'ec2messages:GetMessages', 'ec2messages:SendReply',
          ],
          Resource: '*',
        },
      ],
    },
  },
};
