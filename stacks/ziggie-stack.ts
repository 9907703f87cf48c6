import { LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { Construct } from 'constructs';
import type { ZiggieConfig } from '../config/schema';

export interface ZiggieStackProps {
  readonly config: ZiggieConfig;
  /**
   * Where Terraform keeps this stack's state. Every stack uses the S3 state bucket with S3's native lock file
   * (`use_lockfile`, no DynamoDB table) except the `state` stack, which creates that bucket and so starts local.
   */
  readonly backend?: 's3' | 'local';
}

/** A stack with the project's AWS provider (region, default tags) and backend. */
export class ZiggieStack extends TerraformStack {
  readonly config: ZiggieConfig;

  constructor(scope: Construct, id: string, { config, backend = 's3' }: ZiggieStackProps) {
    super(scope, id);
    this.config = config;
    new AwsProvider(this, 'aws', {
      region: config.region,
      allowedAccountIds: [config.accountId],
      defaultTags: [{ tags: config.tags }],
    });
    if (backend === 'local') {
      new LocalBackend(this, { path: 'terraform.tfstate' });
    } else {
      new S3Backend(this, {
        bucket: config.state.bucket,
        key: `${config.state.keyPrefix}/${id}.tfstate`,
        region: config.region,
        encrypt: true,
      });
      // cdktf 0.21's S3Backend props predate Terraform 1.10's S3-native locking.
      this.addOverride('terraform.backend.s3.use_lockfile', true);
    }
  }
}
