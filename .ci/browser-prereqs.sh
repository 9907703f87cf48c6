#!/bin/bash
# The browser the cloud page's test drives (test/unit/web/): Debian's chromium at /usr/bin/chromium, driven by
# playwright-core (no browser download). Idempotent: apt-get runs only when it is missing.
set -euo pipefail
if dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed'; then echo "browser prereqs: chromium present"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "browser prereqs: chromium missing and not root (the browser test will say SKIPPED)" >&2; exit 0; fi
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -o DPkg::Lock::Timeout=300)
"${APT[@]}" install -y --no-install-recommends chromium >/dev/null 2>&1 \
  || { "${APT[@]}" update >/dev/null && "${APT[@]}" install -y --no-install-recommends chromium >/dev/null; }
echo "browser prereqs: chromium installed"
