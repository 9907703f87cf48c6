import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, type TerraformStack } from 'cdktf';
import { loadConfig } from '../../../config/load';
import type { ZiggieConfig } from '../../../config/schema';
import { readStack } from '../../../stacks/synth';
import { parseJsonAttribute, resourcesOf, type SynthesizedStack, type TerraformResource } from '../../../shared/terraform-json';

/** The example config, deep-copied so a test can change it. */
export function exampleConfig(): ZiggieConfig {
  return structuredClone(loadConfig());
}

export interface Synthesized<T extends TerraformStack> {
  readonly construct: T;
  readonly stack: SynthesizedStack;
  readonly resources: TerraformResource[];
  /** The resources of one type. */
  of(type: string): TerraformResource[];
  /** The single resource of a type (fails the test when there are 0 or several). */
  one(type: string): TerraformResource;
  /** A bucket's companion of `type` (the one whose `bucket` references it), e.g. its versioning. */
  companion(type: string, bucket: TerraformResource): TerraformResource;
}

/** Synthesize one stack into a temporary directory and read back its Terraform JSON. */
export function synth<T extends TerraformStack>(make: (app: App) => T): Synthesized<T> {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-unit-'));
  try {
    const app = new App({ outdir, skipValidation: false });
    const construct = make(app);
    app.synth();
    const stack = readStack(outdir, construct.node.id);
    const resources = resourcesOf(stack);
    const of = (type: string) => resources.filter((r) => r.type === type);
    return {
      construct, stack, resources, of,
      one(type) {
        const found = of(type);
        if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
        return found[0];
      },
      companion(type, bucket) {
        const found = of(type).find((r) => r.config.bucket === ref(bucket, 'id'));
        if (!found) throw new Error(`no ${type} for ${bucket.address}`);
        return found;
      },
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A policy attribute (literal JSON, shared/iam-policy.ts) as its statements. */
export function statements(value: unknown): Array<Record<string, any>> {
  const doc = parseJsonAttribute(value) as { Statement: Array<Record<string, any>> } | undefined;
  if (!doc) throw new Error(`not a literal JSON policy: ${String(value)}`);
  return doc.Statement;
}

export function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Does an interpolation point at the resource (`${aws_x.name.attr}`)? */
export function ref(resource: TerraformResource, attribute: string): string {
  return `\${${resource.address}.${attribute}}`;
}

/** Every file below `dir`, skipping terraform's provider cache (`.terraform`). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? (name === '.terraform' ? [] : filesUnder(p)) : [p];
  });
}
