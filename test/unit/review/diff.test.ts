import { diffAttributes } from '../../../review/attributes';
import { isSensitiveKey, maskDeep } from '../../../review/mask';
import { findRisks } from '../../../review/risks';
import { diffSynth } from '../../../review/synth-diff';
import type { TerraformJson } from '../../../shared/terraform-json';

const policy = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('attribute diffs', () => {
  test('nested blocks diff leaf by leaf; nulls and absent keys are the same', () => {
    const changes = diffAttributes(
      { rule: [{ sse: { algorithm: 'AES256' } }], tags: { A: '1' }, gone: 'x', nothing: null },
      { rule: [{ sse: { algorithm: 'aws:kms' } }], tags: { A: '1', B: '2' } },
    );
    expect(changes).toEqual([
      { path: 'gone', kind: 'removed', before: 'x' },
      { path: 'rule[0].sse.algorithm', kind: 'changed', before: 'AES256', after: 'aws:kms' },
      { path: 'tags.B', kind: 'added', after: '2' },
    ]);
  });

  test('a JSON policy string is diffed as a document, key order ignored', () => {
    const a = policy([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]);
    const reordered = JSON.stringify({ Statement: [{ Resource: '*', Action: 's3:GetObject', Effect: 'Allow' }], Version: '2012-10-17' });
    expect(diffAttributes({ policy: a }, { policy: reordered })).toEqual([]);
    const [c] = diffAttributes({ policy: a }, { policy: policy([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]) });
    expect(c.documentDiff).toMatch(/^-\s+"Action": "s3:GetObject",$/m);
    expect(c.documentDiff).toMatch(/^\+\s+"Action": "s3:\*",$/m);
  });

  test('sensitive values never appear: by key name, and by Terraform sensitivity marks', () => {
    const changes = diffAttributes(
      { secret_string: 'hunter2', secret_id: 'arn:1', environment: { variables: { API_TOKEN: 'abc', MODE: 'a' } }, master_password: 'p1' },
      { secret_string: 'hunter3', secret_id: 'arn:1', environment: { variables: { API_TOKEN: 'abd', MODE: 'b' } }, master_password: 'p1', plain: 'v' },
      { afterSensitive: { plain: true } },
    );
    const text = JSON.stringify(changes);
    for (const secret of ['hunter2', 'hunter3', 'abc', 'abd', 'p1', '"v"']) expect(text).not.toContain(secret);
    expect(changes.find((c) => c.path === 'secret_string')).toEqual({ path: 'secret_string', kind: 'changed', before: '(sensitive)', after: '(sensitive)', sensitive: true });
    expect(changes.find((c) => c.path === 'environment.variables.MODE')).toMatchObject({ before: 'a', after: 'b' });
    expect(changes.find((c) => c.path === 'master_password')).toBeUndefined(); // unchanged, even though masked
    expect(changes.find((c) => c.path === 'plain')).toMatchObject({ kind: 'added', after: '(sensitive)' });
    expect(isSensitiveKey('private_key')).toBe(true);
    expect(isSensitiveKey('secret_id')).toBe(false);
    expect(isSensitiveKey('kms_key_id')).toBe(false);
    expect(maskDeep({ a: { token: 'x', name: 'n' } })).toEqual({ a: { token: '(sensitive)', name: 'n' } });
  });

  test('unknown-after-apply values are shown as such', () => {
    expect(diffAttributes({ id: 'i-1', ami: 'ami-1' }, { ami: 'ami-2' }, { afterUnknown: { id: true } })).toEqual([
      { path: 'ami', kind: 'changed', before: 'ami-1', after: 'ami-2' },
      { path: 'id', kind: 'changed', before: 'i-1', after: '(known after apply)' },
    ]);
  });
});

/** Two versions of a small stack, as cdktf writes them. */
function stack(resource: TerraformJson['resource'], output: TerraformJson['output'] = {}) {
  return { name: 'app', json: { resource, output } as TerraformJson };
}

describe('synth diff and risk flags', () => {
  const base = stack({
    aws_s3_bucket_public_access_block: { pab: { bucket: 'b', block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true, '//': { metadata: { path: 'app/assets/public-access' } } } },
    aws_instance: { gpu: { ami: 'ami-1', instance_type: 'g4dn.xlarge', metadata_options: { http_tokens: 'required' } } },
    aws_iam_role_policy: { p: { role: 'r', policy: policy([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::b/*' }]) } },
    aws_security_group: { sg: { name: 'sg', ingress: [{ protocol: 'tcp', from_port: 22, to_port: 22, cidr_blocks: ['198.51.100.0/24'] }] } },
    aws_secretsmanager_secret: { old: { name: 'ziggie/prod/old' } },
    aws_sns_topic: { t: { name: 'alerts' } },
  }, { token: { value: 'x', sensitive: true }, id: { value: 'a' } });
  const head = stack({
    aws_s3_bucket_public_access_block: { pab: { bucket: 'b', block_public_acls: false, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true, '//': { metadata: { path: 'app/assets/public-access' } } } },
    aws_instance: { gpu: { ami: 'ami-2', instance_type: 'g4dn.2xlarge', metadata_options: { http_tokens: 'optional' } } },
    aws_iam_role_policy: { p: { role: 'r', policy: policy([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:*'], Resource: ['arn:aws:s3:::b/*', 'arn:aws:s3:::c/*'] }]) } },
    aws_security_group: { sg: { name: 'sg', ingress: [{ protocol: 'tcp', from_port: 22, to_port: 22, cidr_blocks: ['198.51.100.0/24', '0.0.0.0/0'] }] } },
    aws_sns_topic: { t: { name: 'alerts' } },
    aws_cloudwatch_log_group: { new: { name: '/ziggie/new' } },
  }, { token: { value: 'y', sensitive: true }, id: { value: 'a' } });

  const [changes] = diffSynth([base], [head]);

  test('lists added, removed and changed resources, unchanged ones only counted', () => {
    const byAddress = Object.fromEntries(changes.changes.map((c) => [c.address, c.action]));
    expect(byAddress).toEqual({
      'aws_s3_bucket_public_access_block.pab': 'update',
      'aws_instance.gpu': 'replace',
      'aws_iam_role_policy.p': 'update',
      'aws_security_group.sg': 'update',
      'aws_secretsmanager_secret.old': 'delete',
      'aws_cloudwatch_log_group.new': 'create',
    });
    expect(changes.unchanged).toBe(1);
    expect(changes.changes.find((c) => c.address === 'aws_s3_bucket_public_access_block.pab')!.path).toBe('app/assets/public-access');
    expect(changes.outputs).toEqual([{ name: 'token', action: 'update', before: '(sensitive)', after: '(sensitive)', sensitive: true }]);
    const gpu = changes.changes.find((c) => c.address === 'aws_instance.gpu')!;
    expect(gpu.attributes.find((a) => a.path === 'ami')).toMatchObject({ forcesReplacement: true });
  });

  test('flags deletion, replacement, IAM widening, SG opening to the world, public access and IMDS', () => {
    const risks = findRisks([changes]).map((r) => `${r.severity} ${r.kind} ${r.address}: ${r.message}`);
    expect(risks).toEqual(expect.arrayContaining([
      expect.stringMatching(/^high public-access aws_s3_bucket_public_access_block\.pab: public access block turns off block_public_acls/),
      expect.stringMatching(/^high iam-widening aws_iam_role_policy\.p: policy: wildcard grants: `s3:\* on arn:aws:s3:::b\/\*`.*new grants: `s3:GetObject on arn:aws:s3:::c\/\*`/),
      expect.stringMatching(/^high sg-opening aws_security_group\.sg: ingress opened: `tcp 22 from 0\.0\.0\.0\/0` — open to the whole internet/),
      expect.stringMatching(/^high replacement aws_instance\.gpu: aws_instance is likely replaced .*because of ami/),
      expect.stringMatching(/^high deletion aws_secretsmanager_secret\.old/),
      expect.stringMatching(/^high exposure aws_instance\.gpu: IMDSv2 no longer required/),
    ]));
    expect(risks.filter((r) => r.includes('aws_cloudwatch_log_group.new'))).toEqual([]);
  });

  test('a new ingress from a single address is medium; Describe* on "*" is not wildcard widening', () => {
    const b = stack({ aws_vpc_security_group_ingress_rule: {} });
    const h = stack({
      aws_vpc_security_group_ingress_rule: { r: { ip_protocol: 'tcp', from_port: 8188, to_port: 8188, cidr_ipv4: '203.0.113.10/32' } },
      aws_iam_policy: { p: { policy: policy([{ Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' }]) } },
    });
    const risks = findRisks(diffSynth([b], [h]));
    expect(risks.map((r) => [r.severity, r.kind])).toEqual([['medium', 'sg-opening'], ['low', 'iam-widening']]);
  });
});
