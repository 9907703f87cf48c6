import { asArray, blocks, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

export const cloudfrontOriginHttps: GuardrailRule = {
  id: 'CLOUDFRONT-ORIGIN-HTTPS',
  area: 'cloudfront',
  why: 'HTTPS to the viewer is worth little if CloudFront fetches from a custom origin over plain HTTP or old TLS.',
  fix: 'Set custom_origin_config.origin_protocol_policy = "https-only" and origin_ssl_protocols = ["TLSv1.2"].',
  check(resource) {
    if (resource.type !== 'aws_cloudfront_distribution') return 'not-applicable';
    const custom = blocks(resource.config.origin).flatMap((o) => blocks(o.custom_origin_config).map((c) => ({ id: String(o.origin_id), c })));
    if (custom.length === 0) return 'not-applicable';
    const problems = custom.flatMap(({ id, c }) => [
      c.origin_protocol_policy !== 'https-only' ? `origin ${id}: origin_protocol_policy ${String(c.origin_protocol_policy)}` : undefined,
      asArray(c.origin_ssl_protocols as string[]).some((p) => p !== 'TLSv1.2') ? `origin ${id}: allows SSL/TLS older than 1.2` : undefined,
    ].filter((p): p is string => p !== undefined));
    return problems.length === 0 ? 'compliant' : fail(problems.join('; '));
  },
};
