import { isUnscopable } from '../../../guardrails/unscopable-actions';
import { BACKUP_PREFIXES } from '../../../shared/storage-prefixes';
import { IamStack } from '../../../stacks/iam';
import { asList, exampleConfig, statements, synth } from './helpers';

describe('iam stack', () => {
  const config = exampleConfig();
  const s = synth((app) => new IamStack(app, 'iam', config));
  const policy = (name: string) => statements(s.of('aws_iam_policy').find((p) => p.config.name === name)!.config.policy);
  const sid = (name: string, id: string) => policy(name).find((st) => st.Sid === id)!;
  const all = [...s.of('aws_iam_policy'), ...s.of('aws_iam_role_policy')].flatMap((p) => statements(p.config.policy));

  test('no Action "*", no service wildcard, no NotAction, Resource "*" only for unscopable actions', () => {
    for (const st of all) {
      expect(asList(st.Action)).not.toContain('*');
      expect(asList(st.Action).filter((a: string) => /^[a-z0-9-]+:\*$/i.test(a))).toEqual([]);
      expect(st.NotAction).toBeUndefined();
      if (asList(st.Resource).includes('*')) expect(asList(st.Action).every(isUnscopable)).toBe(true);
    }
  });

  // What each identity may and may not do is simulated in test/unit/iam/ (docs/iam.md); these check the shape only.
  test('ziggie-agent: start/stop only where aws:ResourceTag/Project = Ziggie; Resource "*" only for unscopable reads', () => {
    expect(sid('ziggie-agent', 'StartStopProjectInstancesOnly')).toEqual({
      Sid: 'StartStopProjectInstancesOnly', Effect: 'Allow',
      Action: ['ec2:StartInstances', 'ec2:StopInstances'],
      Resource: 'arn:aws:ec2:eu-north-1:111122223333:instance/*',
      Condition: { StringEquals: { 'aws:ResourceTag/Project': 'Ziggie' } },
    });
    expect(sid('ziggie-agent', 'ReadWriteProjectSecrets').Resource).toBe('arn:aws:secretsmanager:eu-north-1:111122223333:secret:ziggie/*');
    // S3: only the GPU jobs' result.json (`gpu submit --wait`).
    expect(policy('ziggie-agent').filter((st) => asList(st.Action).some((a: string) => a.startsWith('s3:'))).map((st) => [st.Action, st.Resource]))
      .toEqual([['s3:GetObject', 'arn:aws:s3:::ziggie-cloud-assets/comfyui/generated/*/result.json']]);
  });

  test('VPS identity: an IAM user with no access key or password in Terraform', () => {
    expect(s.of('aws_iam_user').map((u) => u.config.name).sort()).toEqual(['ziggie-bedrock', 'ziggie-control-plane', 'ziggie-grafana', 'ziggie-vps']);
    expect(s.of('aws_iam_access_key')).toHaveLength(0);
    expect(s.of('aws_iam_user_login_profile')).toHaveLength(0);
    expect(s.stack.json.output ?? {}).not.toHaveProperty('secret');
  });

  test('VPS: every statement only from the VPS address; reads its containers\' secrets and the control center\'s token store; writes backup prefixes', () => {
    const vps = policy('ziggie-vps');
    for (const st of vps) expect(st.Condition.IpAddress).toEqual({ 'aws:SourceIp': '203.0.113.10/32' });
    const used = [...new Set([...config.containers.flatMap((c) => Object.values(c.secrets)), 'ziggie/prod/control-center-tokens'])].sort();
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

  test('no Bedrock policy when no model is configured, but the n8n/Flowise user the gpu stack attaches to still exists', () => {
    const changed = exampleConfig();
    changed.bedrock.modelArns = [];
    const c = synth((app) => new IamStack(app, 'iam', changed));
    expect(c.of('aws_iam_user').map((u) => u.config.name).sort()).toEqual(['ziggie-bedrock', 'ziggie-control-plane', 'ziggie-grafana', 'ziggie-vps']);
    expect(c.of('aws_iam_policy').map((p) => p.config.name)).not.toContain('ziggie-bedrock-invoke');
  });

  test('the PR plan role exists only with github.repository, trusting that repository\'s pull_request workflow', () => {
    const trust = statements(s.of('aws_iam_role').find((r) => r.config.name === 'ziggie-pr-plan')!.config.assume_role_policy);
    expect(trust[0].Condition).toEqual({ StringEquals: {
      'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:sub': 'repo:ziggie/ziggie-infra:pull_request',
    } });
    expect(s.one('aws_iam_openid_connect_provider').config).toMatchObject({ url: 'https://token.actions.githubusercontent.com', client_id_list: ['sts.amazonaws.com'] });
    const without = exampleConfig();
    delete without.github;
    const c = synth((app) => new IamStack(app, 'iam', without));
    expect(c.of('aws_iam_openid_connect_provider')).toHaveLength(0);
    expect(c.of('aws_iam_role').map((r) => r.config.name)).toEqual(['ziggie-bake-ami']);
  });

  test('each user gets exactly its own policy', () => {
    const attachments = s.of('aws_iam_user_policy_attachment').map((a) => [a.config.user, a.config.policy_arn]);
    expect(attachments).toHaveLength(4);
    expect(attachments.map(([u]) => u).sort()).toEqual([expect.stringContaining('bedrock-user'), expect.stringContaining('control-plane-user'),
      expect.stringContaining('grafana-user'), expect.stringContaining('vps-user')]);
  });
});
