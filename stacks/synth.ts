import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ZiggieConfig } from '../config/schema';
import { buildApp } from './app';
import { readTerraformJson, type SynthesizedStack } from '../shared/terraform-json';

/** Synthesize every stack into `outdir/stacks/<stack>/cdk.tf.json` and read the results back. */
export function synthesize(config: ZiggieConfig, outdir = 'cdktf.out'): SynthesizedStack[] {
  // A stack removed from the app must not linger in the output and be planned or reviewed again.
  rmSync(path.join(outdir, 'stacks'), { recursive: true, force: true });
  const { app, stacks } = buildApp(config, outdir);
  app.synth();
  return stacks.map((stack) => readStack(outdir, stack.node.id));
}

export function readStack(outdir: string, name: string): SynthesizedStack {
  const dir = path.join(outdir, 'stacks', name);
  return { name, dir, json: readTerraformJson(path.join(dir, 'cdk.tf.json')) };
}

/** The stacks already synthesized in `outdir` (e.g. by another checkout), in directory order. */
export function readSynthesized(outdir: string): SynthesizedStack[] {
  const root = path.join(outdir, 'stacks');
  if (!existsSync(root)) return [];
  return readdirSync(root).sort().map((name) => readStack(outdir, name));
}
