import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as guardrailsModule from '../../../guardrails';
import { PROJECT_SUPPRESSIONS } from '../../../guardrails';
import { buildApp } from '../../../stacks/app';
import { synthesizeWithGuardrails } from '../../../stacks/synth';
import { exampleConfig } from './helpers';

/** The example config with SSH open to the world: the AMI builder's security group then admits 0.0.0.0/0:22. */
function worldSshConfig() {
  const config = exampleConfig();
  config.vps.sshAllowlist = ['0.0.0.0/0'];
  return config;
}

describe('guardrails as the CDKTF app validation', () => {
  let outdir: string;
  beforeEach(() => { outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-validation-')); });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  test('App.synth() refuses a stack that breaks a rule, naming rule, address, what was found and the fix', () => {
    const { app, guardrails } = buildApp(worldSshConfig(), outdir);
    expect(() => app.synth()).toThrow(/SG-NO-WORLD-INGRESS  network\/ami-builder-ssh-0  \(network: aws_vpc_security_group_ingress_rule\.ami-builder-ssh-0\)\n\s+found: tcp 22-22 from 0\.0\.0\.0\/0\n\s+why: .*\n\s+fix:   Admit only/);
    expect(guardrails.failed).toBe(true);
    expect(guardrails.report!.failures.map((f) => f.rule).sort()).toEqual(['SG-NO-PUBLIC-ADMIN-PORTS', 'SG-NO-WORLD-INGRESS']);
  });

  test('the example config synthesizes; the documented suppression (CloudFront TLS on *.cloudfront.net) still applies', () => {
    const { app, guardrails } = buildApp(exampleConfig(), outdir);
    expect(() => app.synth()).not.toThrow();
    expect(guardrails.report!.failures).toEqual([]);
    expect(guardrails.report!.suppressed.map((f) => f.rule)).toContain('CLOUDFRONT-MIN-TLS');
    expect(guardrails.report!.findings.length).toBeGreaterThan(100);
  });

  test('a suppression with a reason lets the same stack synthesize', () => {
    const reason = 'test: the builder is short-lived and keyed per run';
    const { app, guardrails } = buildApp(worldSshConfig(), outdir, [
      ...PROJECT_SUPPRESSIONS,
      { rule: 'SG-NO-WORLD-INGRESS', path: 'network/ami-builder-ssh-0', reason },
      { rule: 'SG-NO-PUBLIC-ADMIN-PORTS', path: 'network/ami-builder-ssh-0', reason },
    ]);
    expect(() => app.synth()).not.toThrow();
    expect(guardrails.report!.suppressed.map((f) => f.rule).sort()).toEqual(expect.arrayContaining(['SG-NO-PUBLIC-ADMIN-PORTS', 'SG-NO-WORLD-INGRESS']));
  });

  test('synthesizeWithGuardrails (npm start) returns the validation report: the rules run once', () => {
    const run = jest.spyOn(guardrailsModule, 'runGuardrails');
    const { stacks, guardrails } = synthesizeWithGuardrails(worldSshConfig(), outdir);
    expect(run).toHaveBeenCalledTimes(1);
    run.mockRestore();
    expect(stacks.map((s) => s.name)).toContain('network');
    expect(guardrails.failures).toHaveLength(2);
  });
});
