/**
 * The real cdktf CLI (the cdktf-cli devDependency) as README "Deploying" runs it, with terraform/offline.env:
 * `npx cdktf synth` and `npx cdktf list` exactly as written there, a config that breaks a guardrail refused by
 * `cdktf synth`, and `cdktf diff` getting its provider from the mirror (it stops where AWS credentials are needed).
 * As root, each runs in an empty network namespace (`unshare -n`): nothing may need the internet.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commandsIn, REPO } from '../harness/doc-commands';
import { terraformUnavailableReason } from '../harness/terraform';
import { describeTier } from '../support/tier';

jest.setTimeout(10 * 60_000);

const STACKS = ['audit', 'budgets', 'gpu', 'iam', 'network', 'secrets', 'state', 'storage'];
const offline = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0;

interface Ran { code: number; out: string }

/** `sh -c '. terraform/offline.env && <line>'` in the repository, as a user types it. */
function sh(line: string, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const argv = [...(offline ? ['unshare', '-n'] : []), 'sh', '-c', `. terraform/offline.env && ${line}`];
  const clean = { ...process.env };
  for (const key of Object.keys(clean)) if (key.startsWith('AWS_') || key === 'TF_CLI_CONFIG_FILE') delete clean[key];
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { cwd: REPO, env: { ...clean, AWS_EC2_METADATA_DISABLED: 'true', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }));
  });
}

/** A README line, found by how it starts, with its comment removed. */
function readmeLine(start: string): string {
  const found = commandsIn(readFileSync(path.join(REPO, 'README.md'), 'utf8'), 'README.md').find((c) => c.text.startsWith(start));
  if (!found) throw new Error(`README.md has no line starting with "${start}"`);
  return found.text;
}

describe('cdktf CLI (synth, list: no terraform needed)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ziggie-cdktf-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  if (!offline) process.stderr.write('cdktf CLI tests: not root or no unshare: running with the network namespace of the test\n');

  test('README: npx cdktf synth writes every stack and the manifest, guardrails included', async () => {
    const line = readmeLine('npx cdktf synth');
    expect(line).toBe('npx cdktf synth');
    const r = await sh(line);
    expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.stringContaining('Generated Terraform code for the stacks') });
    const manifest = JSON.parse(readFileSync(path.join(REPO, 'cdktf.out/manifest.json'), 'utf8')) as { stacks: Record<string, unknown> };
    expect(Object.keys(manifest.stacks).sort()).toEqual(STACKS);
    expect(r.out).not.toMatch(/ERROR|checkpoint|Unable to open CLI configuration/);
  });

  test('README: npx cdktf list names all stacks', async () => {
    const r = await sh(readmeLine('npx cdktf list'));
    expect(r.code).toBe(0);
    const listed = r.out.split('\n').map((l) => /^(\w+)\s+cdktf\.out\/stacks\/\1$/.exec(l.trim())?.[1]).filter(Boolean);
    expect(listed.sort()).toEqual(STACKS);
  });

  test('cdktf synth refuses a config that opens a port to 0.0.0.0/0, printing the guardrail finding', async () => {
    const config = path.join(tmp, 'world.yaml');
    const example = readFileSync(path.join(REPO, 'config/ziggie.example.yaml'), 'utf8');
    const world = example.replace(/sshAllowlist: \[[^\]]*\]/, 'sshAllowlist: [0.0.0.0/0]');
    expect(world).not.toBe(example);
    writeFileSync(config, world);
    const r = await sh(`npx cdktf synth --output ${path.join(tmp, 'out')}`, { ZIGGIE_CONFIG: config });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/FAIL SG-NO-WORLD-INGRESS {2}network\/ami-builder-ssh-0 {2}\(network: aws_vpc_security_group_ingress_rule\.ami-builder-ssh-0\)/);
    expect(r.out).toContain('found: tcp 22-22 from 0.0.0.0/0');
    expect(r.out).toMatch(/fix: +Admit only the addresses that need it/);
    expect(r.out).not.toContain('Generated Terraform code');
    expect(existsSync(path.join(tmp, 'out/manifest.json'))).toBe(false);
  });
});

describeTier('terraform tier: cdktf diff with the mirror', terraformUnavailableReason(), () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ziggie-cdktf-diff-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('npx cdktf diff state --skip-provider-lock installs the provider from the mirror and stops at AWS credentials', async () => {
    const r = await sh(`npx cdktf diff state --skip-provider-lock --output ${path.join(tmp, 'out')}`);
    expect(r.code).not.toBe(0); // no AWS account here
    expect(r.out).toMatch(/Installed hashicorp\/aws v5\.100\.0|Using previously-installed hashicorp\/aws v5\.100\.0|Terraform has been successfully initialized/);
    expect(r.out).toMatch(/No valid credential sources found/);
    expect(r.out).not.toMatch(/Failed to query available provider packages|registry\.terraform\.io.*(timeout|no such host)/);
  });
});
