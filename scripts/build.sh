#!/usr/bin/env bash
# Configures and builds loom into build/ (CUDA when nvcc is found, the Python
# extension, tests, benchmarks, examples). Extra arguments go to CMake.
#   BUILD_DIR=build-cpu bash scripts/build.sh -DLOOM_CUDA=OFF
# Python is .venv/bin/python (scripts/setup.sh). The extension lands in
# $BUILD_DIR/pkg/loom/; loom from python/ loads the one of build/, or of
# LOOM_BUILD_DIR=$BUILD_DIR (python/loom/_extension.py).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-$(nproc)}"
if [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null 2>&1; then export PATH="/usr/local/cuda/bin:$PATH"; fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$LOOM_PY" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
