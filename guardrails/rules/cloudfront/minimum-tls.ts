import { blocks, fail, isTrue } from '../../lib';
import type { GuardrailRule } from '../../types';

export const cloudfrontMinimumTls: GuardrailRule = {
  id: 'CLOUDFRONT-MIN-TLS',
  area: 'cloudfront',
  why: 'TLS 1.0 and 1.1 are deprecated (RFC 8996); viewers should be held to TLS 1.2 or later.',
  fix: 'Use an ACM certificate in us-east-1 with ssl_support_method "sni-only" and minimum_protocol_version "TLSv1.2_2021". '
    + 'The default *.cloudfront.net certificate forces TLSv1, so it can only be suppressed with a reason.',
  check(resource) {
    if (resource.type !== 'aws_cloudfront_distribution') return 'not-applicable';
    const cert = blocks(resource.config.viewer_certificate)[0];
    if (!cert) return fail('no viewer_certificate');
    if (isTrue(cert.cloudfront_default_certificate)) return fail('the default CloudFront certificate (AWS forces TLSv1)');
    const version = String(cert.minimum_protocol_version ?? 'TLSv1');
    return /^TLSv1\.[23]/.test(version) ? 'compliant' : fail(`minimum_protocol_version ${version}`);
  },
};
