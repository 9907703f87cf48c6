/**
 * A secret must never reach Terraform. This canary is put where a user would try to hand Terraform a secret
 * value: environment variables (ZIGGIE_SECRET_*, TF_VAR_*, the plain name), an extra key in the YAML (which the
 * schema must reject), and a container's env (which is VPS configuration and must not reach Terraform either).
 * The terraform tier (test/terraform/plan.test.ts) repeats the env check against the plan JSON.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, EXAMPLE_CONFIG, parseConfig } from '../../../config/load';
import { synthesize } from '../../../stacks/synth';
import { filesUnder } from './helpers';

const CANARY = `sk-ziggie-canary-${randomUUID().replace(/-/g, '')}`;
const exampleYaml = readFileSync(EXAMPLE_CONFIG, 'utf8');


function synthText(yaml: string): { text: string; stacks: ReturnType<typeof synthesize> } {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-canary-'));
  try {
    const stacks = synthesize(parseConfig(yaml), outdir);
    return { text: filesUnder(outdir).map((f) => readFileSync(f, 'utf8')).join('\n'), stacks };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('secret canary', () => {
  test.each([
    ['under secrets', exampleYaml.replace('secrets:\n', `secrets:\n  openaiApiKey: ${CANARY}\n`)],
    ['at the top level', `${exampleYaml}\nopenai_api_key: ${CANARY}\n`],
    ['as a value next to a secret name', exampleYaml.replace('  hostingerApiToken: ziggie/hostinger-api-token', `  hostingerApiToken: ziggie/hostinger-api-token\n  values: { ziggie/prod/openai-api-key: ${CANARY} }`)],
  ])('an extra YAML key %s is rejected, and the error does not echo the value', (_where, yaml) => {
    expect(yaml).toContain(CANARY);
    let error: unknown;
    try {
      parseConfig(yaml);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/unknown key/);
    expect((error as ConfigError).message).not.toContain(CANARY);
  });

  test('environment variables a user might set never reach the synthesized JSON', () => {
    const names = ['ZIGGIE_SECRET_OPENAI_API_KEY', 'TF_VAR_openai_api_key', 'OPENAI_API_KEY', 'ZIGGIE_OPENAI_API_KEY'];
    const saved = names.map((n) => process.env[n]);
    try {
      for (const n of names) process.env[n] = CANARY;
      const { text, stacks } = synthText(exampleYaml);
      expect(text.length).toBeGreaterThan(1000);
      expect(text).not.toContain(CANARY);
      // No stack declares a variable, so TF_VAR_* has nothing to bind to at plan time either.
      expect(stacks.filter((s) => s.json.variable !== undefined).map((s) => s.name)).toEqual([]);
    } finally {
      names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
    }
  });

  test('a secret pasted into a container\'s env (VPS config) does not reach Terraform', () => {
    const yaml = exampleYaml.replace('env: { NODE_ENV: production }', `env: { NODE_ENV: production, LEAKED_API_KEY: ${CANARY} }`);
    expect(parseConfig(yaml).containers.find((c) => c.name === 'ziggie-api')!.env.LEAKED_API_KEY).toBe(CANARY);
    expect(synthText(yaml).text).not.toContain(CANARY);
  });
});
