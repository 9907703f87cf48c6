import { Construct } from 'constructs';
import { Lazy } from 'cdktf';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketCorsConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-cors-configuration';
import {
  S3BucketLifecycleConfiguration,
  type S3BucketLifecycleConfigurationRule,
} from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { type PolicyStatement, policyDocument } from '../shared/iam-policy';

/** One lifecycle rule, in days. Every rule also aborts incomplete multipart uploads after 7 days. */
export interface BucketLifecycleRule {
  readonly id: string;
  /** Key prefix the rule applies to; the whole bucket when omitted. */
  readonly prefix?: string;
  /** Move current versions to another storage class, e.g. `{ days: 30, storageClass: 'GLACIER' }`. */
  readonly transition?: { readonly days: number; readonly storageClass: string };
  /** Delete current versions (a versioned bucket keeps them as noncurrent versions). */
  readonly expireAfterDays?: number;
  readonly noncurrentTransition?: { readonly days: number; readonly storageClass: string };
  /** Delete a version this many days after it stopped being current. */
  readonly noncurrentExpireAfterDays?: number;
}

export interface BucketCors {
  readonly allowedOrigins: readonly string[];
  readonly allowedMethods?: readonly string[];
  readonly allowedHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  readonly maxAgeSeconds?: number;
}

export interface PrivateBucketProps {
  readonly bucketName: string;
  /** Keep every version of every object (default true). */
  readonly versioned?: boolean;
  /** Extra statements for the bucket policy, e.g. CloudFront or CloudTrail access. TLS-only is always added. */
  readonly extraPolicyStatements?: (bucketArn: string) => PolicyStatement[];
  /** Terraform refuses to destroy a bucket with objects unless this is set; the default keeps data safe. */
  readonly forceDestroy?: boolean;
  /** Lifecycle rules (aws_s3_bucket_lifecycle_configuration); none when omitted. */
  readonly lifecycleRules?: readonly BucketLifecycleRule[];
  /** CORS for browsers talking to S3 directly (e.g. presigned URLs); none when omitted or without origins. */
  readonly cors?: BucketCors;
}

/** Incomplete multipart uploads are invisible but billed; every lifecycle rule set cleans them up. */
const ABORT_INCOMPLETE_UPLOADS_DAYS = 7;

/**
 * An S3 bucket with secure defaults: all public access blocked, bucket-owner-enforced ownership (no ACLs),
 * SSE (AES256 by default), versioning, and a policy that denies any request not made over TLS.
 */
export class PrivateBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly arn: string;
  readonly name: string;
  readonly publicAccessBlock: S3BucketPublicAccessBlock;
  /** The bucket policy; depend on it when a service (e.g. CloudTrail) checks its access at creation. */
  readonly policy: S3BucketPolicy;
  readonly lifecycle?: S3BucketLifecycleConfiguration;
  private readonly statements: PolicyStatement[];

  constructor(scope: Construct, id: string, props: PrivateBucketProps) {
    super(scope, id);
    this.name = props.bucketName;
    this.arn = `arn:aws:s3:::${props.bucketName}`;
    this.bucket = new S3Bucket(this, 'bucket', { bucket: props.bucketName, forceDestroy: props.forceDestroy ?? false });
    this.publicAccessBlock = new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', {
      bucket: this.bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }],
    });
    let versioning: S3BucketVersioningA | undefined;
    if (props.versioned ?? true) {
      versioning = new S3BucketVersioningA(this, 'versioning', {
        bucket: this.bucket.id,
        versioningConfiguration: { status: 'Enabled' },
      });
    }
    this.statements = [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [this.arn, `${this.arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      ...(props.extraPolicyStatements?.(this.arn) ?? []),
    ];
    this.policy = new S3BucketPolicy(this, 'policy', {
      bucket: this.bucket.id,
      // Lazy so that addToPolicy() can add statements that name resources created after the bucket.
      policy: Lazy.stringValue({ produce: () => policyDocument(this.statements) }),
      // A policy put before the public-access block can be rejected as "public" by S3.
      dependsOn: [this.publicAccessBlock],
    });
    if (props.lifecycleRules && props.lifecycleRules.length > 0) {
      this.lifecycle = new S3BucketLifecycleConfiguration(this, 'lifecycle', {
        bucket: this.bucket.id,
        rule: props.lifecycleRules.map(lifecycleRule),
        // S3 rejects noncurrent-version rules on a bucket whose versioning is not yet enabled.
        dependsOn: versioning ? [versioning] : [],
      });
    }
    if (props.cors && props.cors.allowedOrigins.length > 0) {
      new S3BucketCorsConfiguration(this, 'cors', {
        bucket: this.bucket.id,
        corsRule: [{
          allowedOrigins: [...props.cors.allowedOrigins],
          allowedMethods: [...(props.cors.allowedMethods ?? ['GET', 'HEAD'])],
          allowedHeaders: [...(props.cors.allowedHeaders ?? ['*'])],
          exposeHeaders: [...(props.cors.exposeHeaders ?? ['ETag'])],
          maxAgeSeconds: props.cors.maxAgeSeconds ?? 3600,
        }],
      });
    }
  }

  /** Add statements to the bucket policy (e.g. one naming a CloudFront distribution created after the bucket). */
  addToPolicy(...statements: PolicyStatement[]): void {
    this.statements.push(...statements);
  }
}

function lifecycleRule(rule: BucketLifecycleRule): S3BucketLifecycleConfigurationRule {
  return {
    id: rule.id,
    status: 'Enabled',
    // An empty prefix is the whole bucket; provider 5.x warns when a rule has no filter at all.
    filter: [{ prefix: rule.prefix ?? '' }],
    abortIncompleteMultipartUpload: [{ daysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_DAYS }],
    ...(rule.transition ? { transition: [{ days: rule.transition.days, storageClass: rule.transition.storageClass }] } : {}),
    ...(rule.expireAfterDays !== undefined ? { expiration: [{ days: rule.expireAfterDays }] } : {}),
    ...(rule.noncurrentTransition
      ? { noncurrentVersionTransition: [{ noncurrentDays: rule.noncurrentTransition.days, storageClass: rule.noncurrentTransition.storageClass }] }
      : {}),
    ...(rule.noncurrentExpireAfterDays !== undefined
      ? { noncurrentVersionExpiration: [{ noncurrentDays: rule.noncurrentExpireAfterDays }] }
      : {}),
  };
}
