/**
 * The testhost tier's smoke test: real Debian hosts under systemd-nspawn, reached over ssh like a VPS.
 * Skips loudly (SKIPPED: testhost: …) when the machine cannot run them or the cache cannot be built.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describeTier } from '../support/tier';
import {
  bootHost, cgroupLeftovers, importBusybox, stopOwnHosts, testhostTierReason, type TestHost,
} from '../harness/testhost';

const t0 = Date.now();
const reason = testhostTierReason(); // builds the cache (once) if needed
const prepMs = Date.now() - t0;

describeTier('testhost', reason, () => {
  jest.setTimeout(120_000);
  let a: TestHost;
  let b: TestHost;

  beforeAll(async () => {
    process.stderr.write(`testhost: cache ready in ${(prepMs / 1000).toFixed(1)} s\n`);
    // two at once, on distinct ports
    [a, b] = await Promise.all([bootHost(), bootHost()]);
    process.stderr.write(`testhost: booted ${a.name} in ${a.bootMs} ms, ${b.name} in ${b.bootMs} ms (in parallel)\n`);
  });
  afterAll(() => stopOwnHosts());

  test('ssh logs in as root with the pinned host key', async () => {
    const r = await a.exec('id -un; hostname');
    expect(r).toMatchObject({ code: 0, stdout: `root\n${a.name}\n` });
    expect(a.knownHostsLine).toBe(`[127.0.0.1]:${a.port} ${a.hostKey}`);
    expect(a.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const guestKey = await a.exec('cat /etc/ssh/ssh_host_ed25519_key.pub');
    expect(guestKey.stdout.startsWith(a.hostKey)).toBe(true);
  });

  test('systemd finishes booting: running, no failed units', async () => {
    const t = Date.now();
    expect(await a.waitForSystem()).toBe('running');
    process.stderr.write(`testhost: is-system-running --wait took ${Date.now() - t} ms after ssh-ready\n`);
    expect((await a.exec('systemctl --failed --no-legend')).stdout.trim()).toBe('');
  });

  test('docker compose is v2', async () => {
    const r = await a.exec('docker compose version --short');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^v?2\./);
  });

  test('a container from the local busybox image runs', async () => {
    expect(await a.waitForSystem()).toBe('running'); // docker.service is up
    const t = Date.now();
    const r = await a.exec('docker run --rm local/busybox:latest echo hi');
    expect(r).toMatchObject({ code: 0, stdout: 'hi\n' });
    process.stderr.write(`testhost: docker run --rm local/busybox:latest took ${Date.now() - t} ms\n`);
  });

  test('importBusybox restores the image after a test removed it', async () => {
    expect((await a.exec('docker rmi local/busybox:latest')).code).toBe(0);
    const ms = await importBusybox(a);
    process.stderr.write(`testhost: importBusybox took ${ms} ms\n`);
    expect((await a.exec('docker run --rm local/busybox:latest true')).code).toBe(0);
  });

  test('apt-get installs a package through the mirror relay', async () => {
    const t = Date.now();
    const r = await b.exec('apt-get install -y -q jq >/dev/null && jq --version', { timeoutMs: 90_000 });
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/^jq-1\./) });
    process.stderr.write(`testhost: apt-get install jq took ${Date.now() - t} ms\n`);
  });

  test('the two hosts are separate machines', async () => {
    expect(a.port).not.toBe(b.port);
    expect(a.hostKey).not.toBe(b.hostKey);
    const [ra, rb] = await Promise.all([a.exec('cat /etc/machine-id; hostname'), b.exec('cat /etc/machine-id; hostname')]);
    expect(ra.stdout).not.toBe(rb.stdout);
    expect(rb.stdout.trim().split('\n')[1]).toBe(b.name);
    // b's docker stays usable while a's runs containers: cgroups are per host
    expect((await b.exec('docker run --rm local/busybox:latest true')).code).toBe(0);
  });

  test('stop leaves nothing behind', async () => {
    const pids = JSON.parse(readFileSync(`${b.stateDir}/host.json`, 'utf8')) as { nspawn: { pid: number } };
    const t = Date.now();
    await b.stop();
    process.stderr.write(`testhost: stopped ${b.name} in ${Date.now() - t} ms\n`);
    expect(existsSync(b.stateDir)).toBe(false);
    expect(cgroupLeftovers(b.name)).toEqual([]);
    const state = existsSync(`/proc/${pids.nspawn.pid}/stat`) ? readFileSync(`/proc/${pids.nspawn.pid}/stat`, 'utf8') : '';
    expect(state === '' || / [ZX] /.test(state)).toBe(true);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(b.stateDir);
    expect(readdirSync('/proc').some((d) => /^\d+$/.test(d) && cmdline(d).includes(b.stateDir))).toBe(false);
    // the other host is untouched
    expect((await a.exec('true')).code).toBe(0);
  });
});

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
