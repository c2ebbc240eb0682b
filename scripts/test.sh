#!/usr/bin/env bash
# Runs every test: installs what is missing, builds loom with CUDA (when nvcc
# is found), without it, and on the CUDA emulator, then runs the Catch2 suites
# of the three builds and the Python tests. Tests needing a GPU skip with a
# reason when none is present; the emulator build runs them (and the
# emulator's own tests) with the CUDA kernels executing on the host. pytest
# runs in .venv/ against the extension of build/ (LOOM_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/venv.sh
T0=$SECONDS
phase() { echo "== [$((SECONDS - T0)) s] $* =="; }

phase "build: default (CUDA when available)"
bash scripts/build.sh
phase "build: CPU only"
BUILD_DIR=build-cpu bash scripts/build.sh -DLOOM_CUDA=OFF -DLOOM_BUILD_PYTHON=OFF -DLOOM_BUILD_BENCHMARKS=OFF -DLOOM_BUILD_EXAMPLES=OFF
phase "build: CUDA emulator"
# loom_bench is built for its --launch-report test; the emulator's sm_90
# kernel resource table is read from the CUDA build's cubins when there is one.
EMU_RESOURCES=()
if [ -f build/libloom.so ]; then EMU_RESOURCES=(-DLOOM_EMU_RESOURCES_FROM="$PWD/build/libloom.so"); fi
BUILD_DIR=build-emu bash scripts/build.sh -DLOOM_CUDA=EMU -DLOOM_BUILD_PYTHON=OFF -DLOOM_BUILD_EXAMPLES=OFF \
  ${EMU_RESOURCES[@]+"${EMU_RESOURCES[@]}"}

phase "Catch2: default build"
ctest --test-dir build --output-on-failure -j "$(nproc)"
phase "Catch2: CPU-only build"
ctest --test-dir build-cpu --output-on-failure -j "$(nproc)"
phase "Catch2: CUDA tests on the emulator"
ctest --test-dir build-emu --output-on-failure -j "$(nproc)" -L "cuda|emu"
phase "pytest (the extension of build/)"
LOOM_BUILD_DIR=build "$LOOM_PY" -m pytest tests/python -q
phase "all tests passed"
