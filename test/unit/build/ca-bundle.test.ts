/**
 * bin/start.sh starts a snapshot without NODE_EXTRA_CA_CERTS unless the command line has an option that makes TLS
 * connections (bin/snapshot.mjs SNAPSHOTS): node parses that bundle at every start. Seen from outside: node warns
 * at start when the bundle it was given does not load, so a bundle that does not exist shows whether it was kept.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../../..');

/** Did node try to load the CA bundle for this command line (started as package.json scripts start it)? */
function loadedCaBundle(entry: string, args: string[]): boolean {
  const r = spawnSync('sh', ['bin/start.sh', entry, ...args, '--version'], {
    cwd: REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_EXTRA_CA_CERTS: '/nonexistent/ca-bundle.crt' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`start.sh ${entry} exited ${r.status}: ${r.stderr}`);
  return r.stderr.includes('Ignoring extra certs from `/nonexistent/ca-bundle.crt`');
}

beforeAll(() => {
  // a stale or missing snapshot is rebuilt by this first start, so the cases below start from one
  for (const entry of ['bench/empty.mts', 'scripts/provision-vps.mts']) loadedCaBundle(entry, []);
});

test('a run over SSH only starts without the CA bundle', () => {
  expect(loadedCaBundle('bench/empty.mts', [])).toBe(false);
  expect(loadedCaBundle('scripts/provision-vps.mts', ['--check', '--diff'])).toBe(false);
});

test('a run with an option that calls AWS or Hostinger keeps it', () => {
  expect(loadedCaBundle('scripts/provision-vps.mts', ['--snapshot-first'])).toBe(true);
  expect(loadedCaBundle('scripts/provision-vps.mts', ['--migrate-env-files'])).toBe(true);
});
