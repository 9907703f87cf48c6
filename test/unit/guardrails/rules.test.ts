import { ALL_RULES } from '../../../guardrails';
import { iamCases } from './cases/iam';
import { networkCases } from './cases/network';
import { s3Cases } from './cases/s3';
import { serviceCases } from './cases/services';
import { sqsCases } from './cases/sqs';
import { verdictOf } from './fixtures';

const ALL_CASES = [...s3Cases, ...networkCases, ...iamCases, ...serviceCases, ...sqsCases];

describe('every guardrail rule has a failing and a passing fixture', () => {
  test('coverage: each rule in ALL_RULES has cases, each with at least one failing and one passing fixture', () => {
    const covered = new Map(ALL_CASES.map((c) => [c.rule.id, c]));
    expect(ALL_RULES.filter((r) => !covered.has(r.id)).map((r) => r.id)).toEqual([]);
    for (const c of ALL_CASES) {
      expect({ rule: c.rule.id, failing: c.failing.length > 0, passing: c.passing.length > 0 })
        .toEqual({ rule: c.rule.id, failing: true, passing: true });
    }
  });
});

describe.each(ALL_CASES.map((c) => [c.rule.id, c] as const))('%s', (_id, { rule, failing, passing }) => {
  test.each(failing.map((f) => [f.name, f] as const))('fails: %s', (_name, fixture) => {
    const result = verdictOf(rule, fixture);
    expect(result.verdict).toBe('non-compliant');
    expect(result.detail).toBeTruthy();
  });
  test.each(passing.map((f) => [f.name, f] as const))('passes: %s', (_name, fixture) => {
    expect(verdictOf(rule, fixture).verdict).toBe(fixture.expect ?? 'compliant');
  });
});
