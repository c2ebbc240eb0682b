#!/usr/bin/env bash
# Runs every test: installs what is missing, builds loom with CUDA (when nvcc
# is found) and without it, then runs the Catch2 suites of both builds (tests
# needing a GPU skip with a reason when none is present) and the Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== build: default (CUDA when available) =="
bash scripts/build.sh
echo "== build: CPU only =="
BUILD_DIR=build-cpu bash scripts/build.sh -DLOOM_CUDA=OFF -DLOOM_BUILD_PYTHON=OFF -DLOOM_BUILD_BENCHMARKS=OFF

echo "== Catch2: default build =="
ctest --test-dir build --output-on-failure -j "$(nproc)"
echo "== Catch2: CPU-only build =="
ctest --test-dir build-cpu --output-on-failure -j "$(nproc)"
echo "== pytest =="
python3 -m pytest tests/python -q
