import { blocks, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

const HTTPS = ['redirect-to-https', 'https-only'];

export const cloudfrontViewerHttps: GuardrailRule = {
  id: 'CLOUDFRONT-VIEWER-HTTPS',
  area: 'cloudfront',
  why: 'A behavior that serves plain HTTP lets anyone on the path read or alter assets (and inject script into the game).',
  fix: 'Set viewer_protocol_policy = "redirect-to-https" (or "https-only") on every cache behavior.',
  check(resource) {
    if (resource.type !== 'aws_cloudfront_distribution') return 'not-applicable';
    const behaviors = [
      ...blocks(resource.config.default_cache_behavior).map((b) => ({ at: 'default', b })),
      ...blocks(resource.config.ordered_cache_behavior).map((b) => ({ at: String(b.path_pattern), b })),
    ];
    const plain = behaviors.filter(({ b }) => !HTTPS.includes(String(b.viewer_protocol_policy)));
    return plain.length === 0 ? 'compliant' : fail(plain.map(({ at, b }) => `${at}: ${String(b.viewer_protocol_policy)}`).join('; '));
  },
};
