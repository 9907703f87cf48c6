import type { Suppression } from './types';

/**
 * Findings this project accepts, each with its reason. runGuardrails() uses this list unless given another; the
 * report prints every suppressed finding with its reason, and a suppression that no longer matches anything is
 * reported as unused so it can be removed. docs/guardrails.md explains how to add one.
 */
export const PROJECT_SUPPRESSIONS: readonly Suppression[] = [
  {
    rule: 'CLOUDFRONT-MIN-TLS',
    path: 'storage/assets-cdn',
    reason: 'No custom domain yet: the assets CDN serves on *.cloudfront.net with the default certificate, for which '
      + 'AWS accepts only minimum_protocol_version TLSv1 (modern clients still negotiate TLS 1.2/1.3). Giving '
      + 'StorageStack a certificate (ACM, us-east-1) switches to sni-only + TLSv1.2_2021 and makes this unused.',
  },
];
