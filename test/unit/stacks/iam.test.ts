import { isUnscopable } from '../../../guardrails/unscopable-actions';
import { BACKUP_PREFIXES } from '../../../shared/storage-prefixes';
import { IamStack } from '../../../stacks/iam';
import { asList, exampleConfig, statements, synth } from './helpers';

describe('iam stack', () => {
  const config = exampleConfig();
  const s = synth((app) => new IamStack(app, 'iam', config));
  const policy = (name: string) => statements(s.of('aws_iam_policy').find((p) => p.config.name === name)!.config.policy);
  const sid = (name: string, id: string) => policy(name).find((st) => st.Sid === id)!;
  const all = s.of('aws_iam_policy').flatMap((p) => statements(p.config.policy));

  test('no Action "*", no service wildcard, no NotAction, Resource "*" only for unscopable actions', () => {
    for (const st of all) {
      expect(asList(st.Action)).not.toContain('*');
      expect(asList(st.Action).filter((a: string) => /^[a-z0-9-]+:\*$/i.test(a))).toEqual([]);
      expect(st.NotAction).toBeUndefined();
      if (asList(st.Resource).includes('*')) expect(asList(st.Action).every(isUnscopable)).toBe(true);
    }
  });

  test('ziggie-agent: EC2 start/stop/reboot only where aws:ResourceTag/Project = Ziggie', () => {
    expect(sid('ziggie-agent', 'StartStopRebootProjectInstancesOnly')).toEqual({
      Sid: 'StartStopRebootProjectInstancesOnly', Effect: 'Allow',
      Action: ['ec2:StartInstances', 'ec2:StopInstances', 'ec2:RebootInstances'],
      Resource: 'arn:aws:ec2:eu-north-1:111122223333:instance/*',
      Condition: { StringEquals: { 'aws:ResourceTag/Project': 'Ziggie' } },
    });
    const describe = sid('ziggie-agent', 'DescribeEc2UnscopableReadOnly');
    expect(describe.Resource).toBe('*');
    expect(asList(describe.Action).every((a: string) => a.startsWith('ec2:Describe'))).toBe(true);
  });

  test('ziggie-agent: S3 only on the project buckets, secrets under ziggie/*, logs to the audit group', () => {
    const s3 = policy('ziggie-agent').filter((st) => asList(st.Action).some((a: string) => a.startsWith('s3:')));
    const s3Resources = s3.flatMap((st) => asList(st.Resource));
    expect(s3Resources.every((r: string) => /^arn:aws:s3:::ziggie-cloud-(assets|backups)(\/\*)?$/.test(r))).toBe(true);
    expect(sid('ziggie-agent', 'ReadProjectSecrets')).toMatchObject({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: 'arn:aws:secretsmanager:eu-north-1:111122223333:secret:ziggie/*',
    });
    expect(sid('ziggie-agent', 'WriteAuditLog').Resource).toEqual([
      'arn:aws:logs:eu-north-1:111122223333:log-group:/ziggie/infrastructure-audit',
      'arn:aws:logs:eu-north-1:111122223333:log-group:/ziggie/infrastructure-audit:log-stream:*',
    ]);
    // The agent cannot delete backups.
    expect(sid('ziggie-agent', 'ReadWriteBackupsNoDelete').Action).not.toContain('s3:DeleteObject');
  });

  test('VPS identity: an IAM user with no access key or password in Terraform', () => {
    expect(s.of('aws_iam_user').map((u) => u.config.name).sort()).toEqual(['ziggie-bedrock', 'ziggie-control-plane', 'ziggie-vps']);
    expect(s.of('aws_iam_access_key')).toHaveLength(0);
    expect(s.of('aws_iam_user_login_profile')).toHaveLength(0);
    expect(s.stack.json.output ?? {}).not.toHaveProperty('secret');
  });

  test('VPS: every statement only from the VPS address; reads its containers\' secrets; writes backup prefixes', () => {
    const vps = policy('ziggie-vps');
    for (const st of vps) expect(st.Condition.IpAddress).toEqual({ 'aws:SourceIp': '203.0.113.10/32' });
    const used = [...new Set(config.containers.flatMap((c) => Object.values(c.secrets)))].sort();
    expect(vps.find((st) => st.Sid === 'ReadContainerSecrets')!.Resource)
      .toEqual(used.map((n) => `arn:aws:secretsmanager:eu-north-1:111122223333:secret:${n}-??????`));
    const write = vps.find((st) => st.Sid === 'WriteBackups')!;
    expect(write.Action).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
    expect(write.Resource).toEqual(Object.values(BACKUP_PREFIXES).map((p) => `arn:aws:s3:::ziggie-cloud-backups/${p}*`));
    expect(vps.flatMap((st) => asList(st.Action))).not.toContain('s3:DeleteObject');
  });

  test('Bedrock identity: InvokeModel(+stream) on the configured model ARNs only, from the VPS', () => {
    expect(policy('ziggie-bedrock-invoke')).toEqual([{
      Sid: 'InvokeConfiguredModels', Effect: 'Allow',
      Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
      Resource: config.bedrock.modelArns,
      Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.10/32' } },
    }]);
  });

  test('no Bedrock identity when no model is configured', () => {
    const changed = exampleConfig();
    changed.bedrock.modelArns = [];
    const c = synth((app) => new IamStack(app, 'iam', changed));
    expect(c.of('aws_iam_user').map((u) => u.config.name).sort()).toEqual(['ziggie-control-plane', 'ziggie-vps']);
  });

  test('each user gets exactly its own policy', () => {
    const attachments = s.of('aws_iam_user_policy_attachment').map((a) => [a.config.user, a.config.policy_arn]);
    expect(attachments).toHaveLength(3);
    expect(attachments.map(([u]) => u).sort()).toEqual([expect.stringContaining('bedrock-user'), expect.stringContaining('control-plane-user'), expect.stringContaining('vps-user')]);
  });
});
