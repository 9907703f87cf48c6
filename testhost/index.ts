/**
 * Real Debian test hosts (systemd + sshd + Docker + Compose v2) under systemd-nspawn, for the `testhost` tier,
 * benchmarks and playbook tests (test/harness/testhost.ts adds the jest tier's check). See docs/testhost.md.
 *
 *   const host = await bootHost();              // ~1 s from the cache; ssh on 127.0.0.1:host.port as root
 *   await host.exec('docker compose version');
 *   await host.stop();
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { RECIPE, cachePaths } from './cache';
import type { TestHost } from './host';

export { ensureCache, cachePaths, cacheReady, pruneCache, RECIPE, type CachePaths, type CacheOptions } from './cache';
export {
  bootHost, freePort, stopAll, stopOwnHosts, stopHost, listHosts, getHost, fingerprint,
  type BootOptions, type ExecOptions, type TestHost, type HostStatus,
} from './host';
export { cacheRoot, stateRoot, debianMirror } from './paths';
export { cgroupLeftovers, hostCpuMs } from './cgroup';

const TOOLS = ['systemd-nspawn', 'debootstrap', 'socat', 'ssh', 'ssh-keygen', 'nsenter', 'unshare', 'flock', 'cp'];

function onPath(tool: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => {
    try {
      accessSync(path.join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why test hosts cannot run on this machine, or undefined when they can (the cache may still need building). */
export function testhostUnavailableReason(): string | undefined {
  if (process.env.ZIGGIE_TESTHOST_SKIP) return `ZIGGIE_TESTHOST_SKIP=${process.env.ZIGGIE_TESTHOST_SKIP}`;
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (systemd-nspawn, overlay mounts, cgroups)';
  const missing = TOOLS.filter((t) => !onPath(t));
  if (missing.length) return `missing ${missing.join(', ')} (run .ci/testhost-prereqs.sh)`;
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return 'the kernel has no overlayfs';
  if (!existsSync('/sys/fs/cgroup/cgroup.procs') && !existsSync('/sys/fs/cgroup/systemd')) {
    return 'no cgroup hierarchy for systemd at /sys/fs/cgroup';
  }
  // guests share the machine's cgroup v1 hierarchies with a dockerd on the machine itself
  if (processRunning('dockerd')) return 'a dockerd runs on this machine (stop it: guests run their own)';
  return undefined;
}

/** A process of that name in this PID namespace (guests' own dockerds live in theirs and don't count). */
function processRunning(name: string): boolean {
  const myNs = readlinkSync('/proc/self/ns/pid');
  return readdirSync('/proc').some((d) => {
    if (!/^\d+$/.test(d)) return false;
    try {
      return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name && readlinkSync(`/proc/${d}/ns/pid`) === myNs;
    } catch {
      return false;
    }
  });
}

/**
 * Make sure `local/busybox:latest` is in the host's docker. Every Docker host has it from boot (it is in the
 * cached /var/lib/docker template); this re-imports it after a test removed it. Returns milliseconds spent.
 */
export async function importBusybox(host: TestHost): Promise<number> {
  const t0 = Date.now();
  const image = RECIPE.busyboxImage;
  if ((await host.exec(`docker image inspect ${image} >/dev/null 2>&1`)).code === 0) return Date.now() - t0;
  const r = await host.exec(`docker import -c 'CMD ["/bin/sh"]' - ${image} >/dev/null`, {
    input: readFileSync(cachePaths().busyboxTar),
  });
  if (r.code !== 0) throw new Error(`docker import on ${host.name} failed: ${r.stderr}`);
  return Date.now() - t0;
}
export { inventoryYaml, writeKnownHosts, type InventoryEndpoint, type InventoryOptions } from './inventory';
export { startFakeAws, type FakeAws, type FakeAwsCall } from './fake-aws';
export { vpsTestbed, importNodeRuntime, newToken, tokenStore, GUEST_AWS_PORT, NODE_TEST_IMAGE, TEST_AGENT, type VpsTestbed } from './vps-testbed';
