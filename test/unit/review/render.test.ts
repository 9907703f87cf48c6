import type { Finding, GuardrailReport } from '../../../guardrails/types';
import { diffGuardrails } from '../../../review/guardrails';
import { exitCodeFor } from '../../../review';
import { MARKER, renderJson, renderMarkdown, truncate } from '../../../review/render';
import { diffSynth } from '../../../review/synth-diff';
import { findRisks } from '../../../review/risks';
import type { Review } from '../../../review/types';
import type { SynthesizedStack } from '../../../shared/terraform-json';

const stack = (name: string, resource: Record<string, Record<string, Record<string, unknown>>>): SynthesizedStack => ({ name, dir: '', json: { resource } });
const finding = (rule: string, address: string): Finding => ({ rule, stack: 'app', address, path: `app/${address}`, verdict: 'non-compliant', why: 'why', fix: 'fix' });

/** A stand-in for runGuardrails: fails every bucket whose name contains "bad". */
function fakeGuardrails(stacks: SynthesizedStack[]): GuardrailReport {
  const failures = stacks.flatMap((s) => Object.entries(s.json.resource?.aws_s3_bucket ?? {}))
    .filter(([, b]) => String(b.bucket).includes('bad')).map(([n]) => finding('S3-BAD', `aws_s3_bucket.${n}`));
  return { findings: failures, failures, suppressed: [], rulesRun: 1, stacksChecked: stacks.length, resourcesChecked: 0, unusedSuppressions: [] };
}

describe('guardrail diff, markdown and exit codes', () => {
  const base = [stack('app', { aws_s3_bucket: { a: { bucket: 'bad-a' }, b: { bucket: 'bad-b' } } })];
  const head = [stack('app', { aws_s3_bucket: { a: { bucket: 'good-a' }, b: { bucket: 'bad-b' }, c: { bucket: 'bad-c' } } })];
  const guardrails = diffGuardrails(base, head, fakeGuardrails);
  const stacks = diffSynth(base, head);
  const review: Review = { base: { label: 'origin/main', sha: 'abcdef123456' }, head: { label: 'HEAD', sha: '1234567' }, stacks, plans: [], risks: findRisks(stacks), guardrails, warnings: [], timings: { total_ms: 1234 } };

  test('new vs fixed vs remaining, judged by the same rules on both sides', () => {
    expect(guardrails.new.map((f) => f.address)).toEqual(['aws_s3_bucket.c']);
    expect(guardrails.fixed.map((f) => f.address)).toEqual(['aws_s3_bucket.a']);
    expect(guardrails.remaining.map((f) => f.address)).toEqual(['aws_s3_bucket.b']);
    expect(diffGuardrails(base, head, undefined, 'no rules')).toMatchObject({ available: false, reason: 'no rules' });
    expect(diffGuardrails(base, head, () => { throw new Error('boom'); })).toMatchObject({ available: false, reason: expect.stringContaining('boom') });
  });

  test('markdown: marker, summary, guardrail tables, per-stack details; exit codes by --fail-on', () => {
    const md = renderMarkdown(review);
    expect(md.split('\n')[0]).toBe(MARKER);
    expect(md).toContain('## Infrastructure review: `origin/main` (abcdef1) → HEAD (1234567)');
    expect(md).toContain('guardrails: ❌ **1 new failure**, 1 fixed');
    expect(md).toMatch(/\*\*❌ New failures\*\* \(1\)[\s\S]*\*\*✅ Fixed\*\* \(1\)[\s\S]*Failing before and after this change \(1\)/);
    expect(md).toMatch(/<details open><summary><b>app<\/b>: \+1 ~0 ±1 −0/); // bucket rename forces replacement
    expect(exitCodeFor(review, 'new-guardrail')).toBe(1);
    expect(exitCodeFor({ ...review, guardrails: { ...guardrails, new: [] } }, 'new-guardrail')).toBe(0);
    expect(exitCodeFor({ ...review, guardrails: { ...guardrails, new: [] } }, 'any-risk')).toBe(1); // the replacement
    expect(exitCodeFor(review, 'never')).toBe(0);
    expect(JSON.parse(renderJson(review)).summary).toMatchObject({ newGuardrailFailures: 1, fixedGuardrailFailures: 1 });
  });

  test('a huge review is cut under GitHub\'s limit with details and fences closed', () => {
    const body = [MARKER, '<details><summary>x</summary>', '```diff', ...Array.from({ length: 5000 }, (_, i) => `+ line ${i} ${'x'.repeat(20)}`), '```', '</details>'].join('\n');
    const cut = truncate(body, 10_000);
    expect(cut.length).toBeLessThan(10_300);
    expect((cut.match(/^```/gm) ?? []).length % 2).toBe(0);
    expect(cut).toMatch(/<\/details>\n\n> ✂️ Truncated/);
  });
});
