import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALL_RULES, formatGuardrailReport, PROJECT_SUPPRESSIONS, runGuardrails, type Suppression } from '../../../guardrails';
import { loadConfig } from '../../../config/load';
import { synthesize } from '../../../stacks/synth';
import type { SynthesizedStack } from '../../../shared/terraform-json';
import { fixtureStack, policy } from './fixtures';

const openBucket = fixtureStack({
  name: 'open bucket',
  resources: {
    aws_s3_bucket: { b: { bucket: 'x', '//': { metadata: { path: 'fixture/data/bucket' } } } },
    aws_iam_policy: { p: { name: 'admin', policy: policy({ Sid: 'All', Effect: 'Allow', Action: '*', Resource: '*' }), '//': { metadata: { path: 'fixture/admin' } } } },
  },
});

describe('runGuardrails / formatGuardrailReport', () => {
  test('non-compliant findings are failures with address, path, why and fix', () => {
    const report = runGuardrails([openBucket], []);
    const versioning = report.failures.find((f) => f.rule === 'S3-VERSIONING')!;
    expect(versioning).toMatchObject({ stack: 'fixture', address: 'aws_s3_bucket.b', path: 'fixture/data/bucket', verdict: 'non-compliant' });
    expect(versioning.why).toMatch(/\w/);
    expect(versioning.fix).toMatch(/\w/);
    expect(report.failures.find((f) => f.rule === 'IAM-NO-ADMIN-ACTION')!.detail).toBe('statement All: Action "*"');
    expect(report.rulesRun).toBe(ALL_RULES.length);
    expect(report.resourcesChecked).toBe(2);
  });

  test('a suppression with a reason moves the finding to suppressed (by path prefix) and is listed with the reason', () => {
    const reason = 'Scratch bucket for a fixture: nothing in it is worth a version.';
    const report = runGuardrails([openBucket], [{ rule: 'S3-VERSIONING', path: 'fixture/data', reason }]);
    expect(report.failures.map((f) => f.rule)).not.toContain('S3-VERSIONING');
    expect(report.suppressed).toEqual([expect.objectContaining({ rule: 'S3-VERSIONING', suppressed: { reason } })]);
    const text = formatGuardrailReport(report);
    expect(text).toContain('SUPPRESSED S3-VERSIONING  fixture/data/bucket');
    expect(text).toContain(`reason: ${reason}`);
    expect(text).toMatch(/FAIL IAM-NO-ADMIN-ACTION {2}fixture\/admin/);
  });

  test('suppressions need a reason and a target, and must name a real rule', () => {
    const bad: Suppression[][] = [
      [{ rule: 'S3-VERSIONING', path: 'fixture/data', reason: '' }],
      [{ rule: 'S3-VERSIONING', path: 'fixture/data', reason: 'ok' }],
      [{ rule: 'S3-VERSIONING', reason: 'A long enough reason but no target at all.' }],
      [{ rule: 'S3-NO-SUCH-RULE', path: 'fixture/data', reason: 'A long enough reason for a rule that does not exist.' }],
    ];
    for (const suppressions of bad) expect(() => runGuardrails([openBucket], suppressions)).toThrow(/suppression of/);
  });

  test('a suppression that matches nothing is reported as unused', () => {
    const s: Suppression = { rule: 'LOGS-RETENTION', path: 'fixture/nothing', reason: 'Nothing here matches this suppression.' };
    const report = runGuardrails([openBucket], [s]);
    expect(report.unusedSuppressions).toEqual([s]);
    expect(formatGuardrailReport(report)).toContain('UNUSED SUPPRESSION LOGS-RETENTION');
  });

  test('rule ids are unique and every project suppression has a reason', () => {
    expect(new Set(ALL_RULES.map((r) => r.id)).size).toBe(ALL_RULES.length);
    expect(ALL_RULES.length).toBeGreaterThanOrEqual(20);
    for (const s of PROJECT_SUPPRESSIONS) expect(s.reason.length).toBeGreaterThan(40);
  });

  test('the report never prints a secret value it found', () => {
    const leaky = fixtureStack({ name: 'leak', json: { output: { k: { value: 'sk-proj-CANARYabcdefghijklmnopqrstuvwxyz' } } } });
    const text = formatGuardrailReport(runGuardrails([leaky], []));
    expect(text).toContain('SECRETS-NO-PLAINTEXT');
    expect(text).not.toContain('CANARY');
  });
});

describe('the example config', () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-guardrails-'));
  let stacks: SynthesizedStack[];
  beforeAll(() => { stacks = synthesize(loadConfig(), outdir); });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('every stack passes every guardrail; the one suppression is the default-certificate TLS finding', () => {
    const report = runGuardrails(stacks);
    expect(report.failures.map((f) => `${f.rule} ${f.path}: ${f.detail}`)).toEqual([]);
    expect(report.suppressed.map((f) => [f.rule, f.path])).toEqual([['CLOUDFRONT-MIN-TLS', 'storage/assets-cdn']]);
    expect(report.unusedSuppressions).toEqual([]);
    for (const name of ['state', 'network', 'storage', 'secrets', 'iam', 'audit', 'budgets']) {
      expect(stacks.map((s) => s.name)).toContain(name);
    }
  });
});

test('docs/guardrails.md lists every rule', () => {
  const doc = readFileSync(path.join(__dirname, '../../../docs/guardrails.md'), 'utf8');
  expect(ALL_RULES.filter((r) => !doc.includes(`\`${r.id}\``)).map((r) => r.id)).toEqual([]);
});
