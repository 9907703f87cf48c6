/**
 * Host facts (OS, arch, init, package manager, docker, GPUs, CPUs, memory, disk), gathered in one round trip
 * (the slow probes run in parallel inside the remote script). `when` functions read them.
 */
import { defineFact, need, type Need } from '../fact';
import { COMPOSE_VERSION_SH } from './docker';

export interface Gpu {
  name: string;
  memoryMiB: number;
  driver: string;
}

export interface Facts {
  os: { id: string; versionId: string; codename: string; pretty: string; idLike: string[] };
  arch: string;
  kernel: string;
  hostname: string;
  init: string;
  /** apt, dnf, yum, apk, zypper, pacman, or "" */
  pkgMgr: string;
  /** e.g. "20.10.24" or undefined when docker is not installed */
  docker?: string;
  /** Compose v2 plugin version ("2.26.1") or undefined */
  compose?: string;
  gpus: Gpu[];
  cpus: number;
  memTotalBytes: number;
  disk: { rootTotalBytes: number; rootAvailBytes: number };
}

export const FACTS_SCRIPT = `
( . /etc/os-release 2>/dev/null; printf 'os_id=%s\\nos_version_id=%s\\nos_codename=%s\\nos_pretty=%s\\nos_like=%s\\n' "$ID" "$VERSION_ID" "$VERSION_CODENAME" "$PRETTY_NAME" "$ID_LIKE" )
set -- $(uname -n -r -m); printf 'hostname=%s\\nkernel=%s\\narch=%s\\n' "$1" "$2" "$3"
if [ -d /run/systemd/system ]; then echo init=systemd; else read -r c < /proc/1/comm 2>/dev/null; echo "init=$c"; fi
for m in apt-get dnf yum apk zypper pacman; do if command -v $m >/dev/null 2>&1; then echo "pkg_mgr=\${m%-get}"; break; fi; done
echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null)"
while read -r k v _; do [ "$k" = MemTotal: ] && echo "mem_kb=$v" && break; done < /proc/meminfo
df -Pk / 2>/dev/null | { read -r _; read -r _ total _ avail _; echo "disk_total_kb=$total"; echo "disk_avail_kb=$avail"; }
if command -v docker >/dev/null 2>&1; then
  { v=$(docker --version 2>/dev/null); echo "docker=$v"; } &
  { v=$(${COMPOSE_VERSION_SH} 2>/dev/null) && echo "compose=$v"; } &
fi
if command -v nvidia-smi >/dev/null 2>&1; then
  { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits 2>/dev/null | while IFS= read -r l; do echo "gpu=$l"; done; } &
fi
wait
`;

export function parseFacts(text: string): Facts {
  const kv = new Map<string, string>();
  const gpus: Gpu[] = [];
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1).trim();
    if (k === 'gpu') {
      const [name, mem, driver] = v.split(',').map((s) => s.trim());
      gpus.push({ name: name ?? '', memoryMiB: Number(mem) || 0, driver: driver ?? '' });
    } else kv.set(k, v);
  }
  const num = (k: string): number => Number(kv.get(k) ?? 0) || 0;
  const dockerRaw = kv.get('docker');
  const docker = dockerRaw ? /(\d+\.\d+\.\d+[^\s,]*)/.exec(dockerRaw)?.[1] ?? dockerRaw : undefined;
  const compose = kv.get('compose')?.replace(/^v/, '') || undefined;
  return {
    os: {
      id: kv.get('os_id') ?? '',
      versionId: kv.get('os_version_id') ?? '',
      codename: kv.get('os_codename') ?? '',
      pretty: kv.get('os_pretty') ?? '',
      idLike: (kv.get('os_like') ?? '').split(/\s+/).filter(Boolean),
    },
    arch: kv.get('arch') ?? '',
    kernel: kv.get('kernel') ?? '',
    hostname: kv.get('hostname') ?? '',
    init: kv.get('init') ?? '',
    pkgMgr: kv.get('pkg_mgr') ?? '',
    docker,
    compose,
    gpus,
    cpus: num('cpus'),
    memTotalBytes: num('mem_kb') * 1024,
    disk: { rootTotalBytes: num('disk_total_kb') * 1024, rootAvailBytes: num('disk_avail_kb') * 1024 },
  };
}

export const hostFactsFact = defineFact<'host', Facts>({
  name: 'host',
  // it starts the docker CLI and the compose plugin: beside the rest when it travels with a task's probe
  concurrent: true,
  command: () => FACTS_SCRIPT,
  parse: ([s]) => parseFacts(s!.text),
});

export const hostFacts = (): Need<Facts> => need(hostFactsFact, 'host');
