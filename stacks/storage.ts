import type { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { CloudfrontDistribution } from '@cdktf/provider-aws/lib/cloudfront-distribution';
import { CloudfrontOriginAccessControl } from '@cdktf/provider-aws/lib/cloudfront-origin-access-control';
import { CloudfrontResponseHeadersPolicy } from '@cdktf/provider-aws/lib/cloudfront-response-headers-policy';
import type { ZiggieConfig } from '../config/schema';
import { ziggieNames } from '../shared/names';
import { PrivateBucket } from '../modules/private-bucket';
import { ZiggieStack } from './ziggie-stack';

/** AWS-managed CloudFront policies, referenced by their fixed ids (a data-source lookup cannot run offline). */
export const MANAGED_CACHE_POLICY_CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';

/** A custom domain for the CDN: an ACM certificate in us-east-1 (CloudFront's requirement) and its names. */
export interface CdnCertificate {
  readonly acmCertificateArn: string;
  readonly aliases: readonly string[];
}

export interface StorageStackOptions {
  /**
   * Without it the distribution uses the default *.cloudfront.net certificate, for which AWS forces the minimum
   * viewer protocol to TLSv1 (guardrail CLOUDFRONT-MIN-TLS, suppressed with that reason in
   * guardrails/suppressions.ts). With it: SNI and TLSv1.2_2021.
   */
  readonly certificate?: CdnCertificate;
}

/**
 * `assets`: private, served only through CloudFront with Origin Access Control; `backups`: private, to Glacier
 * after N days and deleted after M. Both versioned, SSE, TLS-only. Prefixes: shared/storage-prefixes.ts.
 */
export class StorageStack extends ZiggieStack {
  readonly assets: PrivateBucket;
  readonly backups: PrivateBucket;
  readonly distribution: CloudfrontDistribution;

  constructor(scope: Construct, id: string, config: ZiggieConfig, options: StorageStackOptions = {}) {
    super(scope, id, { config });
    const names = ziggieNames(config);
    const s = config.storage;

    this.assets = new PrivateBucket(this, 'assets', {
      bucketName: s.assetsBucket,
      lifecycleRules: [{ id: 'expire-noncurrent-versions', noncurrentExpireAfterDays: s.assetsNoncurrentExpiryDays }],
      // Browsers may also talk to S3 directly with presigned URLs (uploads from the game tools).
      cors: { allowedOrigins: s.corsOrigins.map(withoutTrailingSlash), allowedMethods: ['GET', 'HEAD', 'PUT'] },
    });

    this.backups = new PrivateBucket(this, 'backups', {
      bucketName: s.backupsBucket,
      lifecycleRules: [{
        id: 'glacier-then-expire',
        transition: { days: s.backupsGlacierAfterDays, storageClass: 'GLACIER' },
        expireAfterDays: s.backupsExpireAfterDays,
        // A deleted or overwritten backup stays recoverable as long as a current one would have lived.
        noncurrentTransition: { days: s.backupsGlacierAfterDays, storageClass: 'GLACIER' },
        noncurrentExpireAfterDays: s.backupsExpireAfterDays,
      }],
    });

    const oac = new CloudfrontOriginAccessControl(this, 'assets-oac', {
      name: names.assetsOac,
      description: `CloudFront reads ${s.assetsBucket} (SigV4-signed requests)`,
      originAccessControlOriginType: 's3',
      signingBehavior: 'always',
      signingProtocol: 'sigv4',
    });

    // CORS at the edge: CloudFront adds the headers itself, so a cached response never carries another origin's
    // Access-Control-Allow-Origin (which S3's CORS behind a shared cache key would).
    const headers = new CloudfrontResponseHeadersPolicy(this, 'assets-headers', {
      name: names.assetsHeadersPolicy,
      comment: 'CORS for the configured origins and security headers',
      ...(s.corsOrigins.length > 0 ? {
        corsConfig: {
          accessControlAllowCredentials: false,
          accessControlAllowHeaders: { items: ['*'] },
          accessControlAllowMethods: { items: ['GET', 'HEAD', 'OPTIONS'] },
          accessControlAllowOrigins: { items: [...s.corsOrigins.map(withoutTrailingSlash)] },
          accessControlMaxAgeSec: 3600,
          originOverride: true,
        },
      } : {}),
      securityHeadersConfig: {
        strictTransportSecurity: { accessControlMaxAgeSec: 31_536_000, includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: 'DENY', override: true },
        referrerPolicy: { referrerPolicy: 'strict-origin-when-cross-origin', override: true },
      },
    });

    const originId = 'assets-s3';
    const cert = options.certificate;
    this.distribution = new CloudfrontDistribution(this, 'assets-cdn', {
      enabled: true,
      comment: `${names.base} assets (${s.assetsBucket})`,
      isIpv6Enabled: true,
      httpVersion: 'http2and3',
      priceClass: 'PriceClass_100', // North America and Europe edges: the cheapest class
      ...(cert ? { aliases: [...cert.aliases] } : {}),
      origin: [{
        originId,
        domainName: this.assets.bucket.bucketRegionalDomainName,
        originAccessControlId: oac.id,
      }],
      defaultCacheBehavior: {
        targetOriginId: originId,
        viewerProtocolPolicy: 'redirect-to-https',
        allowedMethods: ['GET', 'HEAD', 'OPTIONS'],
        cachedMethods: ['GET', 'HEAD'],
        compress: true,
        cachePolicyId: MANAGED_CACHE_POLICY_CACHING_OPTIMIZED,
        responseHeadersPolicyId: headers.id,
      },
      restrictions: { geoRestriction: { restrictionType: 'none' } },
      viewerCertificate: cert
        ? { acmCertificateArn: cert.acmCertificateArn, sslSupportMethod: 'sni-only', minimumProtocolVersion: 'TLSv1.2_2021' }
        // AWS accepts only TLSv1 with the default certificate; said explicitly so that nobody reads a stronger
        // setting into the plan than CloudFront will serve.
        : { cloudfrontDefaultCertificate: true, minimumProtocolVersion: 'TLSv1' },
    });

    // Only this distribution, through OAC, may read objects; nobody else gets anonymous access.
    this.assets.addToPolicy({
      Sid: 'AllowCloudFrontOacRead',
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: `${this.assets.arn}/*`,
      Condition: { StringEquals: { 'AWS:SourceArn': this.distribution.arn } },
    });

    new TerraformOutput(this, 'assets_cdn_domain', { value: this.distribution.domainName });
    new TerraformOutput(this, 'assets_bucket', { value: this.assets.bucket.bucket });
    new TerraformOutput(this, 'backups_bucket', { value: this.backups.bucket.bucket });
  }
}

function withoutTrailingSlash(origin: string): string {
  return origin.replace(/\/+$/, '');
}
