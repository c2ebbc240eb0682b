#!/usr/bin/env bash
# The CUDA tests on the CUDA emulator under AddressSanitizer, with the device
# cache off so every tensor is its own exact-size allocation: an out-of-bounds
# access by any kernel thread is reported with its source line (the role of
# compute-sanitizer memcheck on a GPU). Takes ~15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR="${BUILD_DIR:-build-emu-asan}" bash scripts/build.sh -DLOOM_CUDA=EMU -DLOOM_BUILD_PYTHON=OFF \
  -DLOOM_BUILD_BENCHMARKS=OFF -DLOOM_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=address -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address
LOOM_NO_CUDA_MEMORY_CACHING=1 ASAN_OPTIONS=detect_leaks=0 \
  ctest --test-dir "${BUILD_DIR:-build-emu-asan}" --output-on-failure -j "$(nproc)" --timeout 1800 -L "cuda|emu"
