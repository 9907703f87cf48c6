import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { MARKER } from '../../../review/render';

type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
type Job = { if?: string; needs?: string; permissions?: Record<string, string>; steps: Step[] };

/** The workflow cannot run here (no GitHub); check the parts that make it correct when it does. */
describe('.github/workflows/review.yml', () => {
  const wf = parse(readFileSync(path.join(__dirname, '../../../.github/workflows/review.yml'), 'utf8')) as { on: Record<string, unknown>; jobs: Record<string, Job> };

  test('runs the review on pull requests and creates or updates ONE comment found by the hidden marker', () => {
    expect(Object.keys(wf.on)).toEqual(['pull_request']);
    const steps = wf.jobs.review.steps;
    expect(steps[0]).toMatchObject({ uses: 'actions/checkout@v4', with: { 'fetch-depth': 0 } });
    expect(steps.find((s) => s.run?.includes('npm run --silent review -- --base "origin/${{ github.base_ref }}"'))).toBeDefined();
    const comment = steps.find((s) => s.uses === 'actions/github-script@v7')!;
    const script = String(comment.with!.script);
    expect(script).toContain(`'${MARKER}'`);
    expect(script).toMatch(/updateComment[\s\S]*createComment/);
    // Comment first, then fail the job on new guardrail failures.
    const failIdx = steps.findIndex((s) => s.name === 'Fail on new guardrail failures');
    expect(failIdx).toBeGreaterThan(steps.indexOf(comment));
    expect(wf.jobs.review.steps.some((s) => s.run?.includes('cost:table -- --check'))).toBe(true);
  });

  test('the plan job uses OIDC and is skipped cleanly without the repo variable', () => {
    const plan = wf.jobs.plan;
    expect(plan.if).toContain("vars.AWS_PLAN_ROLE_ARN != ''");
    expect(plan.permissions).toMatchObject({ 'id-token': 'write' });
    const aws = plan.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))!;
    expect(aws.with).toMatchObject({ 'role-to-assume': '${{ vars.AWS_PLAN_ROLE_ARN }}' });
    expect(plan.steps.some((s) => s.run?.includes('show -json plan.bin'))).toBe(true);
    expect(plan.steps.some((s) => s.run?.includes('args+=(--plan "$f")'))).toBe(true);
    expect(plan.steps.filter((s) => s.uses === 'actions/github-script@v7')).toHaveLength(1);
  });
});
