// V8 startup snapshots of the playbook entry points (`node --build-snapshot`, Node's public API for user-land
// snapshots). A playbook run is short (a no-op is one SSH round trip), so loading and initializing its code (ssh2,
// zod schemas, yaml, the engine) would be most of it; a snapshot is the heap right after all of that ran, and
// `node --snapshot-blob FILE` starts from it. bin/build.mjs makes one per SNAPSHOTS entry, bin/start.sh starts it,
// bin/snapshot-launch.cjs checks it is still fresh.
//
// Each SNAPSHOTS entry's module exports `run(argv): Promise<number>` (the command line, no work on import) and may export
// `preload(): Promise<void>`, called while the snapshot is made, to load what `run` would load on first use.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { changedInput } from './inputs.cjs';

/**
 * Entry point -> the module that runs it, and the options with which it makes TLS connections (AWS, Hostinger).
 * Without any of those options bin/start.sh starts the snapshot without NODE_EXTRA_CA_CERTS: node parses that CA
 * bundle at every start (~60 ms here), and a run over SSH has no use for it (the manifest keeps them for start.sh).
 */
export const SNAPSHOTS = {
  'bench/playbook.mts': { module: 'bench/bench-playbook.ts', tlsOptions: [] },
  'bench/empty.mts': { module: 'bench/empty-playbook.ts', tlsOptions: [] },
  'scripts/provision-vps.mts': { module: 'scripts/lib/provision-vps-main.ts', tlsOptions: ['--snapshot-first', '--migrate-env-files'] },
};

const dirOf = (out) => path.join(out, 'snapshot');
export const blobOf = (out, entry) => path.join(dirOf(out), entry.replace(/\.mts$/, '.blob'));
const manifestOf = (out, entry) => blobOf(out, entry).replace(/\.blob$/, '.json');
const bundleFileOf = (out, entry) => blobOf(out, entry).replace(/\.blob$/, '.cjs');
/** The files a snapshot made of `entry` consists of (bin/build.mjs keeps them when it prunes). */
export const snapshotFiles = (out, entry) => [blobOf(out, entry), manifestOf(out, entry), bundleFileOf(out, entry)];

function readManifest(out, entry) {
  try {
    return JSON.parse(readFileSync(manifestOf(out, entry), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * True when the last snapshot of `entry` (or the last failure to make one) was made from the sources as they are
 * now, by this node. `mtimeOf(rel)` gives a source's current mtime (the build's stamp of it).
 */
export function snapshotFresh(root, out, entry, mtimeOf) {
  const m = readManifest(out, entry);
  if (!m || m.root !== root || m.node !== process.version) return false;
  if (!m.failed && !(existsSync(blobOf(out, entry)) && statSync(blobOf(out, entry)).mtimeMs > statSync(process.execPath).mtimeMs)) return false;
  return !changedInput(root, m.inputs, m.lockHash, mtimeOf);
}

/**
 * Packages a snapshot leaves out, loaded from node_modules on first use: big ones only rare paths need (the AWS SDK
 * for --snapshot-first and --migrate-env-files, zx for a question on a terminal). A snapshot's size is paid at every
 * start, and these need node:http at load, which a snapshot cannot hold.
 */
const RUNTIME_PACKAGES = /^(zx|@aws-sdk\/[^/]+|@smithy\/[^/]+)(\/.*)?$/;

function runtimePackagesPlugin(root) {
  return {
    name: 'runtime-packages',
    setup(b) {
      b.onResolve({ filter: RUNTIME_PACKAGES }, (a) => ({ path: a.path, namespace: 'runtime-package' }));
      b.onLoad({ filter: /.*/, namespace: 'runtime-package' }, (a) => ({
        loader: 'js',
        contents: `module.exports = require('node:module').createRequire(${JSON.stringify(path.join(root, 'package.json'))})(${JSON.stringify(a.path)});`,
      }));
    },
  };
}

/**
 * ssh2 as a snapshot can hold it: its client and key parser only (its index also loads the HTTP agents, which need
 * node:http, and the server), and no Poly1305: ssh2 compiles that WebAssembly module when it loads, which a
 * snapshot cannot hold. provision/connection.ts never offers chacha20-poly1305, the one cipher that uses it.
 */
function ssh2ClientPlugin(root) {
  return {
    name: 'ssh2-client',
    setup(b) {
      b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'ssh2-client' }));
      b.onLoad({ filter: /^ssh2$/, namespace: 'ssh2-client' }, () => ({
        loader: 'js',
        resolveDir: root,
        contents: "module.exports = { Client: require('ssh2/lib/client.js'), utils: { parseKey: require('ssh2/lib/protocol/keyParser.js').parseKey } };",
      }));
      b.onResolve({ filter: /\/crypto\/poly1305\.js$/ }, () => ({ path: 'poly1305', namespace: 'ssh2-client' }));
      b.onLoad({ filter: /^poly1305$/, namespace: 'ssh2-client' }, () => ({
        loader: 'js',
        contents: "module.exports = async () => ({ _malloc: () => 0, cwrap: () => () => { throw new Error('chacha20-poly1305 is not offered (provision/connection.ts)'); } });",
      }));
    },
  };
}

/** The generated entry of a snapshot: load the module, preload, and name the function a started process runs. */
function snapshotEntry(entry, module) {
  return [
    "const { startupSnapshot } = require('node:v8');",
    `const m = require(${JSON.stringify(`./${module}`)});`,
    "const { launch } = require('./bin/snapshot-launch.cjs');",
    `startupSnapshot.setDeserializeMainFunction(() => launch(${JSON.stringify(entry)}, m.run));`,
    'if (m.preload) m.preload().catch((e) => { console.error(e); process.exit(1); });',
  ].join('\n');
}

function runNode(args, cwd) {
  return new Promise((resolve) => {
    // ZIGGIE_BUILDING: nothing this starts may build (bin/run.mjs refuses), and a snapshot started to be tried
    // runs as it is instead of handing over to bin/run.mjs (bin/snapshot-launch.cjs)
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZIGGIE_BUILDING: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => resolve({ code: 1, out, err: e.message }));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

/** Make the blob from the bundle, then start it once (`--version`): a blob that cannot start is never installed. */
async function makeBlob(bundle, tmp, root) {
  const made = await runNode(['--snapshot-blob', tmp, '--build-snapshot', bundle], root);
  if (made.code !== 0 || !existsSync(tmp)) return made.err.split('\n').find((l) => /error/i.test(l))?.trim() ?? `exit ${made.code}`;
  const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  const tried = await runNode(['--snapshot-blob', tmp, '--', '--version'], root);
  if (tried.code !== 0 || tried.out.trim() !== version) return `the snapshot does not start: exit ${tried.code}: ${(tried.err || tried.out).trim().split('\n')[0]}`;
  return '';
}

/**
 * Bundle `entry`'s module (CommonJS: a snapshot starts from a script) and make its snapshot. `plugins` are the
 * build's own esbuild plugins; `mtimeOf(rel)` the mtimes the build stamped. A failure leaves no blob (bin/start.sh
 * then starts the compiled JavaScript) and a manifest saying why, so it is not retried until a source changes.
 */
export async function makeSnapshot({ root, out, entry, plugins, mtimeOf, lockHash }) {
  const { build } = await import('esbuild');
  const blob = blobOf(out, entry);
  mkdirSync(path.dirname(blob), { recursive: true });
  const bundle = `${bundleFileOf(out, entry)}.tmp-${process.pid}`;
  const r = await build({
    stdin: { contents: snapshotEntry(entry, SNAPSHOTS[entry].module), resolveDir: root, sourcefile: 'snapshot-entry.cjs', loader: 'js' },
    outfile: bundle,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    metafile: true,
    logLevel: 'silent',
    // a snapshot cannot hold native addons: ssh2 and cpu-features fall back to JavaScript without them
    external: ['cpu-features', 'esbuild'],
    plugins: [runtimePackagesPlugin(root), ssh2ClientPlugin(root), ...plugins],
  });
  const inputs = Object.keys(r.metafile.inputs)
    .map((f) => path.relative(root, path.resolve(root, f)))
    .filter((rel) => !rel.startsWith('..') && !rel.includes('node_modules/') && existsSync(path.join(root, rel)));
  inputs.push('package-lock.json', 'bin/snapshot.mjs');
  const manifest = { root, node: process.version, lockHash, tlsOptions: SNAPSHOTS[entry].tlsOptions, inputs: inputs.map((rel) => [rel, mtimeOf(rel)]) };
  const tmp = `${blob}.tmp-${process.pid}`;
  const failed = await makeBlob(bundle, tmp, root);
  // without a manifest a starting process hands over to bin/run.mjs: never an old blob with a new manifest
  rmSync(manifestOf(out, entry), { force: true });
  if (failed) {
    rmSync(tmp, { force: true });
    rmSync(blob, { force: true });
    Object.assign(manifest, { failed });
  } else renameSync(tmp, blob);
  renameSync(bundle, bundleFileOf(out, entry));
  writeFileSync(`${manifestOf(out, entry)}.tmp-${process.pid}`, JSON.stringify(manifest));
  renameSync(`${manifestOf(out, entry)}.tmp-${process.pid}`, manifestOf(out, entry));
  return manifest;
}
