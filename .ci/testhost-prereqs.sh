#!/bin/bash
# Machine packages the testhost harness (testhost/) needs, on Debian bookworm, as root:
# debootstrap builds the cached rootfs, systemd-nspawn boots hosts, socat forwards ssh and the guests' apt,
# nsenter/unshare/flock come with util-linux, ssh/ssh-keygen with openssh-client.
# Idempotent and quick: apt-get runs only when something is missing.
set -euo pipefail
PKGS=(debootstrap debian-archive-keyring systemd-container openssh-client socat util-linux)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "testhost prereqs: all present"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "testhost prereqs: missing ${missing[*]} and not root" >&2; exit 1; fi
echo "testhost prereqs: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -o DPkg::Lock::Timeout=300)
# try without an update first (fast when the lists are current), else update once and retry
"${APT[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || { "${APT[@]}" update >/dev/null && "${APT[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null; }
echo "testhost prereqs: done"
