import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ZiggieConfig } from '../config/schema';
import type { GuardrailReport } from '../guardrails';
import { buildApp } from './app';
import { readTerraformJson, type SynthesizedStack } from '../shared/terraform-json';

/** Synthesize every stack into `outdir/stacks/<stack>/cdk.tf.json` and read the results back. */
export function synthesize(config: ZiggieConfig, outdir = 'cdktf.out'): SynthesizedStack[] {
  return synthesizeWithGuardrails(config, outdir).stacks;
}

/**
 * Synthesize, and return the guardrail report of the app's own validation (the rules run once, inside
 * `App.synth()`). A guardrail failure does not throw here: the caller decides (`npm start` prints the report and
 * exits 1); any other synth error does.
 */
export function synthesizeWithGuardrails(config: ZiggieConfig, outdir = 'cdktf.out'): { stacks: SynthesizedStack[]; guardrails: GuardrailReport } {
  // A stack removed from the app must not linger in the output and be planned or reviewed again.
  rmSync(path.join(outdir, 'stacks'), { recursive: true, force: true });
  const { app, stacks, guardrails } = buildApp(config, outdir);
  try {
    app.synth();
  } catch (err) {
    if (!guardrails.failed) throw err;
  }
  return { stacks: stacks.map((stack) => readStack(outdir, stack.node.id)), guardrails: guardrails.report! };
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
