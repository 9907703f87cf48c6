// Has an input changed since it was stamped? bin/build.mjs (the build, its bundles), bin/snapshot.mjs (a snapshot,
// while building) and bin/snapshot-launch.cjs (a snapshot, when it starts) all ask it. CommonJS: the launcher is
// bundled into every startup snapshot, which starts from a script.
'use strict';
const { createHash } = require('node:crypto');
const { readFileSync, statSync } = require('node:fs');
const path = require('node:path');

const LOCKFILE = 'package-lock.json';

/** The lockfile's content hash (sha1, hex); throws when it cannot be read. */
exports.lockHash = function lockHash(root) {
  return createHash('sha1').update(readFileSync(path.join(root, LOCKFILE))).digest('hex');
};

const sameLock = (root, hash) => {
  try {
    return exports.lockHash(root) === hash;
  } catch {
    return false;
  }
};

/** A file's current mtime, undefined when it cannot be stat'ed. */
const currentMtime = (root) => (rel) => {
  try {
    return statSync(path.join(root, rel)).mtimeMs;
  } catch {
    return undefined;
  }
};

/**
 * '' when every input ([path relative to root, mtimeMs when stamped]) still has that mtime, else why not:
 * '<rel> changed' or '<rel> is gone', for the first that does not. `mtimeOf(rel)` gives the mtime to compare
 * (undefined: gone); by default the file's current one.
 */
exports.changedInput = function changedInput(root, inputs, stampedLockHash, mtimeOf = currentMtime(root)) {
  for (const [rel, mtime] of inputs) {
    const now = mtimeOf(rel);
    if (now === undefined) return `${rel} is gone`;
    if (now === mtime) continue;
    // npm rewrites the lockfile (often unchanged) after `prepare` built: its content decides
    if (rel === LOCKFILE && sameLock(root, stampedLockHash)) continue;
    return `${rel} changed`;
  }
  return '';
};
