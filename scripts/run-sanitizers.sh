#!/usr/bin/env bash
# Sanitizer and fuzzing pass (issue 11). Run after the main test suite (.ci/run calls it):
#   1. an ASan + UBSan build (gcc, BONSAI_SANITIZE=ON, no UI) of the engine and storage unit
#      tests (not the CLI ones), run through ctest (UB is fatal: -fno-sanitize-recover);
#   2. a clang build with -DBONSAI_FUZZ=ON of the libFuzzer targets (tests/fuzz/fuzz_*.cpp), each run
#      for FUZZ_SECONDS on its seed corpus (tests/fuzz/corpus/<target>) plus a working corpus kept in
#      the build folder (so repeated runs on one machine keep what earlier runs found).
# Exits non-zero on any test failure, sanitizer report or fuzzer finding. A finding leaves its input in
# build/fuzz/artifacts/<target>/; copy it to tests/fuzz/regressions/<target>/ once fixed, and the normal
# suite (test_fuzz_regressions) replays it from then on.
#
# Environment:
#   FUZZ_SECONDS   seconds per fuzz target (default 60; 0 skips fuzzing)
#   FUZZ_JOBS      fuzz targets run at once (default 2)
#   FUZZ_TARGETS   space-separated subset (default: all six)
#   SAN_TESTS      ctest -R regex of the sanitizer test run (default: the engine and storage tests; the fuzz
#                  corpus and regression files are replayed under ASan/UBSan by the fuzzers themselves)
#   SKIP_SAN_TESTS=1 / SKIP_FUZZ=1   skip a part
#   BUILD_JOBS     parallel compile jobs (default 2)
#   SAN_BUILD_DIR / FUZZ_BUILD_DIR   build folders (default build/asan, build/fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-2}
FUZZ_TARGETS=${FUZZ_TARGETS:-"gguf tokenizer chat_template manifest server_request storage_import"}
SAN_TESTS=${SAN_TESTS:-"gguf|quant|tokenizer|template|model|sampler|session|cpu_matmul|cpu_kernels|row_ops|thread_pool|cpu_topology|storage"}
BUILD_JOBS=${BUILD_JOBS:-2}
SAN_DIR=${SAN_BUILD_DIR:-$ROOT/build/asan}
FUZZ_DIR=${FUZZ_BUILD_DIR:-$ROOT/build/fuzz}
# Let ccache share objects between build folders (it otherwise hashes the folder when -g is on).
export CCACHE_NOHASHDIR=true
status=0
start=$(date +%s)
say() { echo "[run-sanitizers $(( $(date +%s) - start ))s] $*"; }

if [ "${SKIP_SAN_TESTS:-0}" != 1 ]; then
  # -O1 rather than the asan preset's -O0: the model tests are far too slow at -O0 under ASan, and -O1
  # keeps every check. -g1 gives file:line in reports at a fraction of full debug info's build time.
  say "configuring the ASan+UBSan build in $SAN_DIR"
  cmake -S "$ROOT" -B "$SAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
        -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DBONSAI_SANITIZE=ON -DBONSAI_BUILD_UI=OFF -DBONSAI_FUZZ=OFF -DBONSAI_WERROR=OFF >/dev/null
  # Only the executables of the selected tests (CLI tests would build the whole app: left to the main run).
  mapfile -t tests < <(cd "$SAN_DIR" && ctest -N -L unit -R "$SAN_TESTS" -E "_cli$" | sed -n 's/^ *Test *#[0-9]*: *//p')
  if [ ${#tests[@]} -eq 0 ]; then
    echo "run-sanitizers: no tests match '$SAN_TESTS'" >&2
    exit 1
  fi
  say "building ${#tests[@]} tests: ${tests[*]}"
  cmake --build "$SAN_DIR" -j "$BUILD_JOBS" --target "${tests[@]}"
  say "running them"
  regex="^($(IFS='|'; echo "${tests[*]}"))\$"
  if ! (cd "$SAN_DIR" && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest -R "$regex" --output-on-failure -j 2 --timeout 900); then
    echo "run-sanitizers: sanitizer test run FAILED" >&2
    status=1
  fi
fi

if [ "${SKIP_FUZZ:-0}" != 1 ] && [ "$FUZZ_SECONDS" -gt 0 ]; then
  command -v clang++ >/dev/null || { echo "run-sanitizers: clang++ is needed for fuzzing (apt install clang libclang-rt-dev)" >&2; exit 1; }
  say "configuring the fuzz build in $FUZZ_DIR"
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$FUZZ_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBONSAI_FUZZ=ON \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
        -DBONSAI_BUILD_UI=OFF -DBONSAI_WERROR=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  targets=()
  for t in $FUZZ_TARGETS; do targets+=("fuzz_$t"); done
  say "building ${targets[*]}"
  cmake --build "$FUZZ_DIR" -j "$BUILD_JOBS" --target "${targets[@]}"
  mkdir -p "$FUZZ_DIR/logs"
  run_one() {
    local t=$1
    mkdir -p "$FUZZ_DIR/work/$t" "$FUZZ_DIR/artifacts/$t"
    # -timeout: one input running longer is a hang (a finding). Leaks are findings too.
    BONSAI_FIXTURES_DIR=${BONSAI_FIXTURES_DIR:-} "$FUZZ_DIR/tests/fuzz/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -timeout=25 \
      -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/artifacts/$t/" \
      "$FUZZ_DIR/work/$t" "$ROOT/tests/fuzz/corpus/$t" $(ls -d "$ROOT/tests/fuzz/regressions/$t" 2>/dev/null) \
      >"$FUZZ_DIR/logs/$t.log" 2>&1
  }
  pids=(); names=()
  for t in $FUZZ_TARGETS; do
    while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do sleep 1; done
    say "fuzzing $t for ${FUZZ_SECONDS}s"
    run_one "$t" &
    pids+=($!); names+=("$t")
  done
  for i in "${!pids[@]}"; do
    t=${names[$i]}
    if wait "${pids[$i]}"; then
      stats=$(grep -E "^#[0-9]+[[:space:]]+DONE" "$FUZZ_DIR/logs/$t.log" | sed 's/^#\([0-9]*\)[[:space:]]*DONE */\1 runs, /' | tr '\n' ' ')
      say "fuzz_$t: ok ($stats)"
    else
      echo "run-sanitizers: fuzz_$t FOUND A PROBLEM; log tail ($FUZZ_DIR/logs/$t.log):" >&2
      tail -n 40 "$FUZZ_DIR/logs/$t.log" >&2
      ls -l "$FUZZ_DIR/artifacts/$t/" >&2 || true
      status=1
    fi
  done
fi

say "finished with status $status"
exit $status
