#!/usr/bin/env bash
# The main job: installs what is missing, builds loom, then trains on Shapes (loom's procedural dataset of
# images, captions and questions) a dual encoder for caption <-> image retrieval and a VQA model with
# cross-attention fusion, prints the metrics against their thresholds and writes the pictures, the metrics log,
# the checkpoints and the tokenizer to runs/shapes/ (examples/shapes_demo.py; docs/multimodal.md, "The main
# job: Shapes"). It uses the GPU when there is one. Extra arguments go to the demo (e.g. --check, --seed 1,
# --out runs/other). The smaller Fashion-MNIST classifier stays available: build/examples/train_fashion_mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/venv.sh
bash scripts/build.sh
export LOOM_BUILD_DIR=build PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
device=cpu
if "$LOOM_PY" -c "import loom, sys; sys.exit(0 if loom.cuda.is_available() else 1)" 2>/dev/null; then
  device=cuda
fi
"$LOOM_PY" examples/shapes_demo.py --device "$device" "$@"
