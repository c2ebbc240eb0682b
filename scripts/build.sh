#!/usr/bin/env bash
# Configures and builds loom into build/ (CUDA when nvcc is found, the Python
# extension, tests, benchmarks, examples). Extra arguments go to CMake.
#   BUILD_DIR=build-cpu bash scripts/build.sh -DLOOM_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-$(nproc)}"
if [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null 2>&1; then export PATH="/usr/local/cuda/bin:$PATH"; fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$(command -v python3)" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
