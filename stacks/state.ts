import type { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { PrivateBucket } from '../modules/private-bucket';
import type { ZiggieConfig } from '../config/schema';
import { ZiggieStack } from './ziggie-stack';

/**
 * The Terraform state bucket. Applied first, with local state; every other stack keeps its state in it and locks
 * with an S3 lock file (Terraform ≥ 1.10 `use_lockfile`).
 */
export class StateStack extends ZiggieStack {
  constructor(scope: Construct, id: string, config: ZiggieConfig) {
    super(scope, id, { config, backend: 'local' });
    const state = new PrivateBucket(this, 'state-bucket', { bucketName: config.state.bucket });
    state.bucket.lifecycle = { preventDestroy: true };
    new TerraformOutput(this, 'state_bucket', { value: state.bucket.bucket });
  }
}
