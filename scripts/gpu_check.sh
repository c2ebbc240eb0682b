#!/usr/bin/env bash
# One call on a GPU machine: build with CUDA, run the [cuda] suites, run them
# once under compute-sanitizer (memcheck; racecheck for the shared-memory
# kernels), the Python regression tests, the benchmark beside PyTorch's
# reference and compare.py, then Nsight Compute on loom's convolution,
# pooling and per-channel reduction kernels. Every log lands in one tarball,
# $OUT/gpu-check.tgz (only a few files come back from the machine); a summary
# is printed. The benchmark spec must have been copied into bench-local/ (an
# ignored folder) before the call. Python is .venv/bin/python (made when
# missing; it sees the machine's own packages, PyTorch included), importing the
# extension of build-gpu/.
#   bash scripts/gpu_check.sh [ARCH]       # ARCH defaults to 90
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh || { echo "gpu_check: no .venv/ (scripts/setup.sh --venv failed)"; exit 1; }
export LOOM_BUILD_DIR=build-gpu
OUT="${OUT:-$PWD/gpu-out}"
ARCH="${1:-90}"
LOG="$OUT/gpu-check"
mkdir -p "$LOG"
finish() {
  git rev-parse --short HEAD > "$LOG/commit.txt" 2>/dev/null || true
  tar czf "$OUT/gpu-check.tgz" -C "$OUT" gpu-check && rm -rf "$LOG"
}
trap finish EXIT
nvidia-smi > "$LOG/nvidia-smi.txt" 2>&1
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
  -DPython_EXECUTABLE="$LOOM_PY" > "$LOG/configure.log" 2>&1 || { tail -30 "$LOG/configure.log"; exit 1; }
cmake --build build-gpu -j "$(nproc)" > "$LOG/build.log" 2>&1 || { grep -m 20 -B2 -A8 "error" "$LOG/build.log"; exit 1; }
ctest --test-dir build-gpu -L cuda --output-on-failure > "$LOG/ctest-cuda.log" 2>&1; echo "ctest cuda: rc=$?"
tail -3 "$LOG/ctest-cuda.log"
for bin in test_kernels test_autograd test_core; do
  compute-sanitizer --tool memcheck --error-exitcode 9 "build-gpu/tests/$bin" "[cuda]" > "$LOG/memcheck-$bin.log" 2>&1
  echo "memcheck $bin: rc=$? $(grep -c 'ERROR SUMMARY: 0' "$LOG/memcheck-$bin.log") clean summaries"
done
for bin in test_kernels test_autograd; do
  compute-sanitizer --tool racecheck --error-exitcode 9 "build-gpu/tests/$bin" "[cuda]" > "$LOG/racecheck-$bin.log" 2>&1
  echo "racecheck $bin: rc=$?"
done
# The Python regression tests on the GPU machine (a CPU-tensor backward error once crashed only there),
# with faulthandler so that a crash leaves its stacks in the log.
PYTHONPATH=python "$LOOM_PY" -X faulthandler -m pytest -q -p no:cacheprovider tests/python/test_bad_input.py \
  tests/python/test_autograd.py tests/python/test_errors.py tests/python/test_conv.py tests/python/test_rtc.py \
  tests/python/test_profiler.py tests/python/test_profiler_roofline.py \
  > "$LOG/pytest-regressions.log" 2>&1
echo "pytest regressions: rc=$? $(tail -1 "$LOG/pytest-regressions.log")"
# The profiler on the GPU: CUPTI (then CUDA events) on the CLIP training step; the table, the trace and
# the roofline plot come back for docs/profiling.md.
for timing in auto events; do
  LOOM_PROFILER_CUDA=$timing timeout 120 env PYTHONPATH=python "$LOOM_PY" examples/profile_clip.py --device cuda \
    --batch 256 --rows 25 --out-dir "$LOG/profile-$timing" > "$LOG/profile-clip-$timing.txt" 2>&1
  echo "profile_clip ($timing): rc=$? $(grep -m1 'timed by' "$LOG/profile-clip-$timing.txt")"
done
BENCH=build-gpu/benchmarks/loom_bench
if [ -x "$BENCH" ] && [ -d bench-local ]; then
  # The autotuner's choices (and each candidate's time) are saved beside the numbers.
  "$BENCH" --out "$LOG/loom.jsonl" --tune-cache "$LOG/tune-cache.json" > "$LOG/bench.log" 2>&1
  echo "loom_bench: rc=$?"
  "$LOOM_PY" bench-local/torch_reference.py --no-compile --out "$LOG/torch.jsonl" > "$LOG/torch.log" 2>&1
  echo "torch_reference: rc=$?"
  "$LOOM_PY" bench-local/compare.py "$LOG/torch.jsonl" "$LOG/loom.jsonl" > "$LOG/compare.txt" 2>&1
  grep -E "conv|pool|channel_sum|batchnorm|e2e|sort/|activation/" "$LOG/compare.txt" | head -120
fi
# Per-kernel truth for the kernels this round changed: duration, SM and DRAM throughput, occupancy,
# registers and grid of the first loom kernels of each case, with the autotuner's choices loaded from the
# benchmark run (no tuning under the profiler). Each case is bounded to a minute.
if [ -x "$BENCH" ] && command -v ncu > /dev/null && [ -f "$LOG/tune-cache.json" ]; then
  cp "$LOG/tune-cache.json" "$LOG/tune-cache-ncu.json"
  for c in conv2d/fp32/fwdbwd/N64_C64_K64_H56_W56_k3 conv2d/fp32/fwdbwd/N256_C3_K32_H64_W64_k3 \
           conv2d/tf32/fwdbwd/N64_C64_K64_H56_W56_k3 pool/fp32/maxpool2x2_fwdbwd channel_sum/fp32/N256_C32_S4096; do
    f="$LOG/ncu-$(echo "$c" | tr '/' '_').csv"
    timeout 60 ncu --kernel-name-base demangled -k regex:"conv|pool|channel|batch_norm" --launch-count 8 \
      --section SpeedOfLight --section LaunchStats --section Occupancy --csv --page details \
      "$BENCH" --gpu --filter "$c" --iters 1 --tune-cache "$LOG/tune-cache-ncu.json" > "$f" 2>&1
    echo "ncu $c: rc=$? $(grep -c '"Duration"' "$f") kernels"
  done
  # The sort family (scans and bitonic sorts), never profiled before.
  for c in sort/fp32/sort/1024x1024 sort/fp32/cumsum_long/N1048576; do
    f="$LOG/ncu-$(echo "$c" | tr '/' '_').csv"
    timeout 45 ncu --kernel-name-base demangled -k regex:"sort_|scan_" --launch-count 4 \
      --section SpeedOfLight --section LaunchStats --section Occupancy --csv --page details \
      "$BENCH" --gpu --filter "$c" --iters 1 > "$f" 2>&1
    echo "ncu $c: rc=$? $(grep -c '"Duration"' "$f") kernels"
  done
  # The activation family (map_contig_kernel with the activation functors), forward and backward.
  for c in activation/fp32/mish_fwdbwd/1024x1024 activation/fp32/softplus_fwdbwd/1024x1024; do
    f="$LOG/ncu-$(echo "$c" | tr '/' '_').csv"
    timeout 45 ncu --kernel-name-base demangled -k regex:"ForwardF|BackwardF" --launch-count 4 \
      --section SpeedOfLight --section LaunchStats --section Occupancy --csv --page details \
      "$BENCH" --gpu --filter "$c" --iters 1 > "$f" 2>&1
    echo "ncu $c: rc=$? $(grep -c '"Duration"' "$f") kernels"
  done
fi
