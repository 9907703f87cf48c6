#!/bin/bash
# Host packages the testhost harness (test/harness) needs, on Debian bookworm as root.
# Idempotent and quick: apt-get runs only when something is missing.
set -euo pipefail
PKGS=(debootstrap systemd-container openssh-client socat busybox-static zstd util-linux)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "testhost prereqs: all present"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "testhost prereqs: missing ${missing[*]} and not root" >&2; exit 1; fi
echo "testhost prereqs: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -o DPkg::Lock::Timeout=300)
# An install may fail on stale lists: update once, then retry.
"${APT[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || { "${APT[@]}" update >/dev/null && "${APT[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null; }
echo "testhost prereqs: done"
