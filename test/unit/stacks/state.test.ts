import path from 'node:path';
import { App } from 'cdktf';
import { StateStack, STATE_STACK_STATE_FILE } from '../../../stacks/state';
import { exampleConfig, ref, synth } from './helpers';

describe('state stack', () => {
  const config = exampleConfig();
  const s = synth((app) => new StateStack(app, 'state', config));
  const bucket = s.one('aws_s3_bucket');
  const companion = (type: string) => s.companion(type, bucket);

  test('local backend whose file lives outside the output directory (synth wipes cdktf.out/stacks)', () => {
    const local = s.stack.json.terraform?.backend?.local as { path: string };
    // Relative to the stack directory, it lands where synth ran (the repository root), not in the output dir.
    expect(path.resolve(s.stack.dir, local.path)).toBe(path.join(process.cwd(), STATE_STACK_STATE_FILE));
    // With the default output directory the path is machine-independent.
    const json = new StateStack(new App({ outdir: 'cdktf.out' }), 'state', config).toTerraform() as { terraform: { backend: { local: { path: string } } } };
    expect(json.terraform.backend.local.path).toBe(`../../../${STATE_STACK_STATE_FILE}`);
  });

  test('the state bucket: named from config, versioned, encrypted, public access blocked, TLS-only, never destroyed', () => {
    expect(bucket.config).toMatchObject({ bucket: config.state.bucket, lifecycle: { prevent_destroy: true } });
    expect(companion('aws_s3_bucket_versioning').config.versioning_configuration).toEqual({ status: 'Enabled' });
    expect(companion('aws_s3_bucket_server_side_encryption_configuration')).toBeDefined();
    expect(companion('aws_s3_bucket_public_access_block').config).toMatchObject({
      block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true,
    });
    expect(String(companion('aws_s3_bucket_policy').config.policy)).toContain('"aws:SecureTransport":"false"');
  });
});
