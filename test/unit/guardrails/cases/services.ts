import { budgetsForecastAlert } from '../../../../guardrails/rules/budgets/forecast-alert';
import { budgetsHasNotifications } from '../../../../guardrails/rules/budgets/has-notifications';
import { cloudfrontMinimumTls } from '../../../../guardrails/rules/cloudfront/minimum-tls';
import { cloudfrontOriginHttps } from '../../../../guardrails/rules/cloudfront/origin-https';
import { cloudfrontS3OriginAccessControl } from '../../../../guardrails/rules/cloudfront/s3-origin-access-control';
import { cloudfrontViewerHttps } from '../../../../guardrails/rules/cloudfront/viewer-https';
import { cloudtrailLogFileValidation } from '../../../../guardrails/rules/cloudtrail/log-file-validation';
import { cloudtrailMultiRegion } from '../../../../guardrails/rules/cloudtrail/multi-region';
import { logsRetention } from '../../../../guardrails/rules/logs/retention';
import { secretsNoPlaintext } from '../../../../guardrails/rules/secrets/no-plaintext';
import { secretsNoSecretVersion } from '../../../../guardrails/rules/secrets/no-secret-version';
import { secretsRecoveryWindow } from '../../../../guardrails/rules/secrets/recovery-window';
import { tagsProjectTag } from '../../../../guardrails/rules/tags/project-tag';
import type { RuleCases } from '../fixtures';

const trail = (extra: Record<string, unknown>) => ({ aws_cloudtrail: { t: { name: 't', s3_bucket_name: 'b', is_multi_region_trail: true, enable_log_file_validation: true, ...extra } } });
const s3Origin = { origin_id: 's3', domain_name: '${aws_s3_bucket.assets_bucket_1.bucket_regional_domain_name}', origin_access_control_id: '${aws_cloudfront_origin_access_control.oac.id}' };
const distribution = (extra: Record<string, unknown>) => ({
  aws_cloudfront_distribution: { d: {
    enabled: true, origin: [s3Origin],
    default_cache_behavior: { target_origin_id: 's3', viewer_protocol_policy: 'redirect-to-https', allowed_methods: ['GET', 'HEAD'], cached_methods: ['GET', 'HEAD'] },
    restrictions: { geo_restriction: { restriction_type: 'none' } },
    viewer_certificate: { acm_certificate_arn: 'arn:aws:acm:us-east-1:111122223333:certificate/c', ssl_support_method: 'sni-only', minimum_protocol_version: 'TLSv1.2_2021' },
    ...extra,
  } },
});
const customOrigin = (extra: Record<string, unknown>) => ({ origin_id: 'api', domain_name: 'api.example.com', custom_origin_config: { http_port: 80, https_port: 443, origin_protocol_policy: 'https-only', origin_ssl_protocols: ['TLSv1.2'], ...extra } });
const budget = (notification: unknown[]) => ({ aws_budgets_budget: { b: { budget_type: 'COST', time_unit: 'MONTHLY', limit_amount: '150', limit_unit: 'USD', notification } } });
const note = (type: string, emails: string[] = ['owner@example.com']) => ({ notification_type: type, comparison_operator: 'GREATER_THAN', threshold: 150, threshold_type: 'ABSOLUTE_VALUE', subscriber_email_addresses: emails });

export const serviceCases: RuleCases[] = [
  {
    rule: cloudtrailMultiRegion,
    failing: [
      { name: 'single region', resources: trail({ is_multi_region_trail: false }) },
      { name: 'global service events off', resources: trail({ include_global_service_events: false }) },
    ],
    passing: [{ name: 'multi-region', resources: trail({}) }],
  },
  {
    rule: cloudtrailLogFileValidation,
    failing: [{ name: 'validation unset', resources: trail({ enable_log_file_validation: undefined }) }],
    passing: [{ name: 'validation on', resources: trail({}) }],
  },
  {
    rule: logsRetention,
    failing: [
      { name: 'no retention', resources: { aws_cloudwatch_log_group: { g: { name: '/ziggie/x' } } } },
      { name: 'retention 0 (never expire)', resources: { aws_cloudwatch_log_group: { g: { name: '/ziggie/x', retention_in_days: 0 } } } },
    ],
    passing: [{ name: '30 days', resources: { aws_cloudwatch_log_group: { g: { name: '/ziggie/x', retention_in_days: 30 } } } }],
  },
  {
    rule: cloudfrontViewerHttps,
    failing: [
      { name: 'allow-all on the default behavior', resources: distribution({ default_cache_behavior: { target_origin_id: 's3', viewer_protocol_policy: 'allow-all' } }) },
      { name: 'allow-all on an ordered behavior', resources: distribution({ ordered_cache_behavior: [{ path_pattern: '/img/*', target_origin_id: 's3', viewer_protocol_policy: 'allow-all' }] }) },
    ],
    passing: [{ name: 'redirect-to-https', resources: distribution({}) }],
  },
  {
    rule: cloudfrontMinimumTls,
    failing: [
      { name: 'default certificate', resources: distribution({ viewer_certificate: { cloudfront_default_certificate: true, minimum_protocol_version: 'TLSv1' } }) },
      { name: 'ACM certificate with TLSv1.1', resources: distribution({ viewer_certificate: { acm_certificate_arn: 'arn:aws:acm:us-east-1:1:certificate/c', ssl_support_method: 'sni-only', minimum_protocol_version: 'TLSv1.1_2016' } }) },
    ],
    passing: [{ name: 'ACM + TLSv1.2_2021', resources: distribution({}) }],
  },
  {
    rule: cloudfrontS3OriginAccessControl,
    failing: [
      { name: 'legacy OAI', resources: distribution({ origin: [{ origin_id: 's3', domain_name: 'b.s3.eu-north-1.amazonaws.com', s3_origin_config: { origin_access_identity: 'origin-access-identity/cloudfront/E1' } }] }) },
      { name: 'S3 origin without OAC', resources: distribution({ origin: [{ origin_id: 's3', domain_name: 'b.s3.eu-north-1.amazonaws.com' }] }) },
      { name: 'S3 website endpoint', resources: distribution({ origin: [{ origin_id: 'w', domain_name: 'b.s3-website.eu-north-1.amazonaws.com', custom_origin_config: { origin_protocol_policy: 'http-only' } }] }) },
    ],
    passing: [{ name: 'bucket regional domain + OAC', resources: distribution({}) }],
  },
  {
    rule: cloudfrontOriginHttps,
    failing: [
      { name: 'http-only custom origin', resources: distribution({ origin: [customOrigin({ origin_protocol_policy: 'http-only' })] }) },
      { name: 'TLSv1 allowed to the origin', resources: distribution({ origin: [customOrigin({ origin_ssl_protocols: ['TLSv1', 'TLSv1.2'] })] }) },
    ],
    passing: [
      { name: 'https-only TLSv1.2', resources: distribution({ origin: [customOrigin({})] }) },
      { name: 'S3 origin only', resources: distribution({}), expect: 'not-applicable' },
    ],
  },
  {
    rule: secretsNoSecretVersion,
    failing: [
      { name: 'secret version', resources: { aws_secretsmanager_secret_version: { v: { secret_id: '${aws_secretsmanager_secret.s.id}', secret_string: '${var.x}' } } } },
      { name: 'SecureString parameter with a value', resources: { aws_ssm_parameter: { p: { name: '/x', type: 'SecureString', value: 'x' } } } },
    ],
    passing: [
      { name: 'secret container only', resources: { aws_secretsmanager_secret: { s: { name: 'ziggie/prod/jwt-secret' } } }, expect: 'not-applicable' },
      { name: 'a plain String parameter (the AMI id)', resources: { aws_ssm_parameter: { p: { name: '/ziggie/comfyui/ami-id', type: 'String', value: 'ami-0a1b2c3d4e5f60718' } } }, expect: 'not-applicable' },
    ],
  },
  {
    rule: secretsNoPlaintext,
    failing: [
      { name: 'API key in a resource description', resources: { aws_secretsmanager_secret: { s: { name: 'x', description: 'key is sk-proj-abcdefghijklmnopqrstuvwxyz0123' } } } },
      { name: 'AWS access key id in a tag', resources: { aws_iam_user: { u: { name: 'x', tags: { key: 'AKIAIOSFODNN7EXAMPLE' } } } } },
      { name: 'literal password attribute', resources: { aws_db_instance: { d: { username: 'ziggie', password: 'correct-horse-battery' } } } },
      { name: 'secret in an output', json: { output: { token: { value: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' } } }, target: 'output.token' },
      { name: 'literal credentials in the provider block', json: { provider: { aws: [{ region: 'eu-north-1', access_key: 'AKIAIOSFODNN7EXAMPLE', secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }] } }, target: 'provider.aws[0]' },
      { name: 'private key in a variable default', json: { variable: { key: { default: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc' } } }, target: 'variable.key' },
    ],
    passing: [
      { name: 'a password taken from a reference', resources: { aws_db_instance: { d: { username: 'ziggie', password: '${aws_secretsmanager_secret_version.x.secret_string}' } } } },
      { name: 'secret names and ARNs are not secrets', resources: { aws_iam_policy: { p: { name: 'x', policy: '{"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:eu-north-1:111122223333:secret:ziggie/prod/openai-api-key-??????"}]}' } } } },
      { name: 'IMDS http_tokens is not a token', resources: { aws_launch_template: { l: { metadata_options: { http_tokens: 'required' } } } } },
    ],
  },
  {
    rule: secretsRecoveryWindow,
    failing: [{ name: 'recovery window 0', resources: { aws_secretsmanager_secret: { s: { name: 'x', recovery_window_in_days: 0 } } } }],
    passing: [
      { name: '7 days', resources: { aws_secretsmanager_secret: { s: { name: 'x', recovery_window_in_days: 7 } } } },
      { name: 'unset (AWS default 30)', resources: { aws_secretsmanager_secret: { s: { name: 'x' } } } },
    ],
  },
  {
    rule: budgetsHasNotifications,
    failing: [
      { name: 'no notifications', resources: budget([]) },
      { name: 'actual notification without subscribers', resources: budget([note('ACTUAL', [])]) },
    ],
    passing: [{ name: 'actual with an e-mail', resources: budget([note('ACTUAL')]) }],
  },
  {
    rule: budgetsForecastAlert,
    failing: [{ name: 'actual only', resources: budget([note('ACTUAL')]) }],
    passing: [{ name: 'forecast at the top', resources: budget([note('ACTUAL'), note('FORECASTED')]) }],
  },
  {
    rule: tagsProjectTag,
    failing: [
      { name: 'provider without default tags', resources: { aws_s3_bucket: { b: { bucket: 'x' } } }, json: { provider: { aws: [{ region: 'eu-north-1' }] } } },
      { name: 'aliased provider without default tags', resources: { aws_s3_bucket: { b: { bucket: 'x', provider: 'aws.use1' } } }, json: { provider: { aws: [{ region: 'eu-north-1', default_tags: [{ tags: { Project: 'Ziggie' } }] }, { region: 'us-east-1', alias: 'use1' }] } } },
    ],
    passing: [
      { name: 'provider default tags', resources: { aws_s3_bucket: { b: { bucket: 'x' } } } },
      { name: 'own Project tag', resources: { aws_s3_bucket: { b: { bucket: 'x', tags: { Project: 'Ziggie' } } } }, json: { provider: { aws: [{ region: 'eu-north-1' }] } } },
    ],
  },
];
