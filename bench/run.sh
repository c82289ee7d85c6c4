#!/usr/bin/env bash
# Runs every benchmark of a Release build and prints one line (or two) each.
# Usage: bench/run.sh BUILD_DIR
# Sizes can be changed from the environment: EMULATOR_RUNS, RECONNECT_DROPS,
# RECONNECT_STALLS, PIPELINE_EVENTS, PIPELINE_RUNS, E2E_EVENTS (10000000 for
# the long memory run), E2E_TOPICS, E2E_RATE, TENANTS.
set -euo pipefail
build=${1:-build-bench}
echo "gcstream benchmarks ($(nproc) cores; medians, shared machine: expect noise)"
"$build/bench/bench_emulator_throughput" "${EMULATOR_RUNS:-5}"
"$build/bench/bench_envelope_parse"
"$build/bench/bench_pipeline" "${PIPELINE_EVENTS:-200000}" "${PIPELINE_RUNS:-7}"
"$build/bench/bench_end_to_end" "${E2E_EVENTS:-2000000}" "${E2E_TOPICS:-20}" "${E2E_RATE:-5000}"
"$build/bench/bench_reconnect_latency" "${RECONNECT_DROPS:-50}" "${RECONNECT_STALLS:-5}"
"$build/bench/bench_tenants" "${TENANTS:-1000}"
