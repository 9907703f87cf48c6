/**
 * The control center as provision:vps copies it to the VPS: `scripts/control-center.mts` bundled with every
 * dependency into one ES module (esbuild; native addons left out: ssh2 falls back to its JavaScript crypto), the
 * cloud page (web/dist/, built at `npm ci` or by `npm run build:web`) beside it, and a package.json naming the
 * version (`--version`). A Node.js image runs it.
 *
 * Built once per change of its inputs: the files are kept in .build/control-center-app/ with the mtimes of every
 * input esbuild read (the dependencies: the lockfile's content), so a provision run with nothing changed reads them back (a few ms) and copies nothing.
 * The output is byte-for-byte the same for the same sources (paths in it are relative to the repository).
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, '.build', 'control-center-app');
const STAMP = path.join(OUT, 'stamp.json');
const ENTRY = 'scripts/control-center.mts';
const WEB_DIST = 'web/dist';
const PAGES = ['index.html', 'app.js', 'app.css'];

// The two names are spelt in pieces: bin/build.mjs rewrites those identifiers in this file's own source text.
const FILE = ['__file', 'name'].join('');
const DIR = ['__dir', 'name'].join('');
/** CommonJS dependencies call require(); every module's directory is the bundle's (the page is in dist/ beside it). */
const BANNER = "import { createRequire as __createRequire } from 'node:module'; import { fileURLToPath as __fileURLToPath } from 'node:url'; " +
  `const require = __createRequire(import.meta.url), ${FILE} = __fileURLToPath(import.meta.url), ${DIR} = ${FILE}.replace(/\\/[^/]*$/, '');`;

/** Relative name → content, as it goes under /opt/ziggie/control-center/app on the VPS. */
export type ControlCenterApp = Record<string, Buffer>;

/**
 * The repository's inputs with their mtimes; the dependencies (a thousand files under node_modules) stand in as
 * the lockfile, whose content is compared when its mtime moved (`npm ci` rewrites node_modules from it).
 */
interface Stamp { inputs: [string, number][]; lockHash: string; files: string[] }

/** The build's own staleness check (bin/inputs.cjs: plain CommonJS beside the build scripts, loaded by path). */
const staleness = (): { lockHash(root: string): string; changedInput(root: string, inputs: [string, number][], lockHash: string): string } =>
  createRequire(path.join(ROOT, 'package.json'))('./bin/inputs.cjs');

function fresh(stamp: Stamp | undefined): stamp is Stamp {
  return !!stamp?.lockHash && staleness().changedInput(ROOT, stamp.inputs, stamp.lockHash) === '';
}

function exists(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function readStamp(): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

/** The app's files, built when a source changed since the last build. */
export async function controlCenterApp(): Promise<ControlCenterApp> {
  const stamp = readStamp();
  if (fresh(stamp)) {
    try {
      return Object.fromEntries(stamp.files.map((f) => [f, readFileSync(path.join(OUT, 'files', f))]));
    } catch {
      /* a file went missing: build again */
    }
  }
  return build();
}

async function build(): Promise<ControlCenterApp> {
  // from node_modules by path: this also runs inside provision:vps's startup snapshot, whose require() has no packages
  const esbuild = createRequire(path.join(ROOT, 'package.json'))('esbuild') as typeof import('esbuild');
  const missing = PAGES.filter((p) => !exists(path.join(ROOT, WEB_DIST, p)));
  if (missing.length) throw new Error(`the cloud page is not built (${WEB_DIST}/${missing[0]} missing): run npm run build:web`);
  const r = await esbuild.build({
    entryPoints: [path.join(ROOT, ENTRY)],
    absWorkingDir: ROOT,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    metafile: true,
    legalComments: 'none',
    // a third of the size: the VPS hashes it on every run and the container parses it at every start
    minify: true,
    keepNames: true,
    logLevel: 'silent',
    // node_modules may be a symlink (a worktree's): keep its paths inside the repository
    preserveSymlinks: true,
    outfile: path.join(OUT, 'files', 'control-center', 'control-center.mjs'),
    banner: { js: BANNER },
    plugins: [{
      name: 'no-native-addons',
      setup(b) {
        b.onResolve({ filter: /\.node$/ }, (a) => ({ path: a.path, external: true }));
      },
    }],
  });
  const bundle = r.outputFiles.find((f) => f.path.endsWith('.mjs'));
  if (!bundle) throw new Error(`esbuild produced no bundle of ${ENTRY}`);
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const files: ControlCenterApp = {
    // its own name: a second package named like the repository's would collide in jest's module map (.build is under the root)
    'package.json': Buffer.from(`${JSON.stringify({ name: `${pkg.name}-control-center`, version: pkg.version, private: true }, null, 2)}\n`),
    'control-center/control-center.mjs': Buffer.from(bundle.contents),
    ...Object.fromEntries(PAGES.map((p) => [`control-center/dist/${p}`, readFileSync(path.join(ROOT, WEB_DIST, p))])),
  };
  rmSync(OUT, { recursive: true, force: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(OUT, 'files', name)), { recursive: true });
    writeFileSync(path.join(OUT, 'files', name), content);
  }
  // its sources, the built page, and this recipe
  const inputs = [...new Set([...Object.keys(r.metafile.inputs), 'package.json', 'package-lock.json', ...PAGES.map((p) => `${WEB_DIST}/${p}`), 'scripts/lib/control-center-app.ts'])]
    .map((rel) => path.relative(ROOT, path.resolve(ROOT, rel)))
    .filter((rel) => !rel.startsWith('..') && !rel.split(path.sep).includes('node_modules'))
    .map((rel): [string, number] => [rel, statSync(path.join(ROOT, rel)).mtimeMs]);
  writeFileSync(STAMP, JSON.stringify({ inputs, lockHash: staleness().lockHash(ROOT), files: Object.keys(files) } satisfies Stamp));
  return files;
}
