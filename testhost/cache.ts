/**
 * The build cache: a Debian bookworm rootfs, a Docker layer on top of it, and the client SSH key.
 *
 *   $CACHE/id_ed25519{,.pub}        client key (authorized in every host)
 *   $CACHE/<key>/rootfs/            debootstrap minbase + RECIPE.rootfsPackages, tweaked for booting under nspawn
 *   $CACHE/<key>/docker/layer/      overlay upper dir over rootfs: docker.io, Compose v2 plugin, busybox-static
 *   $CACHE/<key>/docker/lib/        /var/lib/docker template holding the image local/busybox:latest
 *   $CACHE/<key>/docker/busybox.tar the same image's rootfs tarball (for `docker import`)
 *
 * <key> hashes RECIPE, so changing the recipe builds a new cache beside the old one (`testhost build --prune`
 * removes old ones). Each stage is built in a `*.tmp` dir and renamed when complete, under an flock on
 * $CACHE/.lock, so concurrent callers wait for one build and an interrupted build leaves no half cache.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot, clientKeyPath, debianMirror, lockPath } from './paths';
import { createHostCgroups, findCgroups, inCgroups, killCgroups } from './cgroup';
import { alive, runOk } from './proc';

export const RECIPE = {
  layout: 2,
  suite: 'bookworm',
  // systemd + sshd + what a provisioning library exercises (apt, users, sudo, systemd units, git, python venv, cron)
  rootfsPackages: [
    'openssh-server', 'python3', 'python3-venv', 'sudo', 'git', 'ca-certificates', 'systemd', 'systemd-sysv', 'dbus',
    'apt-utils', 'curl', 'iproute2', 'procps', 'cron', 'less', 'rsync', 'gnupg', 'xz-utils', 'tzdata',
  ],
  dockerPackages: ['docker.io', 'busybox-static'],
  // bookworm only has Compose v1; trixie's docker-compose deb carries the v2 CLI plugin, which works with docker 20.10
  composeSuite: 'trixie',
  composePackage: 'docker-compose',
  busyboxImage: 'local/busybox:latest',
};

export interface CachePaths {
  root: string;
  key: string;
  rootfs: string;
  dockerLayer: string;
  dockerLib: string;
  busyboxTar: string;
  clientKey: string;
  clientPublicKey: string;
}

export interface CacheOptions {
  /** Build the Docker layer too (default true). */
  docker?: boolean;
  log?: (line: string) => void;
}

export function recipeKey(): string {
  return createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 12);
}

export function cachePaths(): CachePaths {
  const root = cacheRoot();
  const key = recipeKey();
  const dir = path.join(root, key);
  return {
    root,
    key,
    rootfs: path.join(dir, 'rootfs'),
    dockerLayer: path.join(dir, 'docker', 'layer'),
    dockerLib: path.join(dir, 'docker', 'lib'),
    busyboxTar: path.join(dir, 'docker', 'busybox.tar'),
    clientKey: clientKeyPath(),
    clientPublicKey: clientKeyPath() + '.pub',
  };
}

/** True when the cache is built (each stage's final path appears only when that stage is complete). */
export function cacheReady(docker = true, p: CachePaths = cachePaths()): boolean {
  return existsSync(p.clientPublicKey) && existsSync(p.rootfs) && (!docker || existsSync(path.dirname(p.dockerLayer)));
}

/** Make sure the cache is built (waiting for a concurrent builder if there is one) and return its paths. */
export async function ensureCache(opts: CacheOptions = {}): Promise<CachePaths> {
  const docker = opts.docker ?? true;
  const log = opts.log ?? (() => undefined);
  const p = cachePaths();
  if (cacheReady(docker, p)) return p;
  mkdirSync(p.root, { recursive: true });
  const release = await lock(lockPath());
  let cgroups: string[] = [];
  try {
    if (cacheReady(docker, p)) return p; // built by the caller we waited for
    await reapStaleBuilds();
    // build processes run in their own cgroup: whatever a killed build left running can be found and ended
    cgroups = createHostCgroups(`build-${process.pid}`);
    const inBuild = (argv: string[]) => inCgroups(cgroups, argv);
    if (!existsSync(p.clientPublicKey)) await buildClientKey(p);
    if (!existsSync(p.rootfs)) await stage(p.rootfs, log, 'rootfs', (tmp) => buildRootfs(tmp, inBuild, log));
    if (docker && !existsSync(path.dirname(p.dockerLayer))) {
      await stage(path.dirname(p.dockerLayer), log, 'docker layer', (tmp) => buildDockerLayer(p.rootfs, tmp, inBuild, log));
    }
    return p;
  } finally {
    if (cgroups.length) await killCgroups(cgroups);
    await release();
  }
}

type InBuild = (argv: string[]) => [string, string[]];

/** End what builders that died without cleaning up left running (e.g. a debootstrap after `kill -9 node`). */
async function reapStaleBuilds(): Promise<void> {
  const stale = findCgroups(/^build-\d+$/).filter((d) => !alive(Number(path.basename(d).slice('build-'.length))));
  if (stale.length) await killCgroups(stale);
}

/** Remove cache generations other than the current recipe's (callers make sure no host runs on them). */
export async function pruneCache(): Promise<string[]> {
  const release = await lock(lockPath());
  try {
    const key = recipeKey();
    const stale = readdirSync(cacheRoot()).filter((d) => /^[0-9a-f]{12}$/.test(d) && d !== key);
    for (const d of stale) rmSync(path.join(cacheRoot(), d), { recursive: true, force: true });
    return stale;
  } finally {
    await release();
  }
}

/**
 * Build into `<final>.tmp-<pid>`, then rename: the final path exists only when complete. Leftovers of interrupted
 * builds are removed first (we hold the lock, and reapStaleBuilds ended their processes).
 */
async function stage(final: string, log: (l: string) => void, what: string, build: (tmp: string) => Promise<void>) {
  const prefix = path.basename(final) + '.tmp-';
  mkdirSync(path.dirname(final), { recursive: true });
  for (const d of readdirSync(path.dirname(final)).filter((n) => n.startsWith(prefix))) {
    rmSync(path.join(path.dirname(final), d), { recursive: true, force: true, maxRetries: 3 });
  }
  const tmp = final + '.tmp-' + process.pid;
  mkdirSync(tmp, { recursive: true });
  const t0 = Date.now();
  log(`testhost: building ${what} (once) ...`);
  try {
    await build(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  renameSync(tmp, final);
  log(`testhost: built ${what} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * Exclusive lock on a file, held by an `flock` child until released. If this process dies, the child's stdin
 * closes, it exits, and the lock is free again.
 */
export function lock(file: string): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['-x', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    child.on('error', reject);
    child.stdout.once('data', () =>
      resolve(async () => {
        child.stdin.end();
        await exited;
      }),
    );
    child.on('exit', (code) => reject(new Error(`flock ${file} exited ${code}`))); // no-op once resolved
  });
}

async function buildClientKey(p: CachePaths): Promise<void> {
  const tmp = p.clientKey + '.tmp';
  rmSync(tmp, { force: true });
  rmSync(tmp + '.pub', { force: true });
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ziggie-testhost-client', '-f', tmp]);
  renameSync(tmp, p.clientKey);
  renameSync(tmp + '.pub', p.clientPublicKey); // last: its presence marks the key pair complete
}

async function buildRootfs(dir: string, inBuild: InBuild, log: (l: string) => void): Promise<void> {
  const mirror = debianMirror();
  log(`testhost: debootstrap ${RECIPE.suite} from ${mirror}`);
  await runOk(...inBuild([
    'debootstrap', '--variant=minbase', `--include=${RECIPE.rootfsPackages.join(',')}`, RECIPE.suite, dir, mirror,
  ]));
  const f = (rel: string) => path.join(dir, rel);
  rmSync(f('var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(f('var/cache/apt/archives/partial'), { recursive: true });
  // every host gets its own host keys, hostname and machine-id (written into its upper dir at boot)
  for (const k of readdirSync(f('etc/ssh')).filter((n) => n.startsWith('ssh_host_'))) unlinkSync(f(`etc/ssh/${k}`));
  writeFileSync(f('etc/hostname'), 'testhost\n'); // debootstrap copied the build machine's
  writeFileSync(f('etc/machine-id'), '');
  writeFileSync(f('etc/hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  // minbase has no locales, and ssh forwards the client's LANG: pin the built-in C.UTF-8 for every session
  writeFileSync(f('etc/default/locale'), 'LANG=C.UTF-8\nLC_ALL=C.UTF-8\n');
  // the mirror may be a dated snapshot whose Release files have expired
  // (and no translations: a guest's `apt-get update` then fetches ~nothing when the lists are current)
  writeFileSync(
    f('etc/apt/apt.conf.d/99ziggie-testhost'),
    'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\nAcquire::Languages "none";\n',
  );
}

/**
 * The Docker layer: an overlay upper dir over the rootfs, filled by apt inside `systemd-nspawn` (not booted,
 * host network, for the mirror). In the same run a throwaway dockerd imports the busybox image into a
 * /var/lib/docker template that every host copies, so `local/busybox:latest` is there at boot for free.
 */
async function buildDockerLayer(rootfs: string, dir: string, inBuild: InBuild, log: (l: string) => void): Promise<void> {
  const layer = path.join(dir, 'layer');
  const lib = path.join(dir, 'lib');
  const work = path.join(dir, 'work');
  const merged = path.join(dir, 'merged');
  const out = path.join(dir, 'out');
  for (const d of [layer, lib, work, merged, out]) mkdirSync(d, { recursive: true });
  writeCgroupRwUnit(layer);
  const mirror = debianMirror();
  log(`testhost: docker layer from ${mirror} (${RECIPE.dockerPackages.join(', ')}, ${RECIPE.composeSuite} compose v2)`);
  const inGuest = `
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends ${RECIPE.dockerPackages.join(' ')} >/dev/null
apt-get clean
# Compose v2 plugin from ${RECIPE.composeSuite}, with a private apt state so the guest's sources stay untouched
A=/tmp/compose-apt; mkdir -p $A/lists/partial $A/cache/archives/partial
echo "deb ${mirror} ${RECIPE.composeSuite} main" > $A/sources.list
O="-o Dir::Etc::SourceList=$A/sources.list -o Dir::Etc::SourceParts=- -o Dir::State::Lists=$A/lists -o Dir::Cache=$A/cache -o APT::Sandbox::User=root"
apt-get -q $O update >/dev/null
(cd $A && apt-get -q $O download ${RECIPE.composePackage} >/dev/null)
mkdir -p /usr/local/lib/docker/cli-plugins
dpkg-deb --fsys-tarfile $A/${RECIPE.composePackage}_*.deb | tar -xO ./usr/libexec/docker/cli-plugins/docker-compose > /usr/local/lib/docker/cli-plugins/docker-compose
chmod 755 /usr/local/lib/docker/cli-plugins/docker-compose
docker compose version
# the busybox image: busybox-static plus its applet links, imported by a throwaway dockerd
B=/tmp/busybox; mkdir -p $B/bin $B/sbin $B/usr/bin $B/usr/sbin $B/etc $B/tmp $B/var/www $B/root $B/proc $B/sys $B/dev
chmod 1777 $B/tmp; cp /bin/busybox $B/bin/busybox; chroot $B /bin/busybox --install -s
printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\\n' > $B/etc/passwd
printf 'root:x:0:\\nnogroup:x:65534:\\n' > $B/etc/group
echo '<h1>hello from busybox httpd</h1>' > $B/var/www/index.html
tar -C $B -cf /mnt/out/busybox.tar .
dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none >/tmp/dockerd.log 2>&1 &
D=$!
i=0; until docker info >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || { cat /tmp/dockerd.log; exit 1; }; sleep 0.1; done
docker import -c 'CMD ["/bin/sh"]' /mnt/out/busybox.tar ${RECIPE.busyboxImage} >/dev/null
kill $D; wait $D || true
`;
  const nspawn = [
    'systemd-nspawn', '--quiet', '--register=no', '--keep-unit', '-D', merged, '-M', `ziggie-build-${process.pid}`,
    `--bind=${lib}:/var/lib/docker`, `--bind=${out}:/mnt/out`, '/bin/sh', '-c', inGuest,
  ];
  const r = await runOk(...inBuild([
    'unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-ec',
    'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4"; shift 4; exec "$@"',
    'sh', rootfs, layer, work, merged, ...nspawn,
  ]));
  log(`testhost: ${r.stdout.trim().split('\n').pop()}`);
  renameSync(path.join(out, 'busybox.tar'), path.join(dir, 'busybox.tar'));
  for (const d of [work, merged, out]) rmSync(d, { recursive: true, force: true });
}

/**
 * nspawn mounts the cgroup v1 controllers read-only; runc must create container cgroups in them. A oneshot unit,
 * ordered before containerd/docker, remounts them writable inside the guest (its mount namespace only; the
 * guest's cgroup namespace keeps it inside its own subtree).
 */
function writeCgroupRwUnit(layer: string): void {
  const unitDir = path.join(layer, 'etc/systemd/system');
  mkdirSync(path.join(unitDir, 'multi-user.target.wants'), { recursive: true });
  writeFileSync(
    path.join(unitDir, 'cgroup-v1-rw.service'),
    `[Unit]
Description=Test host only: make the read-only cgroup v1 controller mounts writable for docker
DefaultDependencies=no
Before=containerd.service docker.service
After=local-fs.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'for c in /sys/fs/cgroup/*/; do [ "$(stat -f -c %%T "$c")" = cgroupfs ] && mount -o remount,bind,rw "$c"; done; true'

[Install]
WantedBy=multi-user.target
`,
  );
  symlinkSync('../cgroup-v1-rw.service', path.join(unitDir, 'multi-user.target.wants/cgroup-v1-rw.service'));
}
