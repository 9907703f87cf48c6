/**
 * The testhost library (testhost/) for the jest tiers, plus the tier's collection-time check. Tests import this;
 * entry scripts import testhost/ itself, never test/.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { cacheReady, testhostUnavailableReason } from '../../testhost';

export * from '../../testhost';

/**
 * For a jest tier, at collection time (describe blocks cannot wait): the unavailable reason, or else build the
 * cache synchronously through the CLI (a no-op when built) and return why that failed, if it did.
 */
export function testhostTierReason(): string | undefined {
  const reason = testhostUnavailableReason();
  if (reason) return reason;
  if (cacheReady()) return undefined;
  const root = path.resolve(__dirname, '../..');
  const r = spawnSync(process.execPath, [path.join(root, 'bin/run.mjs'), path.join(root, 'scripts/testhost.mts'), 'build'], {
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (r.status === 0) return undefined;
  const tail = (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
  return `cache build failed (${r.error?.message ?? `exit ${r.status}`}): ${tail}`;
}
