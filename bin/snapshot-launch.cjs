// The first thing a process started from a startup snapshot runs (bin/snapshot.mjs bundles it into each one).
// It checks that no source of the snapshot changed since the snapshot was made, then calls the entry's
// `run(argv)`; if one changed, it hands the command over to bin/run.mjs (which rebuilds, the snapshot included),
// so editing TypeScript never runs stale code.
'use strict';
const { readFileSync } = require('node:fs');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { changedInput } = require('./inputs.cjs');

/** The blob this process started from (`node --snapshot-blob FILE`), so a moved checkout still finds itself. */
function blobPath() {
  const i = process.execArgv.indexOf('--snapshot-blob');
  return i >= 0 ? path.resolve(process.execArgv[i + 1]) : undefined;
}

/** Why the snapshot may not be used: a source (or the lockfile's content) changed, or the checkout moved. */
function staleReason(root, manifest) {
  if (manifest.root !== root) return `the checkout moved from ${manifest.root}`;
  return changedInput(root, manifest.inputs, manifest.lockHash);
}

/** Run the command through bin/run.mjs instead, passing signals on and ending with its exit code. */
function handOver(root, entry, args) {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'run.mjs'), entry, ...args], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === 'SIGINT' ? 2 : 15)));
}

function exitWhenFlushed(code) {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

/** PROVISION_TRACE=1, as provision/trace.ts prints it (that module is TypeScript, this file is plain CommonJS). */
const trace = (label) => {
  if (!process.env.PROVISION_TRACE) return;
  const cpu = process.cpuUsage();
  process.stderr.write(`[trace +${performance.now().toFixed(1)}ms cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)}ms] ${label}\n`);
};

/**
 * The snapshot's main function: `entry` is the entry point (relative to the checkout), `run` its module's run(argv).
 * process.argv becomes what it would be for `node <entry> args`.
 */
exports.launch = function launch(entry, run) {
  trace('snapshot started');
  const args = process.argv.slice(1);
  const blob = blobPath();
  const root = blob ? path.resolve(path.dirname(blob), ...entry.split('/').slice(1).map(() => '..'), '..', '..') : '';
  let why;
  try {
    why = blob ? staleReason(root, JSON.parse(readFileSync(blob.replace(/\.blob$/, '.json'), 'utf8'))) : 'not started with --snapshot-blob';
  } catch (e) {
    why = `no manifest beside the snapshot (${e.code ?? e.message})`;
  }
  // a build trying the snapshot it just made: the manifest is written after this check
  if (why && process.env.ZIGGIE_BUILDING) why = '';
  if (why) {
    if (process.env.ZIGGIE_BUILD_VERBOSE) process.stderr.write(`snapshot of ${entry} not used: ${why}\n`);
    return handOver(root || process.cwd(), entry, args);
  }
  trace('snapshot fresh');
  process.argv = [process.execPath, path.join(root, entry), ...args];
  run(process.argv).then(exitWhenFlushed, (e) => {
    process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
    exitWhenFlushed(1);
  });
};
