// Starts an entry point from its compiled JavaScript (or its bundle): `node bin/run.mjs scripts/start.mts [args]` (package.json
// scripts call it). The build is checked first (one stat per source, a few ms) and redone when any source is newer,
// so editing TypeScript never runs stale code; then the compiled module is imported with process.argv as if it had
// been started directly.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { BUNDLED, bundleOf, fresh, outputOf, readStamp, ROOT } from './build.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node bin/run.mjs <entry.ts|entry.mts> [args]\n');
  process.exit(2);
}
const rel = path.relative(ROOT, path.resolve(entry)).split(path.sep).join('/');
if (rel.startsWith('..') || !/\.m?ts$/.test(rel) || !existsSync(path.join(ROOT, rel))) {
  process.stderr.write(`run: ${entry}: not a TypeScript source of this repository\n`);
  process.exit(2);
}

const stamp = readStamp();
if (!fresh(stamp) || !stamp.inputs.some(([f]) => f === rel)) {
  if (process.env.ZIGGIE_BUILDING) {
    process.stderr.write(`run: ${rel}: started by a build, which is not finished (a build never starts another)\n`);
    process.exit(1);
  }
  const { build } = await import('./build.mjs');
  try {
    const r = await build();
    if (process.env.ZIGGIE_BUILD_VERBOSE) process.stderr.write(`built ${r.files} files into .build/ in ${r.ms} ms\n`);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}

// a playbook entry point runs from its bundle (bin/build.mjs BUNDLED), anything else from its own compiled file
const out = BUNDLED.includes(rel) && existsSync(bundleOf(rel)) ? bundleOf(rel) : outputOf(rel);
process.argv = [process.argv[0], out, ...args];
await import(pathToFileURL(out).href);
