#!/usr/bin/env bash
# Runs every benchmark of a Release build and prints one line (or two) each,
# then issue 15's table: end to end at 1,000, 10,000 and 100,000 events/s
# with the file sink (and 10,000/s with the null sink), idle tenants (1,000
# and 10,000), and the highest rate one tenant sustains.
# Usage: bench/run.sh BUILD_DIR
# Sizes can be changed from the environment: EMULATOR_RUNS, RECONNECT_DROPS,
# RECONNECT_STALLS, PIPELINE_EVENTS, PIPELINE_RUNS, E2E_SECONDS, E2E_RUNS, SUSTAIN_RATE, TENANTS
# (the small idle run, 1000), TENANTS_BIG (10000; 0 skips it), IDLE_SECONDS.
set -uo pipefail
build=${1:-build-bench}
# A benchmark that fails (or misses what it checks) is reported and the
# others still run; the script fails at the end.
failed=0
run() { "$@" || { echo "FAILED: $*"; failed=1; }; }
b=$build/bench
echo "gcstream benchmarks ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
     "$(grep -qw hypervisor /proc/cpuinfo && echo 'a virtual machine' || echo 'bare metal');" \
     "medians, shared machine: expect noise)"
run "$b/bench_wakeup"
run "$b/bench_emulator_throughput" "${EMULATOR_RUNS:-5}"
run "$b/bench_envelope_parse"
run "$b/bench_pipeline" "${PIPELINE_EVENTS:-200000}" "${PIPELINE_RUNS:-7}"
run "$b/bench_reconnect_latency" "${RECONNECT_DROPS:-50}" "${RECONNECT_STALLS:-5}"
secs=${E2E_SECONDS:-10}
runs=${E2E_RUNS:-3}
# Each end-to-end load E2E_RUNS times, then the medians of its CPU per event
# and of its p99 latency.
e2e() {
  local out vals n
  out=$(for _ in $(seq "$runs"); do run "$b/bench_end_to_end" "$1" "$2" "$secs"; done)
  echo "$out"
  echo "$out" | grep -q '^FAILED' && failed=1
  vals=$(echo "$out" | awk '/^end_to_end +[0-9]+\/s/ { for (i = 2; i <= NF; ++i) if ($i == "us") print $(i - 1) }' | sort -g)
  p99s=$(echo "$out" | awk '/^end_to_end +[0-9]+\/s/ { for (i = 2; i <= NF; ++i) if ($i == "p99") print $(i + 1) }' | sort -g)
  n=$(echo "$vals" | grep -c .)
  echo "end_to_end median   $1/s $2 sink: $(echo "$vals" | sed -n "$(( (n + 1) / 2 ))p") us client CPU/event," \
       "p99 $(echo "$p99s" | sed -n "$(( (n + 1) / 2 ))p") ms ($n runs)"
}
for rate in 1000 10000 100000; do
  e2e "$rate" file
done
e2e 10000 null
# The most one tenant sustains with the file sink, the client on one core:
# the emulator is asked for SUSTAIN_RATE (asked for more than it can write,
# it closes the socket as a slow consumer, and what is measured is the
# reconnects: bench_emulator_throughput above says how much it can write).
sustained=$(SUSTAIN=1 CLIENT_CPU=0 run "$b/bench_end_to_end" "${SUSTAIN_RATE:-150000}" file 10)
echo "$sustained" | sed -n '1s/^/sustained, client on one core: /p'
echo "$sustained" | grep '^FAILED' && failed=1
run "$b/bench_topics" "${TOPICS:-5000}" 3
run "$b/bench_tenants" "${TENANTS:-1000}" "${IDLE_SECONDS:-30}"
if [ "${TENANTS_BIG:-10000}" != 0 ]; then
  run "$b/bench_tenants" "${TENANTS_BIG:-10000}" "${IDLE_SECONDS:-30}"
fi
exit $failed
