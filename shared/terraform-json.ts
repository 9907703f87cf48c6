import { readFileSync } from 'node:fs';

/** The parts of a synthesized `cdk.tf.json` that this repository reads. */
export interface TerraformJson {
  terraform?: { backend?: Record<string, Record<string, unknown>>; required_providers?: Record<string, unknown> };
  provider?: Record<string, Array<Record<string, unknown>>>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; sensitive?: boolean }>;
  [key: string]: unknown;
}

export interface TerraformResource {
  readonly stack: string;
  readonly type: string;
  readonly name: string;
  /** `aws_s3_bucket.state-bucket_bucket_1A2B3C` — what `terraform plan` calls it. */
  readonly address: string;
  /** cdktf's construct path (`state/state-bucket/bucket`), the name a human recognises. */
  readonly path: string;
  readonly config: Record<string, unknown>;
}

export interface SynthesizedStack {
  readonly name: string;
  readonly dir: string;
  readonly json: TerraformJson;
}

export function readTerraformJson(file: string): TerraformJson {
  return JSON.parse(readFileSync(file, 'utf8')) as TerraformJson;
}

export function resourcesOf(stack: Pick<SynthesizedStack, 'name' | 'json'>): TerraformResource[] {
  const out: TerraformResource[] = [];
  for (const [type, byName] of Object.entries(stack.json.resource ?? {})) {
    for (const [name, config] of Object.entries(byName)) {
      const meta = (config['//'] as { metadata?: { path?: string } } | undefined)?.metadata;
      out.push({ stack: stack.name, type, name, address: `${type}.${name}`, path: meta?.path ?? `${stack.name}/${name}`, config });
    }
  }
  return out;
}

/** A literal JSON document in the synthesized config (policies are written as strings, see shared/iam-policy.ts). */
export function parseJsonAttribute(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
