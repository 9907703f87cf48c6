import path from 'node:path';
import { planAction, planArgument, readPlanFile, summarizePlan, type PlanJson } from '../../../review/plan';
import { findRisks } from '../../../review/risks';

/**
 * fixtures/plan-update-replace-delete.json is REAL terraform output: test/terraform/review-plan.test.ts seeds a
 * local state from the state stack's offline create plan, changes the configuration and runs
 * `terraform plan -refresh=false` + `terraform show -json` (REVIEW_WRITE_FIXTURES=1 rewrites it).
 * The CRAFTED plan below covers what an offline plan cannot produce (sensitive values, a moved resource,
 * create-before-destroy, drift, data reads); it follows https://developer.hashicorp.com/terraform/internals/json-format.
 */
const FIXTURE = path.join(__dirname, 'fixtures/plan-update-replace-delete.json');

describe('plan summary', () => {
  test('real plan: update, replace (with reason and paths), delete, no-op counted, output change', () => {
    const s = summarizePlan('state', readPlanFile(FIXTURE));
    expect(s.source).toBe('plan');
    expect(s.changes.map((c) => [c.type, c.action]).sort()).toEqual([
      ['aws_s3_bucket_ownership_controls', 'replace'],
      ['aws_s3_bucket_policy', 'update'],
      ['aws_s3_bucket_public_access_block', 'update'],
      ['aws_s3_bucket_versioning', 'delete'],
    ]);
    const replaced = s.changes.find((c) => c.action === 'replace')!;
    expect(replaced.replacePaths).toEqual(['bucket']);
    expect(replaced.attributes.find((a) => a.path === 'bucket')).toMatchObject({ before: 'ziggie-terraform-state-eu-north-1', after: 'ziggie-other-bucket', forcesReplacement: true });
    expect(s.unchanged).toBe(2);
    expect(s.outputs[0]).toMatchObject({ name: 'state_bucket', action: 'update' });
  });

  const crafted: PlanJson = {
    format_version: '1.2',
    terraform_version: '1.11.4',
    resource_changes: [
      {
        address: 'aws_secretsmanager_secret_version.jwt', mode: 'managed', type: 'aws_secretsmanager_secret_version', name: 'jwt',
        change: { actions: ['update'], before: { secret_string: 'old-value', version_stages: ['AWSCURRENT'] }, after: { secret_string: 'new-value', version_stages: ['AWSCURRENT'] },
          after_unknown: {}, before_sensitive: { secret_string: true }, after_sensitive: { secret_string: true } },
      },
      {
        address: 'aws_instance.gpu', previous_address: 'aws_instance.comfy', mode: 'managed', type: 'aws_instance', name: 'gpu', action_reason: 'replace_because_cannot_update',
        change: { actions: ['create', 'delete'], before: { ami: 'ami-1', instance_type: 'g4dn.xlarge', id: 'i-1' }, after: { ami: 'ami-2', instance_type: 'g4dn.xlarge' },
          after_unknown: { id: true }, before_sensitive: {}, after_sensitive: {}, replace_paths: [['ami']] },
      },
      {
        address: 'data.aws_ami.base', mode: 'data', type: 'aws_ami', name: 'base', action_reason: 'read_because_config_unknown',
        change: { actions: ['read'], before: null, after: {}, after_unknown: { id: true }, before_sensitive: false, after_sensitive: {} },
      },
      {
        address: 'aws_iam_role_policy_attachment.admin', mode: 'managed', type: 'aws_iam_role_policy_attachment', name: 'admin',
        change: { actions: ['create'], before: null, after: { role: 'gpu', policy_arn: 'arn:aws:iam::aws:policy/AdministratorAccess' }, after_unknown: { id: true }, before_sensitive: false, after_sensitive: {} },
      },
    ],
    resource_drift: [{ address: 'aws_sns_topic.alerts', mode: 'managed', type: 'aws_sns_topic', name: 'alerts', change: { actions: ['update'] } }],
    output_changes: {
      db_password: { actions: ['update'], before: 'p1', after: 'p2', after_unknown: false, before_sensitive: true, after_sensitive: true },
      ip: { actions: ['create'], before: null, after: null, after_unknown: true, before_sensitive: false, after_sensitive: false },
    },
  };

  test('crafted plan: sensitive values masked, moves, create-before-destroy, reads, drift, managed-policy risk', () => {
    const s = summarizePlan('gpu', crafted);
    expect(JSON.stringify(s.changes.map((c) => c.attributes))).not.toMatch(/old-value|new-value/);
    expect(JSON.stringify(s.outputs)).not.toMatch(/p1|p2/);
    const secret = s.changes.find((c) => c.type === 'aws_secretsmanager_secret_version')!;
    expect(secret.attributes).toEqual([{ path: 'secret_string', kind: 'changed', before: '(sensitive)', after: '(sensitive)', sensitive: true }]);
    const gpu = s.changes.find((c) => c.type === 'aws_instance')!;
    expect(gpu).toMatchObject({ action: 'replace', previousAddress: 'aws_instance.comfy', replacePaths: ['ami'], reason: 'a changed attribute cannot be updated in place' });
    expect(s.changes.find((c) => c.type === 'aws_ami')).toMatchObject({ action: 'read', reason: 'its configuration depends on values known only after apply' });
    expect(s.notes.join()).toMatch(/1 resource\(s\) changed outside Terraform.*aws_sns_topic\.alerts/);
    expect(s.outputs).toEqual([
      { name: 'db_password', action: 'update', before: '(sensitive)', after: '(sensitive)', sensitive: true },
      { name: 'ip', action: 'create', before: undefined, after: '(known after apply)', sensitive: false },
    ]);
    const risks = findRisks([s]).map((r) => `${r.severity} ${r.kind} ${r.address}`);
    expect(risks.sort()).toEqual(['high iam-widening aws_iam_role_policy_attachment.admin', 'high replacement aws_instance.gpu']);
  });

  test('actions, stack names from arguments, and bad input', () => {
    expect(planAction(['delete', 'create'])).toBe('replace');
    expect(planAction(['create', 'delete'])).toBe('replace');
    expect(() => planAction(['explode'])).toThrow(/unknown actions/);
    expect(planArgument('gpu=out/p.json')).toEqual({ stack: 'gpu', file: 'out/p.json' });
    expect(planArgument('.cache/terraform/storage/plan.json')).toEqual({ stack: 'storage', file: '.cache/terraform/storage/plan.json' });
    expect(planArgument('plans/network.plan.json').stack).toBe('network');
    expect(() => readPlanFile(path.join(__dirname, 'plan.test.ts'))).toThrow(/not JSON/);
  });
});
