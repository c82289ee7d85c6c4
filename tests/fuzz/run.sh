#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets with clang-14 (ASan + UBSan) into
# BUILD (default build-fuzz) and runs each for FUZZ_SECONDS (default 60)
# from its seed corpus in tests/fuzz/corpus/<target>/. A crash, a leak, an
# abort or a run over the memory limit fails; the input is left in
# BUILD/crashes/<target>/ (replay: BUILD/fuzz_<target> FILE), and every one
# found so far is a unit test. The config target links the main build's
# library (MAIN, default build), compiled by gcc.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-fuzz}
MAIN=${2:-build}
EACH=${FUZZ_SECONDS:-60}
CXX=${FUZZ_CXX:-clang++-14}
mkdir -p "$BUILD"
FLAGS=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -fno-sanitize=null -I.
       -DASIO_STANDALONE -DSIMDJSON_THREADS_ENABLED=1 -D_WEBSOCKETPP_CPP11_STL_)

build() { # target, sources..., -- libs...
  local target=$1; shift
  local srcs=() libs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do srcs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  libs=("$@")
  local out="$BUILD/fuzz_$target"
  local newest
  newest=$(ls -t "${srcs[@]}" tests/fuzz/run.sh 2>/dev/null | head -1)
  if [ ! -x "$out" ] || [ "$newest" -nt "$out" ]; then
    echo "fuzz: building $target"
    "$CXX" "${FLAGS[@]}" "${srcs[@]}" -o "$out" "${libs[@]}"
  fi
}

build envelope tests/fuzz/fuzz_envelope.cpp runtime/envelope.cpp \
  runtime/json_check.cpp runtime/iso8601.cpp -- -lsimdjson
build iso8601 tests/fuzz/fuzz_iso8601.cpp runtime/iso8601.cpp
build request_line tests/fuzz/fuzz_request_line.cpp runtime/http_listener.cpp \
  -- -lcaf_core -lpthread
build emulator_control tests/fuzz/fuzz_emulator_control.cpp emulator/model.cpp \
  emulator/fields.cpp emulator/events.cpp emulator/http_util.cpp
if [ -f "$MAIN/libgcstream.a" ]; then
  build config tests/fuzz/fuzz_config.cpp host/config.cpp -- "$MAIN/libgcstream.a" \
    -lcaf_io -lcaf_core -lcurl -lssl -lcrypto -lsqlite3 -lsimdjson -lpthread
fi

failed=0
for bin in "$BUILD"/fuzz_*; do
  target=${bin##*/fuzz_}
  corpus="$BUILD/corpus/$target"
  crashes="$BUILD/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  echo "fuzz: $target for ${EACH} s"
  if ! "$bin" -max_total_time="$EACH" -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$crashes/" \
       "$corpus" "tests/fuzz/corpus/$target" > "$BUILD/$target.log" 2>&1; then
    echo "fuzz: $target FAILED, see $BUILD/$target.log and $crashes/"
    tail -30 "$BUILD/$target.log"
    failed=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$BUILD/$target.log" | tail -2 || true
  fi
done
exit $failed
