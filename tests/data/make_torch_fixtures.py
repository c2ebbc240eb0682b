"""Generates the PyTorch-made fixtures of tests/python/test_serialization.py.

Run once with a Python that has torch and safetensors, e.g. Debian's:

    python3 -m pip download --no-deps -d /tmp/st safetensors
    (cd /tmp/st && mkdir -p unz && python3 -m zipfile -e safetensors-*.whl unz)
    PYTHONPATH=/tmp/st/unz /usr/bin/python3 tests/data/make_torch_fixtures.py

Writes torch_linear.safetensors (the state dict of a torch.nn.Linear(4, 3),
written by safetensors.torch.save_file) and torch_linear_io.json (an input
and torch's output for it), next to this script.
"""
import json
import os

import torch
from safetensors.torch import save_file

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
layer = torch.nn.Linear(4, 3)
x = torch.randn(2, 4)
with torch.no_grad():
    y = layer(x)

save_file(layer.state_dict(), os.path.join(here, "torch_linear.safetensors"), metadata={"format": "pt"})
with open(os.path.join(here, "torch_linear_io.json"), "w") as f:
    json.dump(
        {
            "torch_version": torch.__version__,
            "module": "torch.nn.Linear(4, 3)",
            "input": x.tolist(),
            "output": y.tolist(),
        },
        f,
        indent=1,
    )
    f.write("\n")
