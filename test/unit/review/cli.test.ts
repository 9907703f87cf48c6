import { spawnSync } from 'node:child_process';
import path from 'node:path';

jest.setTimeout(60_000);
const REPO = path.resolve(__dirname, '../../..');
const review = (...args: string[]) => spawnSync(process.execPath, ['bin/run.mjs', 'scripts/review.mts', ...args], { cwd: REPO, encoding: 'utf8' });

describe('npm run review (CLI)', () => {
  test('a real plan alone: JSON on stdout, exit 0 under --fail-on new-guardrail, 1 under any-risk', () => {
    const fixture = 'state=test/unit/review/fixtures/plan-update-replace-delete.json';
    const ok = review('--no-synth', '--plan', fixture, '--json');
    expect(ok.status).toBe(0);
    const json = JSON.parse(ok.stdout) as { plans: Array<{ stack: string; counts: Record<string, number> }>; summary: { high: number } };
    expect(json.plans[0]).toMatchObject({ stack: 'state', counts: { create: 0, update: 2, replace: 1, delete: 1 } });
    expect(json.summary.high).toBeGreaterThan(0);
    expect(review('--no-synth', '--plan', fixture, '--fail-on', 'any-risk').status).toBe(1);
  });

  test('bad input exits 2 with a one-line reason', () => {
    const bad = review('--no-synth', '--plan', 'package.json');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/review: package\.json: no format_version/);
    const ref = review('--base', 'no-such-ref-xyz');
    expect(ref.status).toBe(2);
    expect(ref.stderr).toMatch(/no-such-ref-xyz/);
    expect(review('--fail-on', 'sometimes').status).toBe(2);
    expect(review('--help').status).toBe(0);
  });
});
