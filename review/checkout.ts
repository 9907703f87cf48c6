import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProcessOutput, Shell } from 'zx' with { 'resolution-mode': 'import' };
import { GUARDRAIL_EXIT_CODE } from '../stacks/guardrail-validation';
import { readSynthesized } from '../stacks/synth';
import type { SynthesizedStack } from '../shared/terraform-json';

/** zx's `$` for local commands, quiet: their output is returned or becomes the one-line error (zx is ESM: loaded once, lazily). */
let shell: Promise<Shell> | undefined;
const $q = (): Promise<Shell> => (shell ??= import('zx').then(({ $ }) => $({ quiet: true, verbose: false })));

export async function git(repo: string, args: string[]): Promise<string> {
  try {
    const $ = await $q();
    return (await $`git -C ${repo} ${args}`).stdout.trim();
  } catch (err) {
    const e = err as ProcessOutput & { message: string };
    throw new Error(`git ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

export async function repoRoot(dir: string): Promise<string> {
  return git(dir, ['rev-parse', '--show-toplevel']);
}

/**
 * The config file a checkout synthesizes with: ZIGGIE_CONFIG when set, else the checkout's own example config.
 * A path inside the repository is taken from that checkout when the checkout has it (a tracked config: base
 * uses base's copy); a file only the working tree has (the gitignored `config/ziggie.yaml` of the README's
 * own-config flow) and a path outside the repository are used as they are on both sides.
 */
export function configFor(checkout: string, repo: string, env: NodeJS.ProcessEnv = process.env,
  exists: (file: string) => boolean = existsSync): string | undefined {
  const given = env.ZIGGIE_CONFIG;
  if (!given) return undefined;
  const abs = path.resolve(repo, given);
  const rel = path.relative(repo, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return abs;
  const inCheckout = path.join(checkout, rel);
  return exists(inCheckout) ? inCheckout : abs;
}

/**
 * Synthesize a checkout with ITS OWN code and config: its `main.ts` in a child process with CDKTF_OUTDIR set
 * (through the checkout's own build launcher when it has one, else tsx). Base and head may differ in code, so
 * neither may be synthesized with the other's modules.
 */
export async function synthCheckout(checkout: string, outdir: string, config?: string): Promise<SynthesizedStack[]> {
  const launcher = path.join(checkout, 'bin/run.mjs');
  const tsx = path.join(checkout, 'node_modules/.bin/tsx');
  const cmd = existsSync(launcher) ? [process.execPath, launcher, 'main.ts']
    : existsSync(tsx) ? [tsx, 'main.ts'] : ['npx', '--no-install', 'tsx', 'main.ts'];
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' };
  if (config) env.ZIGGIE_CONFIG = config;
  else delete env.ZIGGIE_CONFIG;
  rmSync(path.join(outdir, 'stacks'), { recursive: true, force: true });
  try {
    const $ = await $q();
    await $({ cwd: checkout, env })`${cmd}`;
  } catch (err) {
    const e = err as ProcessOutput & { message: string };
    // A guardrail refusal still wrote every stack: the review reports the findings itself (new vs fixed).
    if (e.exitCode !== GUARDRAIL_EXIT_CODE) throw new Error(`synth failed in ${checkout}:\n${(e.stderr || e.stdout || e.message).trim()}`);
  }
  return readSynthesized(outdir);
}

export interface BaseCheckout {
  readonly dir: string;
  readonly sha: string;
  dispose(): Promise<void>;
}

/**
 * `ref` checked out in a throwaway git worktree, with the head's node_modules symlinked in (the base commit's
 * dependencies are assumed compatible: the lockfile rarely changes in an infrastructure PR; when it does, the
 * synth error says so).
 */
export async function checkoutBase(repo: string, ref: string): Promise<BaseCheckout> {
  const sha = await git(repo, ['rev-parse', '--verify', `${ref}^{commit}`]);
  const parent = mkdtempSync(path.join(os.tmpdir(), 'ziggie-review-base-'));
  const dir = path.join(parent, 'checkout');
  await git(repo, ['worktree', 'add', '--detach', '--force', dir, sha]);
  const modules = path.join(repo, 'node_modules');
  if (existsSync(modules) && !existsSync(path.join(dir, 'node_modules'))) symlinkSync(modules, path.join(dir, 'node_modules'), 'dir');
  return {
    dir,
    sha,
    async dispose() {
      await git(repo, ['worktree', 'remove', '--force', dir]).catch(() => undefined);
      rmSync(parent, { recursive: true, force: true });
      await git(repo, ['worktree', 'prune']).catch(() => undefined);
    },
  };
}
