#!/usr/bin/env bash
# Builds loom (CPU only) with AddressSanitizer + UndefinedBehaviorSanitizer
# into build-asan/ and runs the Catch2 suites (ctest -L cpu) and the Python
# tests under them. Exits non-zero when a test fails or any sanitizer reports.
#
#   bash scripts/sanitize.sh              # build, ctest, pytest
#   bash scripts/sanitize.sh --quick      # build, ctest only (= SANITIZE_PYTEST=0)
#   SANITIZE_CTEST=0 bash scripts/sanitize.sh                 # pytest only
#   CTEST_ARGS="-R tokenizer" PYTEST_ARGS="-k tokenizer" bash scripts/sanitize.sh
#   PYTEST_PATHS=tests/python/test_tensor.py SANITIZE_CTEST=0 bash scripts/sanitize.sh
#
# gcc: its ASan runtime is a shared library, which the unsanitized Python of
# .venv/ can preload (LD_PRELOAD) before importing the sanitized extension;
# CPython leaks by design, so pytest runs with detect_leaks=0 (ctest keeps leak
# checking). The extension is written to build-asan/pkg/loom, as every build's
# is to its own pkg/loom. tests/python/test_examples.py is left out: it starts
# fresh interpreters that import loom from python/, i.e. the extension of
# build/ (or LOOM_BUILD_DIR), not the sanitized one (so do
# the subprocesses of test_bad_input.py; the API fuzzer's workers import a copy
# of the sanitized package). Subprocesses run with handle_segv=0.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build-asan}"
JOBS="${JOBS:-$(nproc)}"
. scripts/venv.sh
SANITIZE_CTEST="${SANITIZE_CTEST:-1}"
SANITIZE_PYTEST="${SANITIZE_PYTEST:-1}"
for arg in "$@"; do
  case "$arg" in
    --quick) SANITIZE_PYTEST=0 ;;
    *) echo "sanitize.sh: unknown argument $arg (see the header of this script)" >&2; exit 2 ;;
  esac
done
# CXX=clang++ selects clang (linked with -shared-libasan, see CMakeLists.txt).
CXX_BIN="${CXX:-g++}"
case "$CXX_BIN" in
  *clang*) CC_BIN="${CC:-${CXX_BIN/clang++/clang}}"; ASAN_RT_NAME=libclang_rt.asan-x86_64.so ;;
  *) CC_BIN="${CC:-${CXX_BIN/g++/gcc}}"; ASAN_RT_NAME=libasan.so ;;
esac

echo "== sanitize: configure and build $BUILD_DIR ($CXX_BIN, -fsanitize=address,undefined) =="
t0=$SECONDS
# -O1 -g1: ASan's recommended optimization, and line tables for file:line stacks.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCMAKE_C_COMPILER="$CC_BIN" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DLOOM_SANITIZE=address,undefined -DLOOM_CUDA=OFF -DLOOM_BUILD_BENCHMARKS=OFF -DLOOM_BUILD_EXAMPLES=OFF \
  -DLOOM_BUILD_PYTHON="$([ "$SANITIZE_PYTEST" = 1 ] && echo ON || echo OFF)" \
  -DPython_EXECUTABLE="$LOOM_PY" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
echo "sanitize: build took $((SECONDS - t0)) s"

if command -v llvm-symbolizer >/dev/null 2>&1; then export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"; fi
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# allocator_may_return_null: a huge request fails like malloc does (the
# out-of-memory tests expect loom's error), instead of an ASan report.
ASAN_COMMON="halt_on_error=1:allocator_may_return_null=1:check_initialization_order=1:strict_init_order=1"
status=0

if [ "$SANITIZE_CTEST" = 1 ]; then
  echo "== sanitize: ctest -L cpu =="
  t0=$SECONDS
  # shellcheck disable=SC2086  # CTEST_ARGS is a list of arguments
  ASAN_OPTIONS="$ASAN_COMMON:detect_leaks=1" \
    ctest --test-dir "$BUILD_DIR" -L cpu --output-on-failure -j "$JOBS" ${CTEST_ARGS:-} || status=1
  "$LOOM_PY" scripts/sanitize_pytest.py --ctest-log "$BUILD_DIR/Testing/Temporary/LastTest.log" || status=1
  echo "sanitize: ctest took $((SECONDS - t0)) s"
fi

if [ "$SANITIZE_PYTEST" = 1 ]; then
  echo "== sanitize: pytest =="
  t0=$SECONDS
  # The package's Python sources, linked next to the sanitized _C.
  for f in python/loom/*; do
    case "$(basename "$f")" in _C*.so | libloom*.so* | __pycache__) continue ;; esac
    ln -sfn "$PWD/$f" "$BUILD_DIR/pkg/loom/$(basename "$f")"
  done
  libasan="$("$CXX_BIN" -print-file-name="$ASAN_RT_NAME")"
  [ -f "$libasan" ] || { echo "sanitize.sh: no ASan runtime at $libasan" >&2; exit 1; }
  # Python does not link libstdc++: preloaded with the runtime, ASan finds the
  # real __cxa_throw to intercept (otherwise the first C++ throw aborts).
  libstdcxx="$("$CXX_BIN" -print-file-name=libstdc++.so)"
  # shellcheck disable=SC2086  # PYTEST_ARGS is a list of arguments
  SANITIZE_PRELOAD="$libasan:$libstdcxx" ASAN_OPTIONS="$ASAN_COMMON:detect_leaks=0" \
    "$LOOM_PY" scripts/sanitize_pytest.py --pkg "$BUILD_DIR/pkg" --state "$BUILD_DIR/pytest" -- \
      ${PYTEST_PATHS:-tests/python} -q -p no:cacheprovider --capture=sys --ignore=tests/python/test_examples.py \
      ${PYTEST_ARGS:-} \
    || status=1
  echo "sanitize: pytest took $((SECONDS - t0)) s"
fi

if [ "$status" = 0 ]; then echo "sanitize: no failures, no sanitizer reports"; else echo "sanitize: FAILED (see above)"; fi
exit "$status"
