import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load';
import type { ZiggieConfig } from '../config/schema';
import { diffEstimates, estimateStacks, scenarioNamed } from '../cost/estimate';
import type { SynthesizedStack } from '../shared/terraform-json';
import { checkoutBase, configFor, git, synthCheckout } from './checkout';
import { diffGuardrails, loadGuardrails, type RunGuardrails } from './guardrails';
import { readPlanFile, summarizePlan } from './plan';
import { findRisks } from './risks';
import { diffSynth } from './synth-diff';
import type { CostReview, Review, StackChanges } from './types';

export type { Review } from './types';

export interface ReviewOptions {
  /** The repository; head is its working tree. */
  readonly repo: string;
  /** Git ref to compare against (synthesized in a worktree with its own code and config). */
  readonly base?: string;
  /** Real plans (`terraform show -json`), one per stack. */
  readonly plans?: readonly { readonly stack: string; readonly file: string }[];
  /** Scenario for the cost headline (default: the head config's default). */
  readonly scenario?: string;
  readonly freeTier?: boolean;
  /** Leave head unsynthesized (a plan-only review). */
  readonly skipSynth?: boolean;
  /** Injected guardrails (tests); default: guardrails' runGuardrails when present. */
  readonly guardrails?: RunGuardrails | null;
  readonly env?: NodeJS.ProcessEnv;
}

const EXAMPLE = 'config/ziggie.example.yaml';

export async function runReview(options: ReviewOptions): Promise<Review> {
  const started = Date.now();
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const repo = path.resolve(options.repo);
  const env = options.env ?? process.env;
  const work = mkdtempSync(path.join(os.tmpdir(), 'ziggie-review-'));
  const base = options.base ? await checkoutBase(repo, options.base) : undefined;
  try {
    const headSha = await git(repo, ['rev-parse', '--short', 'HEAD']).catch(() => undefined);
    const dirty = (await git(repo, ['status', '--porcelain', '--untracked-files=no']).catch(() => '')) !== '';
    const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t = Date.now();
      try {
        return await fn();
      } finally {
        timings[name] = Date.now() - t;
      }
    };
    const headConfigFile = configFor(repo, repo, env) ?? path.join(repo, EXAMPLE);
    const [headStacks, baseStacks] = await Promise.all([
      options.skipSynth ? Promise.resolve(undefined) : timed('synth_head_ms', () => synthCheckout(repo, path.join(work, 'head'), configFor(repo, repo, env))),
      base ? timed('synth_base_ms', () => synthCheckout(base.dir, path.join(work, 'base'), configFor(base.dir, repo, env))) : Promise.resolve(undefined),
    ]);

    const stacks = headStacks ? diffSynth(baseStacks ?? [], headStacks).filter((s) => base || s.status !== 'unchanged') : [];
    const plans: StackChanges[] = (options.plans ?? []).map(({ stack, file }) => summarizePlan(stack, readPlanFile(file)));
    const risks = findRisks([...(base ? stacks : []), ...plans]);

    let guardrails: Review['guardrails'];
    if (headStacks) {
      const loaded = options.guardrails === undefined ? loadGuardrails() : { run: options.guardrails ?? undefined, reason: 'guardrails disabled' };
      guardrails = diffGuardrails(baseStacks, headStacks, loaded.run, loaded.reason);
    } else {
      guardrails = { available: false, reason: 'head not synthesized (plan-only review)', new: [], fixed: [], remaining: [], suppressed: [] };
    }

    let cost: CostReview | undefined;
    if (headStacks) {
      const headConfig = loadConfig(headConfigFile);
      let baseConfig: ZiggieConfig = headConfig;
      if (base) {
        const file = configFor(base.dir, repo, env) ?? path.join(base.dir, EXAMPLE);
        try {
          baseConfig = loadConfig(file);
        } catch (err) {
          warnings.push(`base config does not load with head's schema (${(err as Error).message.split('\n')[0]}): base cost uses head's VPS price`);
        }
      }
      cost = costReview(baseStacks, headStacks, baseConfig, headConfig, options.scenario, options.freeTier);
      warnings.push(...new Set(cost.head.warnings));
    }
    timings.total_ms = Date.now() - started;
    return {
      ...(base ? { base: { label: options.base!, sha: base.sha.slice(0, 12) } } : {}),
      head: { label: dirty ? 'working tree (uncommitted changes)' : 'HEAD', ...(headSha ? { sha: headSha } : {}) },
      stacks,
      plans,
      risks,
      guardrails,
      ...(cost ? { cost } : {}),
      warnings,
      timings,
    };
  } finally {
    await base?.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Usage held equal (head's scenarios) so the delta is what the infrastructure change costs. */
export function costReview(baseStacks: readonly SynthesizedStack[] | undefined, headStacks: readonly SynthesizedStack[],
  baseConfig: ZiggieConfig, headConfig: ZiggieConfig, scenarioName?: string, freeTier?: boolean): CostReview {
  const scenario = scenarioNamed(headConfig, scenarioName);
  const opts = freeTier === undefined ? {} : { freeTier };
  const estimate = (stacks: readonly SynthesizedStack[], config: ZiggieConfig, s = scenario) => estimateStacks(stacks, config, s, opts);
  const head = estimate(headStacks, headConfig);
  const base = baseStacks ? estimate(baseStacks, baseConfig) : undefined;
  return {
    ...(base ? { base, diff: diffEstimates(base, head) } : {}),
    head,
    scenarios: headConfig.scenarios.list.map((s) => {
      const b = baseStacks ? estimate(baseStacks, baseConfig, s) : undefined;
      const h = estimate(headStacks, headConfig, s);
      return {
        name: s.name,
        gpuHoursPerDay: s.gpuHoursPerDay,
        purchase: s.gpuPurchase,
        ...(b ? { baseUsd: b.totalUsd, baseUnpriced: b.unpriced } : {}),
        headUsd: h.totalUsd,
        headUnpriced: h.unpriced,
      };
    }),
  };
}

export type FailOn = 'new-guardrail' | 'never' | 'any-risk';

/** 1 when the review should fail the check, 0 otherwise. */
export function exitCodeFor(review: Review, failOn: FailOn): number {
  if (failOn === 'never') return 0;
  if (review.guardrails.new.length > 0) return 1;
  if (failOn === 'any-risk' && review.risks.some((r) => r.severity !== 'low')) return 1;
  return 0;
}
