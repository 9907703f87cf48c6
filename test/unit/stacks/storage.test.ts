import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runGuardrails } from '../../../guardrails';
import { ASSET_PREFIXES, BACKUP_PREFIXES } from '../../../shared/storage-prefixes';
import { StorageStack } from '../../../stacks/storage';
import type { TerraformResource } from '../../../shared/terraform-json';
import { exampleConfig, ref, statements, synth } from './helpers';

describe('storage stack', () => {
  const config = exampleConfig();
  const s = synth((app) => new StorageStack(app, 'storage', config));
  const bucket = (name: string) => s.of('aws_s3_bucket').find((b) => b.config.bucket === name)!;
  const companion = (type: string, b: TerraformResource) => s.companion(type, b);
  const assets = bucket('ziggie-cloud-assets');
  const backups = bucket('ziggie-cloud-backups');

  test.each(['ziggie-cloud-assets', 'ziggie-cloud-backups'])('%s: public access block all true, SSE, versioning, no ACLs, TLS-only', (name) => {
    const b = bucket(name);
    expect(companion('aws_s3_bucket_public_access_block', b).config).toMatchObject({
      block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true,
    });
    expect(companion('aws_s3_bucket_server_side_encryption_configuration', b).config.rule)
      .toEqual([expect.objectContaining({ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } })]);
    expect(companion('aws_s3_bucket_versioning', b).config.versioning_configuration).toEqual({ status: 'Enabled' });
    expect(companion('aws_s3_bucket_ownership_controls', b).config.rule).toEqual({ object_ownership: 'BucketOwnerEnforced' });
    const deny = statements(companion('aws_s3_bucket_policy', b).config.policy).find((st) => st.Sid === 'DenyInsecureTransport');
    expect(deny).toMatchObject({
      Effect: 'Deny', Principal: '*', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`],
    });
    expect(b.config.acl).toBeUndefined();
  });

  test('assets: only the CloudFront distribution (OAC, aws:SourceArn) may read; nothing else is allowed', () => {
    const dist = s.one('aws_cloudfront_distribution');
    const allows = statements(companion('aws_s3_bucket_policy', assets).config.policy).filter((st) => st.Effect === 'Allow');
    expect(allows).toEqual([{
      Sid: 'AllowCloudFrontOacRead', Effect: 'Allow', Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject', Resource: 'arn:aws:s3:::ziggie-cloud-assets/*',
      Condition: { StringEquals: { 'AWS:SourceArn': ref(dist, 'arn') } },
    }]);
    expect(statements(companion('aws_s3_bucket_policy', backups).config.policy).filter((st) => st.Effect === 'Allow')).toEqual([]);
  });

  test('CloudFront: HTTPS redirect, Origin Access Control (not OAI), S3 REST origin', () => {
    const dist = s.one('aws_cloudfront_distribution');
    const oac = s.one('aws_cloudfront_origin_access_control');
    expect(oac.config).toMatchObject({ origin_access_control_origin_type: 's3', signing_behavior: 'always', signing_protocol: 'sigv4' });
    expect(dist.config.default_cache_behavior).toMatchObject({ viewer_protocol_policy: 'redirect-to-https' });
    expect(dist.config.ordered_cache_behavior).toBeUndefined();
    const [origin] = dist.config.origin as Array<Record<string, unknown>>;
    expect(origin).toMatchObject({ domain_name: ref(assets, 'bucket_regional_domain_name'), origin_access_control_id: ref(oac, 'id') });
    expect(origin.s3_origin_config).toBeUndefined();
    expect(s.of('aws_cloudfront_origin_access_identity')).toHaveLength(0);
  });

  test('default certificate: TLSv1 stated honestly and the guardrail finding suppressed with a reason', () => {
    expect(s.one('aws_cloudfront_distribution').config.viewer_certificate)
      .toEqual({ cloudfront_default_certificate: true, minimum_protocol_version: 'TLSv1' });
    const report = runGuardrails([s.stack]);
    expect(report.failures).toEqual([]);
    expect(report.suppressed.map((f) => [f.rule, f.path])).toEqual([['CLOUDFRONT-MIN-TLS', 'storage/assets-cdn']]);
  });

  test('with an ACM certificate: SNI, TLSv1.2_2021, aliases, and no suppression needed', () => {
    const withCert = synth((app) => new StorageStack(app, 'storage', config, {
      certificate: { acmCertificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc', aliases: ['assets.example.com'] },
    }));
    const dist = withCert.one('aws_cloudfront_distribution');
    expect(dist.config.viewer_certificate).toEqual({
      acm_certificate_arn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc', ssl_support_method: 'sni-only', minimum_protocol_version: 'TLSv1.2_2021',
    });
    expect(dist.config.aliases).toEqual(['assets.example.com']);
    const report = runGuardrails([withCert.stack]);
    expect(report.failures).toEqual([]);
    expect(report.suppressed).toEqual([]);
    expect(report.unusedSuppressions.map((u) => u.rule)).toEqual(['CLOUDFRONT-MIN-TLS']);
  });

  test('CORS for the configured origins, on the bucket and at the edge', () => {
    const origins = config.storage.corsOrigins;
    expect(companion('aws_s3_bucket_cors_configuration', assets).config.cors_rule)
      .toEqual([expect.objectContaining({ allowed_origins: origins })]);
    const headers = s.one('aws_cloudfront_response_headers_policy');
    expect(headers.config.cors_config).toMatchObject({ access_control_allow_origins: { items: origins }, access_control_allow_credentials: false });
    expect(s.one('aws_cloudfront_distribution').config.default_cache_behavior)
      .toMatchObject({ response_headers_policy_id: ref(headers, 'id') });
  });

  test('lifecycle days come from the config', () => {
    const changed = exampleConfig();
    Object.assign(changed.storage, { assetsNoncurrentExpiryDays: 14, backupsGlacierAfterDays: 45, backupsExpireAfterDays: 400, corsOrigins: [] });
    const c = synth((app) => new StorageStack(app, 'storage', changed));
    const lifecycle = (name: string) => c.of('aws_s3_bucket_lifecycle_configuration')
      .find((l) => l.config.bucket === ref(c.of('aws_s3_bucket').find((b) => b.config.bucket === name)!, 'id'))!;
    expect(lifecycle('ziggie-cloud-assets').config.rule).toEqual([expect.objectContaining({
      status: 'Enabled', noncurrent_version_expiration: [{ noncurrent_days: 14 }],
    })]);
    expect(lifecycle('ziggie-cloud-backups').config.rule).toEqual([expect.objectContaining({
      status: 'Enabled',
      transition: [{ days: 45, storage_class: 'GLACIER' }],
      expiration: [{ days: 400 }],
      noncurrent_version_transition: [{ noncurrent_days: 45, storage_class: 'GLACIER' }],
      noncurrent_version_expiration: [{ noncurrent_days: 400 }],
    })]);
    // No origins configured: no CORS anywhere.
    expect(c.of('aws_s3_bucket_cors_configuration')).toHaveLength(0);
    expect(c.one('aws_cloudfront_response_headers_policy').config.cors_config).toBeUndefined();
  });

  test('the documented prefixes are the exported constants', () => {
    const doc = readFileSync(path.join(__dirname, '../../../docs/storage.md'), 'utf8');
    for (const prefix of [...Object.values(ASSET_PREFIXES), ...Object.values(BACKUP_PREFIXES)]) expect(doc).toContain(`\`${prefix}\``);
    expect(Object.values(ASSET_PREFIXES)).toEqual(['game-assets/sprites/', 'game-assets/3d-models/', 'comfyui/generated/', 'shared/']);
    expect(Object.values(BACKUP_PREFIXES)).toEqual(['n8n/workflows/', 'flowise/chatflows/', 'grafana/dashboards/', 'databases/']);
  });
});
