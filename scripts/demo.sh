#!/usr/bin/env bash
# The main job: installs what is missing, builds loom and trains a classifier
# on Fashion-MNIST (Debian's dataset-fashion-mnist), printing the test accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
device=cpu
if python3 -c "import sys; sys.path.insert(0, 'python'); import loom; sys.exit(0 if loom.cuda.is_available() else 1)" 2>/dev/null; then
  device=cuda
fi
./build/examples/train_fashion_mnist --epochs "${EPOCHS:-3}" --device "$device"
