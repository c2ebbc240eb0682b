#!/usr/bin/env bash
# Configures and builds loom into build/ (CUDA when nvcc is found, the Python
# extension, tests, benchmarks, examples). Extra arguments go to CMake.
#   BUILD_DIR=build-cpu bash scripts/build.sh -DLOOM_CUDA=OFF
# Python is .venv/bin/python (scripts/setup.sh). The extension lands in
# $BUILD_DIR/pkg/loom/; loom from python/ loads the one of build/, or of
# LOOM_BUILD_DIR=$BUILD_DIR (python/loom/_extension.py).
# C++ compiles go through ccache when it is installed (LOOM_CCACHE=0 turns it
# off): the CPU, CUDA and emulator builds share most of their objects, and
# CCACHE_BASEDIR makes the hits independent of the build directory. The cache
# is .ccache/ in the checkout (ignored by git) unless CCACHE_DIR says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
BUILD_DIR="${BUILD_DIR:-build}"
JOBS="${JOBS:-$(nproc)}"
if [ -x /usr/local/cuda/bin/nvcc ] && ! command -v nvcc >/dev/null 2>&1; then export PATH="/usr/local/cuda/bin:$PATH"; fi
LAUNCHER=()
if [ "${LOOM_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null 2>&1; then
  LAUNCHER=("-DCMAKE_CXX_COMPILER_LAUNCHER=env;CCACHE_BASEDIR=$PWD;CCACHE_DIR=${CCACHE_DIR:-$PWD/.ccache};ccache")
else
  LAUNCHER=(-UCMAKE_CXX_COMPILER_LAUNCHER)
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$LOOM_PY" "${LAUNCHER[@]}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
