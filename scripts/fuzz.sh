#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) into
# build-fuzz/ and runs each for the given number of seconds (default 60) on
# its seed corpus and saved crash inputs:
#   bash scripts/fuzz.sh                    # every target, 60 s each
#   bash scripts/fuzz.sh 300 fuzz_idx       # one target, 5 minutes
# New inputs go to build-fuzz/corpus/<target>/, crash inputs to
# build-fuzz/artifacts/<target>/ (copy a fixed one to
# tests/fuzz/regressions/<target>/ so that the tests replay it). Exits non-zero
# when a target finds a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_safetensors fuzz_tokenizer fuzz_idx)
BUILD_DIR="${BUILD_DIR:-build-fuzz}"
JOBS="${JOBS:-$(nproc)}"
. scripts/venv.sh
MAX_LEN="${MAX_LEN:-4096}"

echo "== fuzz: build ${TARGETS[*]} in $BUILD_DIR (clang) =="
# The compiler is set on the first configure only: changing it later would
# make CMake wipe the cache (remove $BUILD_DIR to switch compilers).
compiler=()
[ -f "$BUILD_DIR/CMakeCache.txt" ] || compiler=(-DCMAKE_CXX_COMPILER="${CXX:-clang++}" -DCMAKE_C_COMPILER="${CC:-clang}")
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${compiler[@]}" \
  -DLOOM_BUILD_FUZZERS=ON -DLOOM_CUDA=OFF -DLOOM_BUILD_PYTHON=OFF -DLOOM_BUILD_BENCHMARKS=OFF \
  -DLOOM_BUILD_EXAMPLES=OFF -DPython_EXECUTABLE="$LOOM_PY" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in "${TARGETS[@]}"; do
  echo "== fuzz: $t for ${SECONDS_EACH} s =="
  work="$BUILD_DIR/corpus/$t"
  mkdir -p "$work" "$BUILD_DIR/artifacts/$t"
  seeds=("tests/fuzz/corpus/$t")
  [ -d "tests/fuzz/regressions/$t" ] && seeds+=("tests/fuzz/regressions/$t")
  # -malloc_limit_mb: one allocation above it is a finding (sizes read from
  # input must be checked before they are allocated).
  "$BUILD_DIR/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -max_len="$MAX_LEN" -timeout=20 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$BUILD_DIR/artifacts/$t/" "$work" "${seeds[@]}" || { status=1; echo "fuzz: $t FAILED"; }
done
# A crashed target leaves its scratch folder (tests/fuzz/fuzz_entry.h) behind.
for d in /dev/shm/loom_fuzz_* "${TMPDIR:-/tmp}"/loom_fuzz_*; do
  [ -d "$d" ] && ! kill -0 "${d##*_}" 2>/dev/null && rm -rf "$d"
done
if [ "$status" = 0 ]; then echo "fuzz: no findings"; else echo "fuzz: findings under $BUILD_DIR/artifacts/"; fi
exit "$status"
