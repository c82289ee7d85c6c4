#!/usr/bin/env bash
# Runs every benchmark of a Release build and prints one line each.
# Usage: bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build-bench}
echo "gcstream benchmarks ($(nproc) cores; medians, shared machine: expect noise)"
"$build/bench/bench_emulator_throughput" "${EMULATOR_RUNS:-5}"
"$build/bench/bench_envelope_parse"
"$build/bench/bench_reconnect_latency" "${RECONNECT_DROPS:-50}" "${RECONNECT_STALLS:-5}"
