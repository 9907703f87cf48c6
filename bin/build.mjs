// Compiles the TypeScript sources once into .build/ (gitignored) so that entry points start on plain JavaScript:
// `npm ci` runs this (package.json `prepare`), and bin/run.mjs runs it again whenever a source (or the lockfile)
// is newer than the build. One file in, one file out: each command loads only the modules it imports, and lazy
// `import()`s stay lazy. `.ts` is CommonJS (package.json "type"), `.mts` is an ES module (top-level await).
// The playbook entry points (BUNDLED) are also bundled with their dependencies into .build/bundle/: a playbook run
// loads everything it has, and one file starts several times faster than a hundred (ssh2, yaml, the engine).
//
//   node bin/build.mjs            build if stale, print what it did
//   node bin/build.mjs --force    rebuild everything
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { changedInput, lockHash } from './inputs.cjs';
import { makeSnapshot, SNAPSHOTS, snapshotFiles, snapshotFresh } from './snapshot.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = path.join(ROOT, '.build');
export const STAMP = path.join(OUT, 'stamp.json');

/** Entry points bundled with their dependencies (bin/run.mjs prefers the bundle): the provisioning fast path. */
export const BUNDLED = ['bench/playbook.mts', 'bench/empty.mts', 'scripts/provision-vps.mts', 'scripts/comfyui-ami.mts', 'test/testhost/provision/canary-playbook.mts'];
export const bundleOf = (rel) => path.join(OUT, 'bundle', rel.replace(/\.mts$/, '.mjs'));

/** Directories that are never sources. Tests are not built (jest compiles them itself). */
const SKIP_DIRS = new Set(['node_modules', '.build', '.git', '.cache', '.scratch', 'cdktf.out', 'coverage', 'reports', 'docs', '.terraform']);
const isSource = (f) => /\.m?ts$/.test(f) && !f.endsWith('.d.ts') && !/\.test\.m?ts$/.test(f);
/** Data files imported by sources (`import prices from './prices.eu-north-1.json'`) are copied beside the output. */
const isData = (rel) => rel.includes('/') && rel.endsWith('.json') && !rel.startsWith('test/fixtures/');

/** This script and its helpers: a change to one rebuilds everything. */
const BUILD_SCRIPTS = ['bin/build.mjs', 'bin/inputs.cjs', 'bin/snapshot.mjs', 'bin/snapshot-launch.cjs'];

/** Every source and data file, relative to ROOT, plus this script (a change here rebuilds too). */
export function inputs() {
  const found = [...BUILD_SCRIPTS, 'package-lock.json'];
  const walk = (dir) => {
    for (const d of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${d.name}` : d.name;
      if (d.isDirectory()) {
        if (!SKIP_DIRS.has(d.name) && !d.name.startsWith('.')) walk(rel);
      } else if (isSource(d.name) || isData(rel)) found.push(rel);
    }
  };
  walk('');
  return found.sort();
}

/** The output file of a source: `.ts` -> `.js`, `.mts` -> `.mjs`. */
export const outputOf = (rel) => path.join(OUT, rel.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs'));

/** True when .build/ holds an output for every input of the last build and no input changed since. Cheap: stats. */
export const fresh = (stamp = readStamp()) => !!stamp && stamp.root === ROOT && !changedInput(ROOT, stamp.inputs, stamp.lockHash);

export function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeAtomic(file, data) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

async function compile(rel, transform) {
  const src = path.join(ROOT, rel);
  const code = readFileSync(src, 'utf8');
  if (rel.endsWith('.json') || rel.endsWith('.mjs')) return writeAtomic(outputOf(rel), code);
  const esm = rel.endsWith('.mts');
  const r = await transform(code, {
    loader: 'ts',
    format: esm ? 'esm' : 'cjs',
    target: 'node20',
    platform: 'node', // adds the export-names annotation Node reads to import CommonJS from ES modules
    sourcefile: src,
    // __dirname/__filename keep naming the source tree, so data files beside the sources are found from .build/
    define: esm ? undefined : { __dirname: JSON.stringify(path.dirname(src)), __filename: JSON.stringify(src) },
    logLevel: 'silent',
  });
  writeAtomic(outputOf(rel), r.code);
}

/**
 * For esbuild: native addons stay outside (required by absolute path); a source's __dirname/__filename keep
 * naming the source tree (data files beside the sources are found from any output).
 */
const sourcePathsPlugin = {
  name: 'ziggie',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (a) => ({ path: path.resolve(a.resolveDir, a.path), external: true }));
    b.onLoad({ filter: /\.m?ts$/ }, (a) => {
      if (a.path.includes('/node_modules/')) return undefined;
      const code = readFileSync(a.path, 'utf8')
        .replace(/\b__dirname\b/g, JSON.stringify(path.dirname(a.path)))
        .replace(/\b__filename\b/g, JSON.stringify(a.path));
      return { contents: code, loader: 'ts' };
    });
  },
};

/** The BUNDLED entry points, with splitting (shared code and lazy imports become chunks). */
async function bundle(files) {
  const entries = BUNDLED.filter((rel) => files.includes(rel));
  if (!entries.length) return { outputs: [], inputs: [] };
  const { build } = await import('esbuild');
  const r = await build({
    entryPoints: entries.map((rel) => path.join(ROOT, rel)),
    outdir: path.join(OUT, 'bundle'),
    outbase: ROOT,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: ['cpu-features', 'esbuild'],
    // CommonJS dependencies inside an ES module bundle still call require() for node's own modules
    // (and the module paths of the chunk: ssh2's asm.js crypto reads __dirname)
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; import { fileURLToPath as __fileURLToPath } from 'node:url'; " +
        "const require = __createRequire(import.meta.url), __filename = __fileURLToPath(import.meta.url), __dirname = __filename.replace(/\\/[^/]*$/, '');",
    },
    plugins: [sourcePathsPlugin],
  });
  // chunks first, entry points last: a process starting meanwhile finds every chunk its entry names
  const entryFiles = new Set(entries.map(bundleOf));
  for (const f of [...r.outputFiles].sort((a, b) => Number(entryFiles.has(a.path)) - Number(entryFiles.has(b.path)))) writeAtomic(f.path, f.contents);
  return { outputs: r.outputFiles.map((f) => f.path), inputs: Object.keys(r.metafile.inputs).map((f) => path.relative(ROOT, path.resolve(ROOT, f))) };
}

/**
 * Bundling is the slow part of a build (seconds): it is redone only when one of the bundles' own inputs (or the
 * lockfile, or this script) changed since the last build; otherwise the last bundles are kept.
 */
function bundlesStillFresh(old, files) {
  if (!old?.bundle || old.root !== ROOT) return false;
  const mtimes = new Map(old.inputs);
  // dependencies change with the lockfile
  const own = [...old.bundle.inputs.filter((rel) => !rel.includes('node_modules/')), 'bin/build.mjs', 'package-lock.json'];
  if (changedInput(ROOT, own.map((rel) => [rel, mtimes.get(rel)]), old.lockHash)) return false;
  return BUNDLED.filter((rel) => files.includes(rel)).every((rel) => old.bundle.outputs.includes(bundleOf(rel)) && existsSync(bundleOf(rel)));
}

/**
 * The startup snapshots (bin/snapshot.mjs) of the entry points that have one, each remade only when one of its
 * own inputs changed (or the node binary, or the lockfile). Returns the entry points that have one.
 */
async function makeSnapshots(files, stamped, force) {
  const entries = Object.keys(SNAPSHOTS).filter((e) => files.includes(e));
  const mtimes = new Map(stamped);
  const mtimeOf = (rel) => mtimes.get(rel) ?? statSync(path.join(ROOT, rel), { throwIfNoEntry: false })?.mtimeMs;
  const lock = lockHash(ROOT);
  const stale = entries.filter((entry) => force || !snapshotFresh(ROOT, OUT, entry, mtimeOf));
  await Promise.all(stale.map((entry) => makeSnapshot({ root: ROOT, out: OUT, entry, plugins: [sourcePathsPlugin], mtimeOf, lockHash: lock })));
  return entries;
}

/** Bundle chunks an older build made stay a day: a process started before this build may still import them. */
const DAY_MS = 24 * 3600 * 1000;

/** Compile every input; outputs of sources that are gone are removed; the stamp is written last. */
export async function build({ force = false } = {}) {
  const started = Date.now();
  const files = inputs().filter((f) => !BUILD_SCRIPTS.includes(f) && f !== 'package-lock.json');
  const stamped = files.map((rel) => [rel, statSync(path.join(ROOT, rel)).mtimeMs]);
  const { transform } = await import('esbuild'); // only when building: starting an entry point never loads it
  try {
    await Promise.all(files.map((rel) => compile(rel, transform)));
  } catch (e) {
    const first = e?.errors?.[0];
    const where = first?.location ? `${path.relative(ROOT, first.location.file)}:${first.location.line}: ` : '';
    throw new Error(`build failed: ${where}${first?.text ?? e?.message ?? e}`);
  }
  const old = readStamp();
  const bundles = !force && bundlesStillFresh(old, files) ? old.bundle : await bundle(files);
  const snapshots = await makeSnapshots(files, stamped, force);
  const wanted = new Set([...files.map(outputOf), ...bundles.outputs, ...snapshots.flatMap((e) => snapshotFiles(OUT, e))]);
  const bundleDir = path.join(OUT, 'bundle');
  const snapshotDir = path.join(OUT, 'snapshot') + path.sep; // a snapshot is read whole when a process starts
  const prune = (dir) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, d.name);
      if (d.isDirectory()) prune(f);
      else if ((/\.(m?js|json)$/.test(d.name) || f.startsWith(snapshotDir)) && f !== STAMP && !wanted.has(f)) {
        if (dir === bundleDir && Date.now() - statSync(f).mtimeMs < DAY_MS) continue; // a chunk (entries are in subdirectories)
        if (d.name.includes('.tmp-') && Date.now() - statSync(f).mtimeMs < 600_000) continue; // a build running beside this one
        rmSync(f, { force: true });
      }
    }
  };
  prune(OUT);
  writeFileSync(path.join(OUT, '.gitignore'), '*\n');
  for (const f of [...BUILD_SCRIPTS, 'package-lock.json']) stamped.push([f, statSync(path.join(ROOT, f)).mtimeMs]);
  writeAtomic(STAMP, JSON.stringify({ root: ROOT, inputs: stamped, lockHash: lockHash(ROOT), bundle: bundles }));
  return { files: files.length, ms: Date.now() - started };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  if (!force && fresh() && readStamp().inputs.length === inputs().length) {
    console.log('.build/ is up to date');
  } else {
    build({ force }).then((r) => console.log(`built ${r.files} files into .build/ in ${r.ms} ms`), (e) => {
      console.error(e.message);
      process.exit(1);
    });
  }
}
