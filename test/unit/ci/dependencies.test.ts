/**
 * Every dependency package.json declares is used: imported by some module (as dependency-cruiser resolves the
 * imports of the whole tree, .ts/.mts/.js/.mjs/.cjs, type-only included), run as a command (its bin named in
 * package.json scripts, cdktf.json, .ci/run, the workflows, or by path from a module or a test), named by a tool's config (jest's
 * transform), or the @types package of something used.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

jest.setTimeout(5 * 60_000);
const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../../..');

interface Cruise { modules: Array<{ source: string; dependencies: Array<{ module: string; dependencyTypes: string[] }> }> }

interface Usage {
  /** Package names imported by the code. */
  imported: Set<string>;
  /** Texts that run commands or configure tools: scripts, cdktf.json, .ci/run, workflows, jest config, tests. */
  commandTexts: string[];
  /** bin names per declared package. */
  bins: Record<string, string[]>;
}

const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The declared dependencies nothing uses. */
function unusedDependencies(declared: string[], usage: Usage): string[] {
  const mentioned = (word: string) => usage.commandTexts.some((t) => new RegExp(`(^|[\\s/'"\`(])${escape(word)}(?=$|[\\s'"\`)])`, 'm').test(t));
  const used = new Set(declared.filter((dep) => usage.imported.has(dep) || mentioned(dep) || (usage.bins[dep] ?? []).some(mentioned)));
  const typesUsed = (dep: string) => {
    const target = dep.slice('@types/'.length).replace(/^(.+)__(.+)$/, '@$1/$2');
    return target === 'node' || used.has(target) || usage.imported.has(target);
  };
  return declared.filter((dep) => !used.has(dep) && !(dep.startsWith('@types/') && typesUsed(dep)));
}

function filesUnder(dir: string, match: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && match.test(e.name))
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

/** The repository's own source directories (not node_modules, the build output or synthesized stacks). */
function sourceDirs(): string[] {
  const skip = new Set(['node_modules', 'cdktf.out', 'coverage', 'reports']);
  return readdirSync(REPO, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !skip.has(e.name)).map((e) => path.join(REPO, e.name));
}

describe('declared dependencies', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string>;
  };
  const declared = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)];
  let usage: Usage;

  beforeAll(async () => {
    const { stdout } = await run(path.join(REPO, 'node_modules/.bin/depcruise'),
      ['--config', path.join(__dirname, 'depcruise-packages.cjs'), '--output-type', 'json', '.'], { cwd: REPO, maxBuffer: 256 * 1024 * 1024 });
    const cruise = JSON.parse(stdout) as Cruise;
    const imported = new Set(cruise.modules.flatMap((m) => m.dependencies)
      .filter((d) => d.dependencyTypes.some((t) => t.startsWith('npm'))).map((d) => packageOf(d.module)));
    const bins = Object.fromEntries(declared.map((dep) => {
      const bin = (JSON.parse(readFileSync(path.join(REPO, 'node_modules', dep, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> }).bin;
      return [dep, typeof bin === 'string' ? [dep.split('/').pop()!] : Object.keys(bin ?? {})];
    }));
    const commandTexts = [
      Object.values(pkg.scripts).join('\n'),
      ...['cdktf.json', 'jest.config.js', '.ci/run'].filter((f) => existsSync(path.join(REPO, f))).map((f) => readFileSync(path.join(REPO, f), 'utf8')),
      ...filesUnder(path.join(REPO, '.github/workflows'), /\.ya?ml$/).map((f) => readFileSync(f, 'utf8')),
      // A module or test that runs a package's command (node_modules/.bin/<bin>) uses it (review/checkout.ts runs
      // tsx for a base commit older than the build launcher).
      ...sourceDirs().flatMap((d) => filesUnder(d, /\.(ts|mts)$/)).map((f) => readFileSync(f, 'utf8'))
        .map((t) => [...t.matchAll(/node_modules\/\.bin\/([\w.-]+)/g)].map((m) => m[1]).join('\n')),
    ];
    usage = { imported, commandTexts, bins };
  });

  test('every dependency and devDependency is imported, run or configured', () => {
    expect(unusedDependencies(declared, usage)).toEqual([]);
  });

  test('the check finds an unused one: a declared package nothing imports, runs or names', () => {
    expect(unusedDependencies(['yaml', 'jest', '@types/node', 'left-pad', '@types/left-pad'], { ...usage, bins: { ...usage.bins, 'left-pad': [] } }))
      .toEqual(['left-pad', '@types/left-pad']);
    // and it really reads the imports: without them, runtime libraries are reported.
    expect(unusedDependencies(['yaml', 'zod', 'tsx'], { ...usage, imported: new Set() })).toEqual(['yaml', 'zod']);
  });
});
