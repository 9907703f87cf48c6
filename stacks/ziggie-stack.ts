import { LocalBackend, S3Backend, TerraformElement, TerraformStack } from 'cdktf';
import { makeUniqueId } from 'cdktf/lib/private/unique';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { Construct, Node } from 'constructs';
import type { ZiggieConfig } from '../config/schema';
import { addressComponents } from '../modules/flat-construct';

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

  private readonly allocated = new Map<string, string>();

  /** cdktf's own scheme (a lone id as-is, a nested path hashed), with flat constructs left out of the path. */
  protected override allocateLogicalId(element: TerraformElement | Node): string {
    const node = TerraformElement.isTerraformElement(element) ? element.node : element;
    const components = addressComponents(this, node);
    if (components.length === 0) return '';
    const id = makeUniqueId(components);
    const owner = this.allocated.get(id);
    if (owner !== undefined && owner !== node.path) {
      throw new Error(`stack ${this.node.id}: "${node.path}" and "${owner}" would both be ${id} in Terraform (ids in flat constructs must be unique in the stack)`);
    }
    this.allocated.set(id, node.path);
    return id;
  }
}
