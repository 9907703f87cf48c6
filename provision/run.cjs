#!/usr/bin/env node
'use strict';
/**
 * Fast launcher for TypeScript playbooks: `node provision/run.cjs playbooks/site.ts [playbook args]`.
 *
 * tsx compiles every imported .ts file at each start (~0.5-1 s); this bundles the playbook once with esbuild
 * (into .cache/provision/, rebuilt when any input file changes: the bundle's input list and mtimes are kept
 * beside it) and then runs the bundle in this same process (~0.1 s). The bundled file is plain CommonJS: the
 * playbook's `require.main === module` check is true, so `main(playbook)` runs as with tsx.
 */
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

function fail(msg) {
  process.stderr.write(`error: ${msg}\n`);
  process.exit(2);
}

const entryArg = process.argv[2];
if (!entryArg || entryArg === '-h' || entryArg === '--help') {
  process.stderr.write('usage: node provision/run.cjs <playbook.ts> [playbook options]\n');
  process.exit(entryArg ? 0 : 2);
}
const entry = path.resolve(entryArg);
if (!fs.existsSync(entry)) fail(`${entryArg}: no such file`);
const root = path.resolve(__dirname, '..');
const cacheDir = process.env.PROVISION_BUNDLE_DIR || path.join(root, '.cache', 'provision');
const id = crypto.createHash('sha1').update(entry).digest('hex').slice(0, 12);
const out = path.join(cacheDir, `${path.basename(entry).replace(/\.[cm]?[tj]s$/, '')}-${id}.cjs`);
const stampFile = out + '.inputs.json';

function fresh() {
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(stampFile, 'utf8'));
  } catch {
    return false;
  }
  if (stamp.node !== process.version) return false;
  for (const [file, mtime] of stamp.inputs) {
    try {
      if (fs.statSync(file).mtimeMs !== mtime) return false;
    } catch {
      return false;
    }
  }
  return fs.existsSync(out);
}

async function build() {
  const esbuild = require('esbuild');
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const r = await esbuild.build({
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: process.env.PROVISION_SOURCEMAPS ? 'inline' : false,
    metafile: true,
    logLevel: 'error',
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    external: ['cpu-features', 'esbuild', 'fsevents'],
    absWorkingDir: root,
    plugins: [
      {
        // native addons stay outside the bundle, required by absolute path (ssh2's crypto binding)
        name: 'native-addons',
        setup(b) {
          b.onResolve({ filter: /\.node$/ }, (a) => ({ path: path.resolve(a.resolveDir, a.path), external: true }));
        },
      },
    ],
  });
  const inputs = Object.keys(r.metafile.inputs).map((f) => {
    const abs = path.resolve(root, f);
    return [abs, fs.statSync(abs).mtimeMs];
  });
  fs.writeFileSync(`${stampFile}.tmp-${process.pid}`, JSON.stringify({ node: process.version, inputs }));
  fs.renameSync(tmp, out);
  fs.renameSync(`${stampFile}.tmp-${process.pid}`, stampFile);
  fs.rmSync(out + '.v8cache', { force: true });
  fs.rmSync(out + '.v8cache.full', { force: true });
}

if (fresh()) start();
else
  build().then(start, (e) => {
    const first = e && e.errors && e.errors[0];
    fail(`bundling ${entryArg} failed: ${first ? `${first.location ? `${first.location.file}:${first.location.line}: ` : ''}${first.text}` : e && e.message ? e.message : e}`);
  });

function start() {
process.argv.splice(1, 2, out);

// Run the bundle as the main module (so `require.main === module` holds inside it), compiled with a V8 code
// cache kept beside it: compiling ~1 MB of JavaScript is a good part of a no-op run's startup otherwise.
const Module = require('node:module');
const vm = require('node:vm');
const cacheFile = out + '.v8cache';
const source = fs.readFileSync(out, 'utf8');
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), { filename: out, cachedData });
const mod = new Module(out, null);
mod.filename = out;
mod.paths = Module._nodeModulePaths(path.dirname(out));
process.mainModule = mod;
require.cache[out] = mod;
const req = Module.createRequire(out);
req.main = mod;
// The cache is (re)written at exit, so it holds every function this run compiled: once by a run that only
// printed help, again by the first run that connected somewhere (globalThis.__provisionConnected).
const fullFile = cacheFile + '.full';
const wasFull = !!cachedData && !script.cachedDataRejected && fs.existsSync(fullFile);
process.once('exit', () => {
  const full = !!globalThis.__provisionConnected;
  if (cachedData && !script.cachedDataRejected && (wasFull || !full)) return;
  try {
    const tmp = `${cacheFile}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, cacheFile);
    if (full) fs.writeFileSync(fullFile, '');
    else fs.rmSync(fullFile, { force: true });
  } catch {
    /* a cache is an optimisation only */
  }
});
const fn = script.runInThisContext({ displayErrors: true });
fn.call(mod.exports, mod.exports, req, mod, out, path.dirname(out));
mod.loaded = true;
}
