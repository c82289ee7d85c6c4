#!/usr/bin/env bash
# make demo: starts the emulator on a free loopback port and streams events
# from it with the probe client for a few seconds, then compares what arrived
# with the emulator's accounting. Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
seconds=${DEMO_SECONDS:-5}
emu="$build/gcstream-emulator"
probe="$build/tests/gcstream-probe"
out=$(mktemp)
"$emu" --listen 127.0.0.1:0 --client demo:demo-secret --event-rate 4 \
  --heartbeat-interval-ms 1000 >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 200); do
  grep -q '^listening on ' "$out" && break
  kill -0 $pid 2>/dev/null || { echo "demo: the emulator did not start" >&2; exit 1; }
  sleep 0.05
done
base=$(sed -n 's/^listening on //p' "$out")
[ -n "$base" ] || { echo "demo: the emulator did not become ready" >&2; exit 1; }
echo "demo: emulator ready at $base"
"$probe" --base "$base" --client demo:demo-secret --seconds "$seconds" \
  --topic v2.users.6d2c5a1e-0000-0000-0000-000000000001.presence \
  --topic v2.users.6d2c5a1e-0000-0000-0000-000000000001.routingStatus \
  --topic v2.detail.events.conversation.7f3e9b20-0000-0000-0000-000000000002.customer.start
