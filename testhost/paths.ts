/** Where the test host harness keeps its cache and per-host state, and which Debian mirror it builds from. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_CACHE = '/var/cache/ziggie-testhost';

/** Cache root: env `ZIGGIE_TESTHOST_CACHE`, default /var/cache/ziggie-testhost. Read at call time. */
export function cacheRoot(): string {
  const dir = path.resolve(process.env.ZIGGIE_TESTHOST_CACHE || DEFAULT_CACHE);
  // The dir ends up in overlayfs mount options and unix socket paths, where ',' and ':' are separators.
  if (/[,:\s]/.test(dir)) throw new Error(`ZIGGIE_TESTHOST_CACHE must not contain ',', ':' or spaces: ${dir}`);
  return dir;
}

/** One directory per running host (overlay upper dir, logs, pid records): env `ZIGGIE_TESTHOST_STATE`. */
export function stateRoot(): string {
  return path.resolve(process.env.ZIGGIE_TESTHOST_STATE || path.join(cacheRoot(), 'hosts'));
}

export const clientKeyPath = (): string => path.join(cacheRoot(), 'id_ed25519');
export const lockPath = (): string => path.join(cacheRoot(), '.lock');

/**
 * The Debian mirror: env `ZIGGIE_TESTHOST_MIRROR`, else the first `URIs:` of the machine's deb822 sources
 * (the one mirror this machine reaches), else the first `deb` line of sources.list.
 */
export function debianMirror(): string {
  if (process.env.ZIGGIE_TESTHOST_MIRROR) return process.env.ZIGGIE_TESTHOST_MIRROR.replace(/\/+$/, '');
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (existsSync(deb822)) {
    const m = /^URIs:\s*(\S+)/m.exec(readFileSync(deb822, 'utf8'));
    if (m) return m[1].replace(/\/+$/, '');
  }
  if (existsSync('/etc/apt/sources.list')) {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s/m.exec(readFileSync('/etc/apt/sources.list', 'utf8'));
    if (m) return m[1].replace(/\/+$/, '');
  }
  return 'http://deb.debian.org/debian';
}
