import { blocks, fail } from '../../lib';
import type { GuardrailRule } from '../../types';

/** An S3 REST endpoint, literal or as a bucket attribute interpolation. */
const S3_REST = /(\.s3[.-][a-z0-9-]*\.?amazonaws\.com$)|(\.s3\.amazonaws\.com$)|(\$\{aws_s3_bucket\.[^}]+\.bucket(_regional)?_domain_name\})/;
const S3_WEBSITE = /(s3-website[.-])|(\$\{aws_s3_bucket(_website_configuration)?\.[^}]+\.website_endpoint\})/;

export const cloudfrontS3OriginAccessControl: GuardrailRule = {
  id: 'CLOUDFRONT-S3-OAC',
  area: 'cloudfront',
  why: 'Only Origin Access Control keeps the bucket private and signs every request; OAI is legacy and a website origin needs a public bucket.',
  fix: 'Point the origin at the bucket\'s regional domain name with origin_access_control_id, and allow only that distribution in the bucket policy.',
  check(resource) {
    if (resource.type !== 'aws_cloudfront_distribution') return 'not-applicable';
    const problems: string[] = [];
    for (const origin of blocks(resource.config.origin)) {
      const domain = String(origin.domain_name ?? '');
      const id = String(origin.origin_id ?? domain);
      if (S3_WEBSITE.test(domain)) problems.push(`origin ${id}: an S3 website endpoint (needs a public bucket)`);
      else if (S3_REST.test(domain)) {
        if (blocks(origin.s3_origin_config).some((c) => c.origin_access_identity)) problems.push(`origin ${id}: a legacy origin access identity`);
        else if (!origin.origin_access_control_id) problems.push(`origin ${id}: no origin_access_control_id`);
      }
    }
    return problems.length === 0 ? 'compliant' : fail(problems.join('; '));
  },
};
