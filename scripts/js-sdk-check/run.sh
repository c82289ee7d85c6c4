#!/usr/bin/env bash
# Installs the official Genesys JavaScript SDK and `ws` from the npm registry
# into a temporary folder, starts the emulator, and runs check.js against it.
# Usage: scripts/js-sdk-check/run.sh BUILD_DIR   (not part of `make test`: it
# needs the npm registry)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
work=$(mktemp -d)
out="$work/emulator.out"
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --silent purecloud-platform-client-v2 ws >/dev/null)
"$build/gcstream-emulator" --listen 127.0.0.1:0 --client sdk:sdk-secret \
  --event-rate 5 --heartbeat-interval-ms 500 >"$out" &
pid=$!
for _ in $(seq 1 200); do grep -q '^listening on ' "$out" && break; sleep 0.05; done
base=$(sed -n 's/^listening on //p' "$out")
cp "$here/check.js" "$work/"
(cd "$work" && node check.js "$base" sdk sdk-secret)
