import { resolveIam } from '../../../iam/resolve';
import type { SynthesizedStack } from '../../../shared/terraform-json';

const provider = { aws: [{ region: 'eu-north-1', allowed_account_ids: ['111122223333'] }] };
const stack = (json: SynthesizedStack['json']): SynthesizedStack => ({ name: 's', dir: '/nowhere', json: { provider, ...json } });

describe('resolver', () => {
  test('an aws_iam_policy_document data source and resource references become the JSON document the config implies', () => {
    const iam = resolveIam([stack({
      data: {
        aws_iam_policy_document: {
          doc: {
            statement: [{
              sid: 'Read', effect: 'Allow', actions: ['s3:GetObject'], resources: ['${aws_s3_bucket.b.arn}/*'],
              condition: [{ test: 'IpAddress', variable: 'aws:SourceIp', values: ['203.0.113.10/32'] }],
            }],
          },
        },
      },
      resource: {
        aws_s3_bucket: { b: { bucket: 'my-bucket' } },
        aws_iam_user: { u: { name: 'reader', path: '/p/' } },
        aws_iam_policy: { p: { name: 'read', policy: '${data.aws_iam_policy_document.doc.json}' } },
        aws_iam_user_policy_attachment: { a: { user: '${aws_iam_user.u.name}', policy_arn: '${aws_iam_policy.p.arn}' } },
      },
    })]);
    expect(iam.problems).toEqual([]);
    expect(iam.identities).toEqual([expect.objectContaining({
      name: 'reader', kind: 'user', arn: 'arn:aws:iam::111122223333:user/p/reader',
      policies: [expect.objectContaining({
        name: 'read',
        document: { Version: '2012-10-17', Statement: [{ Sid: 'Read', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::my-bucket/*'], Condition: { IpAddress: { 'aws:SourceIp': ['203.0.113.10/32'] } } }] },
      })],
    })]);
  });

  test('a reference it cannot imply, or a policy that is not literal JSON, is an error, never left in place', () => {
    expect(() => resolveIam([stack({ resource: { aws_iam_role: { r: { name: 'r', assume_role_policy: '{"Statement":[{"Effect":"Allow","Resource":"${aws_kms_key.k.arn}"}]}' } }, aws_kms_key: { k: {} } } })]))
      .toThrow(/cannot imply aws_kms_key\.arn/);
    expect(() => resolveIam([stack({ resource: { aws_iam_policy: { p: { name: 'p', policy: '${jsonencode({})}' } } } })]))
      .toThrow(/cannot resolve the Terraform expression/);
  });

  test('a policy-bearing resource type it does not read is reported', () => {
    const iam = resolveIam([stack({ resource: { aws_ecr_repository_policy: { r: { repository: 'x', policy: '{}' } } } })]);
    expect(iam.problems).toEqual(['s/aws_ecr_repository_policy.r: aws_ecr_repository_policy carries policy but the resolver does not read that type']);
  });
});
