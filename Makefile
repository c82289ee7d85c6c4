# The README's commands. Each installs what is missing, configures CMake with
# Ninja, builds and runs.
#   make demo    `gcstream demo`: 3 tenants against the built-in emulator for
#                20 s with faults; ends with lost=0 duplicated=0
#   make test    every test, then the whole suite again under ASan + UBSan
#   make bench   the benchmarks (Release build), results as a table
#   make chaos   the chaos test for ten minutes (CHAOS_SECONDS), with a table
#                by actor kind; CHAOS_SEED replays a run's choices
#   make tsan    the unit, emulator and integration tests under
#                ThreadSanitizer, against a CAF built with it from Debian's
#                source package (scripts/tsan-caf.sh, once)
#   make fuzz    the libFuzzer targets (clang-14), FUZZ_SECONDS (60) each;
#                fails on a crash (tests/fuzz/run.sh)
#   make package the Debian packages gcstream and gcstream-dev (CPack), in
#                $(BUILD_DIR)/ (README, "Install")

BUILD_DIR   ?= build
ASAN_DIR    ?= build-asan
BENCH_DIR   ?= build-bench
CMAKE       ?= cmake
CTEST_FLAGS ?= --output-on-failure
# Line tables (-g1) instead of full debug information: backtraces and perf
# still name files and lines, and a cold build takes 30% less. The sanitizer
# build uses -O1, as ASan's documentation advises: -O2 with UBSan took 2.5x
# as long to compile (167 s against 68 s for runtime/ws_transport.cpp), and
# UBSan traps rather than calling its runtime (CMakeLists.txt).
MAIN_FLAGS  ?= -O2 -g1 -DNDEBUG
ASAN_FLAGS  ?= -O1 -g1 -DNDEBUG

.PHONY: all deps build test test-main test-asan demo bench chaos fuzz tsan package clean

CHAOS_SECONDS ?= 600
CHAOS_SEED    ?=

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: deps
	$(CMAKE) -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(MAIN_FLAGS)"

build: deps $(BUILD_DIR)/build.ninja
	$(CMAKE) --build $(BUILD_DIR)

test-main: build
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS)

test-asan: deps
	$(CMAKE) -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(ASAN_FLAGS)" -DGCSTREAM_SANITIZE=ON -DGCSTREAM_BUILD_BENCH=OFF \
	  -DGCSTREAM_BUILD_EXAMPLES=OFF
	$(CMAKE) --build $(ASAN_DIR)
	cd $(ASAN_DIR) && ctest $(CTEST_FLAGS)

test: test-main test-asan

# Only what the demo needs (the library and the program), not the tests.
demo: deps $(BUILD_DIR)/build.ninja
	$(CMAKE) --build $(BUILD_DIR) --target gcstream-program
	$(BUILD_DIR)/gcstream demo --duration-s 20 --faults

# Only what the packages hold (the programs and the libraries), then CPack
# (which builds nothing itself).
package: deps $(BUILD_DIR)/build.ninja
	$(CMAKE) --build $(BUILD_DIR) --target gcstream-program gcstream-emulator \
	  gcstream gcstream_emulator
	cd $(BUILD_DIR) && cpack -G DEB
	@ls -1 $(BUILD_DIR)/*.deb

bench: deps
	$(CMAKE) -S . -B $(BENCH_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DGCSTREAM_BUILD_BENCH=ON -DGCSTREAM_BUILD_EXAMPLES=OFF
	$(CMAKE) --build $(BENCH_DIR)
	@bash bench/run.sh $(BENCH_DIR)

chaos: build
	$(BUILD_DIR)/tests/gcstream_chaos --duration-s $(CHAOS_SECONDS) --phase-s 20 \
	  $(if $(CHAOS_SEED),--seed $(CHAOS_SEED))

TSAN_DIR     ?= build-tsan
TSAN_CAF     ?= build-tsan-caf

tsan: deps
	bash scripts/tsan-caf.sh $(TSAN_CAF)
	$(CMAKE) -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(ASAN_FLAGS)" -DGCSTREAM_TSAN=ON \
	  "-DCMAKE_PREFIX_PATH=$(CURDIR)/$(TSAN_CAF)/prefix" \
	  -DGCSTREAM_BUILD_BENCH=OFF -DGCSTREAM_BUILD_EXAMPLES=OFF
	$(CMAKE) --build $(TSAN_DIR) --target gcstream_unit_tests gcstream_emulator_tests \
	  gcstream_integration_tests
	cd $(TSAN_DIR) && ctest $(CTEST_FLAGS) -R '^(unit|emulator|integration)$$'

FUZZ_DIR     ?= build-fuzz
FUZZ_SECONDS ?= 60

fuzz: build
	@bash scripts/install-deps.sh fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_DIR) $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(BENCH_DIR) $(FUZZ_DIR) $(TSAN_DIR)
