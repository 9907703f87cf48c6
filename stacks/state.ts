import path from 'node:path';
import type { Construct } from 'constructs';
import { App, TerraformOutput } from 'cdktf';
import { PrivateBucket } from '../modules/private-bucket';
import type { ZiggieConfig } from '../config/schema';
import { ZiggieStack } from './ziggie-stack';

/** Where the state stack's own (local) state lives: the repository root, outside the output directory. */
export const STATE_STACK_STATE_FILE = 'terraform.state.tfstate';

/**
 * The Terraform state bucket. Applied first, with local state; every other stack keeps its state in it and locks
 * with an S3 lock file (Terraform ≥ 1.10 `use_lockfile`).
 */
export class StateStack extends ZiggieStack {
  constructor(scope: Construct, id: string, config: ZiggieConfig) {
    super(scope, id, { config, backend: 'local' });
    // A relative `terraform.tfstate` would sit in cdktf.out/stacks/state/, which every synth deletes and recreates:
    // the bootstrap state would be lost on the next `npm start`. Point it at the directory synth runs from instead,
    // as a relative path so that the synthesized JSON is the same on every machine.
    const stackDir = path.resolve(App.of(this).outdir, 'stacks', id);
    const stateFile = path.join(path.relative(stackDir, process.cwd()), STATE_STACK_STATE_FILE);
    this.addOverride('terraform.backend.local.path', stateFile);

    const state = new PrivateBucket(this, 'state-bucket', { bucketName: config.state.bucket });
    state.bucket.lifecycle = { preventDestroy: true };
    new TerraformOutput(this, 'state_bucket', { value: state.bucket.bucket });
  }
}
