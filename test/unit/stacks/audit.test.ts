import { AuditStack } from '../../../stacks/audit';
import { exampleConfig, ref, statements, synth } from './helpers';

describe('audit stack', () => {
  const config = exampleConfig();
  const s = synth((app) => new AuditStack(app, 'audit', config));
  const bucket = s.one('aws_s3_bucket');
  const companion = (type: string) => s.companion(type, bucket);
  const trailArn = 'arn:aws:cloudtrail:eu-north-1:111122223333:trail/ziggie-audit';

  test('a multi-region trail with log-file validation and global events, into its own bucket', () => {
    const trail = s.one('aws_cloudtrail');
    expect(trail.config).toMatchObject({
      name: 'ziggie-audit', is_multi_region_trail: true, enable_log_file_validation: true,
      include_global_service_events: true, s3_bucket_name: ref(bucket, 'bucket'),
    });
    expect(trail.config.depends_on).toEqual([`aws_s3_bucket_policy.${companion('aws_s3_bucket_policy').name}`]);
    expect(bucket.config.bucket).toBe('ziggie-audit-111122223333');
  });

  test('trail bucket: private, encrypted, TLS-only, CloudTrail pinned by aws:SourceArn', () => {
    expect(companion('aws_s3_bucket_public_access_block').config).toMatchObject({
      block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true,
    });
    expect(companion('aws_s3_bucket_server_side_encryption_configuration')).toBeDefined();
    const policy = statements(companion('aws_s3_bucket_policy').config.policy);
    expect(policy.map((st) => st.Sid)).toEqual(['DenyInsecureTransport', 'CloudTrailAclCheck', 'CloudTrailWrite']);
    for (const st of policy.filter((x) => x.Effect === 'Allow')) {
      expect(st.Principal).toEqual({ Service: 'cloudtrail.amazonaws.com' });
      expect(st.Condition.StringEquals['aws:SourceArn']).toBe(trailArn);
    }
    expect(policy[2].Resource).toBe('arn:aws:s3:::ziggie-audit-111122223333/AWSLogs/111122223333/*');
  });

  test('lifecycle expiry and log group retention from the config', () => {
    const changed = exampleConfig();
    changed.storage.auditLogExpireAfterDays = 730;
    changed.audit.retentionDays = 400;
    const c = synth((app) => new AuditStack(app, 'audit', changed));
    expect(c.one('aws_s3_bucket_lifecycle_configuration').config.rule).toEqual([expect.objectContaining({
      expiration: [{ days: 730 }], noncurrent_version_expiration: [{ noncurrent_days: 730 }],
    })]);
    expect(c.one('aws_cloudwatch_log_group').config).toMatchObject({ name: '/ziggie/infrastructure-audit', retention_in_days: 400 });
  });
});
