#!/usr/bin/env bash
# One call on a GPU machine: build with CUDA, run the [cuda] suites, run them
# once under compute-sanitizer (memcheck; racecheck for the shared-memory
# kernels), then the benchmark beside PyTorch's reference and compare.py.
# Everything lands in $OUT (or ./gpu-out). The benchmark spec must have been
# copied into bench-local/ (an ignored folder) before the call.
#   bash scripts/gpu_check.sh [ARCH]       # ARCH defaults to 90
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-out}"
ARCH="${1:-90}"
mkdir -p "$OUT"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
  -DPython_EXECUTABLE="$(command -v python3)" > "$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
cmake --build build-gpu -j "$(nproc)" > "$OUT/build.log" 2>&1 || { grep -m 20 -B2 -A8 "error" "$OUT/build.log"; exit 1; }
ctest --test-dir build-gpu -L cuda --output-on-failure > "$OUT/ctest-cuda.log" 2>&1; echo "ctest cuda: rc=$?"
tail -3 "$OUT/ctest-cuda.log"
for bin in test_kernels test_autograd test_core; do
  compute-sanitizer --tool memcheck --error-exitcode 9 "build-gpu/tests/$bin" "[cuda]" > "$OUT/memcheck-$bin.log" 2>&1
  echo "memcheck $bin: rc=$? $(grep -c 'ERROR SUMMARY: 0' "$OUT/memcheck-$bin.log") clean summaries"
done
compute-sanitizer --tool racecheck --error-exitcode 9 build-gpu/tests/test_kernels "[cuda]" > "$OUT/racecheck.log" 2>&1
echo "racecheck: rc=$?"
# The Python regression tests on the GPU machine (a CPU-tensor backward error once crashed only there),
# with faulthandler so that a crash leaves its stacks in the log.
PYTHONPATH=python python3 -X faulthandler -m pytest -q -p no:cacheprovider tests/python/test_bad_input.py \
  tests/python/test_autograd.py tests/python/test_errors.py > "$OUT/pytest-regressions.log" 2>&1
echo "pytest regressions: rc=$? $(tail -1 "$OUT/pytest-regressions.log")"
if [ -x build-gpu/benchmarks/loom_bench ] && [ -d bench-local ]; then
  build-gpu/benchmarks/loom_bench --out "$OUT/loom.jsonl" > "$OUT/bench.log" 2>&1
  python3 bench-local/torch_reference.py --out "$OUT/torch.jsonl" > "$OUT/torch.log" 2>&1
  python3 bench-local/compare.py "$OUT/torch.jsonl" "$OUT/loom.jsonl" | tee "$OUT/compare.txt"
fi
git rev-parse --short HEAD > "$OUT/commit.txt" 2>/dev/null || true
