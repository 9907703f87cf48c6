#!/bin/sh
# Starts an entry point the fast way: `sh bin/start.sh scripts/provision-vps.mts [args]` (package.json scripts).
# An entry point with a V8 startup snapshot (bin/snapshot.mjs, made at `npm ci`) starts from it: the process begins
# with its modules loaded and initialized. The snapshot must be newer than the node binary (a snapshot only loads
# in the node that made it); otherwise, or with ZIGGIE_NO_SNAPSHOT=1, bin/run.mjs starts the compiled JavaScript.
# The snapshot checks that no source changed since it was made, and hands over to bin/run.mjs if one did.
root=$(cd "${0%/*}/.." && pwd)
entry=${1#"$root"/}
shift
blob="$root/.build/snapshot/${entry%.mts}.blob"
node=$(command -v node)
if [ -z "$ZIGGIE_NO_SNAPSHOT" ] && [ -f "$blob" ] && [ "$blob" -nt "$node" ]; then
  # node parses NODE_EXTRA_CA_CERTS's bundle at every start; a run without the options that make TLS connections
  # (the manifest's tlsOptions, bin/snapshot.mjs SNAPSHOTS) starts without it
  manifest="${blob%.blob}.json"
  if [ -n "$NODE_EXTRA_CA_CERTS" ] && tls=$(grep -o '"tlsOptions":\[[^]]*\]' "$manifest" 2>/dev/null); then
    needed=
    for a in "$@"; do
      case "$tls" in *"\"${a%%=*}\""*) needed=1 ;; esac
    done
    [ -n "$needed" ] || unset NODE_EXTRA_CA_CERTS
  fi
  exec "$node" --snapshot-blob "$blob" -- "$@"
fi
exec "$node" "$root/bin/run.mjs" "$entry" "$@"
