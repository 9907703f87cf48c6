/**
 * Every `cdktf …` and `npm run …` line in README.md and docs/**\/*.md parses against the real CLIs: cdktf-cli's
 * own usage (commands, options, positionals) with the stacks and dependencies of a real synth, package.json's
 * scripts, and the project CLIs' --help. The checker is proven on lines that must fail.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load';
import { synthesize } from '../../stacks/synth';
import {
  type AppStacks, CdktfUsage, checkCdktf, checkNpm, commandsIn, docCommands, NpmUsage, REPO, stacksOf, tokenize,
} from '../harness/doc-commands';

jest.setTimeout(10 * 60_000);

const commands = docCommands();
const cdktf = commands.filter((c) => c.tool === 'cdktf');
const npm = commands.filter((c) => c.tool === 'npm');
const scripts = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('commands in the docs', () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'ziggie-docs-'));
  const cdktfUsage = new CdktfUsage();
  const npmUsage = new NpmUsage(scripts);
  let app: AppStacks;

  beforeAll(() => {
    synthesize(loadConfig(), outdir);
    app = stacksOf(path.join(outdir, 'manifest.json'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('the docs have deploy, destroy, diff and output commands, and npm commands, to check', () => {
    const verbs = new Set(cdktf.map((c) => c.argv[0]));
    for (const verb of ['deploy', 'destroy', 'diff', 'output', 'synth', 'list']) expect(verbs).toContain(verb);
    expect(npm.length).toBeGreaterThan(40);
    expect(commands.filter((c) => c.where.startsWith('docs/runbooks/destroy.md')).length).toBeGreaterThan(3);
  });

  test.each(cdktf.map((c) => [c.where, c.text, c] as const))('%s: %s', async (_where, _text, c) => {
    expect(await checkCdktf(c.argv, cdktfUsage, app)).toEqual([]);
  });

  test.each(npm.map((c) => [c.where, c.text, c] as const))('%s: %s', async (_where, _text, c) => {
    expect(await checkNpm(c.argv, scripts, npmUsage)).toEqual([]);
  });

  test('the checker fails wrong lines: missing dependency, wrong argument order, unknown stack/flag/command', async () => {
    const bad: Array<[string, RegExp]> = [
      ['cdktf deploy gpu', /dependencies not included in the stacks to run: network/],
      ['cdktf output gpu gpu_control_url', /no stack matches "gpu_control_url"/],
      ['cdktf deploy network --auto-aprove', /unknown option --auto-aprove/],
      ['cdktf gpu deploy', /unknown cdktf command "gpu"/],
      ['cdktf diff network gpu', /takes one stack/],
      ['cdktf deploy', /needs the stack\(s\) to run/],
      ['cdktf destroy network', /dependant stacks not included in the stacks to run: gpu/],
      ['cdktf synth gpu', /takes no arguments/],
      ['npx cdktf deploy netwrok', /no stack matches "netwrok"/],
    ];
    for (const [line, error] of bad) {
      const [c] = commandsIn(`\`${line}\``, 'bad.md');
      expect({ line, errors: (await checkCdktf(c.argv, cdktfUsage, app)).join('; ') }).toEqual({ line, errors: expect.stringMatching(error) });
    }
    const badNpm: Array<[string, RegExp]> = [
      ['npm run zigie -- gpu start', /no npm script "zigie"/],
      ['npm run ziggie -- gpu strat', /unknown command "gpu strat"/],
      ['npm run ziggie -- gpu start --wiat', /unknown option --wiat/],
      ['npm run ziggie gpu start', /must follow "--"/],
      ['npm run review -- --base', /--base needs a value/],
      ['npm run ziggie -- secrets put', /needs/],
      ['npm run cost:table -- --chek', /unknown option --chek/],
    ];
    for (const [line, error] of badNpm) {
      const [c] = commandsIn(`\`${line}\``, 'bad.md');
      expect({ line, errors: (await checkNpm(c.argv, scripts, npmUsage)).join('; ') }).toEqual({ line, errors: expect.stringMatching(error) });
    }
    // And the right forms of the same lines pass.
    for (const line of ['cdktf deploy network gpu', 'cdktf deploy gpu --ignore-missing-stack-dependencies', 'cdktf output gpu', 'cdktf destroy gpu network']) {
      const [c] = commandsIn(`\`${line}\``, 'good.md');
      expect({ line, errors: await checkCdktf(c.argv, cdktfUsage, app) }).toEqual({ line, errors: [] });
    }
  });

  test('extraction: fenced lines without prompts and comments, inline spans, $(…) and && split, env prefixes dropped', () => {
    const md = ['```sh', '$ ZIGGIE_CONFIG=x.yaml npx cdktf diff gpu --skip-provider-lock   # plan', 'cdktf list && npm run review -- --json', '```',
      'run `curl "$(cdktf output gpu)"` now'].join('\n');
    expect(commandsIn(md, 'x.md').map((c) => [c.where, c.tool, c.argv.join(' ')])).toEqual([
      ['x.md:2', 'cdktf', 'diff gpu --skip-provider-lock'],
      ['x.md:3', 'cdktf', 'list'],
      ['x.md:3', 'npm', 'run review -- --json'],
      ['x.md:5', 'cdktf', 'output gpu'],
    ]);
    expect(tokenize(`--reason "n8n upgrade broke" 'a b'`)).toEqual(['--reason', 'n8n upgrade broke', 'a b']);
    expect(commandsIn('`npm run control-center [-- --port N]`', 'y.md')[0].argv).toEqual(['run', 'control-center', '--', '--port', 'N']);
  });
});
