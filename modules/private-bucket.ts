import { Construct } from 'constructs';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { type PolicyStatement, policyDocument } from './policy';

export interface PrivateBucketProps {
  readonly bucketName: string;
  /** Keep every version of every object (default true). */
  readonly versioned?: boolean;
  /** Extra statements for the bucket policy, e.g. CloudFront or CloudTrail access. TLS-only is always added. */
  readonly extraPolicyStatements?: (bucketArn: string) => PolicyStatement[];
  /** Terraform refuses to destroy a bucket with objects unless this is set; the default keeps data safe. */
  readonly forceDestroy?: boolean;
}

/**
 * An S3 bucket with secure defaults: all public access blocked, bucket-owner-enforced ownership (no ACLs),
 * SSE (AES256 by default), versioning, and a policy that denies any request not made over TLS.
 */
export class PrivateBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly arn: string;
  readonly name: string;

  constructor(scope: Construct, id: string, props: PrivateBucketProps) {
    super(scope, id);
    this.name = props.bucketName;
    this.arn = `arn:aws:s3:::${props.bucketName}`;
    this.bucket = new S3Bucket(this, 'bucket', { bucket: props.bucketName, forceDestroy: props.forceDestroy ?? false });
    const publicAccess = new S3BucketPublicAccessBlock(this, 'public-access', {
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
    if (props.versioned ?? true) {
      new S3BucketVersioningA(this, 'versioning', {
        bucket: this.bucket.id,
        versioningConfiguration: { status: 'Enabled' },
      });
    }
    new S3BucketPolicy(this, 'policy', {
      bucket: this.bucket.id,
      policy: policyDocument([
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [this.arn, `${this.arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
        ...(props.extraPolicyStatements?.(this.arn) ?? []),
      ]),
      // A policy put before the public-access block can be rejected as "public" by S3.
      dependsOn: [publicAccess],
    });
  }
}
