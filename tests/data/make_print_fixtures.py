"""Generates tests/data/torch_print.json, PyTorch's side of tests/python/test_print.py: repr() of tensors of
many shapes, dtypes and value ranges under several torch.set_printoptions, with "torch." written "loom.".

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_print_fixtures.py

Values are stored exactly (floats as Python floats: float32 values round-trip), so loom prints the same
numbers.
"""
import math

import numpy as np
import torch
from _fixtures import write  # noqa: E402  (tests/data/_fixtures.py)

rng = np.random.default_rng(0)
cases = []


def add(name, array, dtype, options=None, requires_grad=False):
    t = torch.tensor(array, dtype=getattr(torch, dtype))
    if requires_grad:
        t.requires_grad_(True)
    torch.set_printoptions(profile="default")
    if options:
        torch.set_printoptions(**options)
    text = repr(t).replace("torch.", "loom.")
    torch.set_printoptions(profile="default")
    torch.set_printoptions(sci_mode=None)
    data = np.asarray(array).astype(np.float64 if dtype.startswith("float") else np.int64
                                    if dtype.startswith("int") else bool)
    opts = dict(options or {})
    if opts.get("threshold") == math.inf:
        opts["threshold"] = "inf"
    cases.append({"name": name, "shape": list(np.shape(array)), "dtype": dtype,
                  "data": [None if isinstance(x, float) and math.isnan(x) else x for x in data.flatten().tolist()],
                  "nan": [isinstance(x, float) and math.isnan(x) for x in data.flatten().tolist()],
                  "options": opts, "requires_grad": requires_grad, "repr": text})


for dtype in ("float32", "float64"):
    add(f"normal_{dtype}", rng.standard_normal((3, 4)), dtype)
    add(f"vector_{dtype}", rng.standard_normal(7), dtype)
    add(f"long_row_{dtype}", rng.standard_normal(30), dtype)
    add(f"ints_as_floats_{dtype}", [1.0, 2.0, -3.0, 40.0], dtype)
    add(f"int_ratio_sci_{dtype}", [1.0, 2000.0], dtype)
    add(f"tiny_{dtype}", [1e-5, 0.5, 2.0], dtype)
    add(f"huge_{dtype}", [1e9, 1.0], dtype)
    add(f"nonfinite_{dtype}", [float("nan"), float("inf"), -float("inf"), 1.5, 0.0], dtype)
    add(f"nonfinite_int_mode_{dtype}", [-float("inf"), 1.0], dtype)
    add(f"zeros_{dtype}", [0.0, 0.0], dtype)
    add(f"scalar_{dtype}", 3.25, dtype)
    add(f"scalar_nan_{dtype}", float("nan"), dtype)
    add(f"scalar_int_{dtype}", 3.0, dtype)
    add(f"summarized_{dtype}", rng.standard_normal(2000), dtype)
    add(f"summarized_2d_{dtype}", rng.standard_normal((40, 50)), dtype)
    add(f"summarized_3d_{dtype}", rng.standard_normal((12, 10, 11)), dtype)
    add(f"three_d_{dtype}", rng.standard_normal((2, 2, 3)), dtype)
    add(f"four_d_{dtype}", rng.standard_normal((2, 1, 2, 2)), dtype)
    add(f"wide_2d_{dtype}", rng.standard_normal((2, 25)) * 100, dtype)
    add(f"requires_grad_{dtype}", [1.0, 2.5], dtype, requires_grad=True)
add("empty_float", np.zeros((0,)), "float32")
add("empty_2d", np.zeros((0, 3)), "float32")
add("empty_3d_float64", np.zeros((2, 0, 3)), "float64")
add("int64", [1, -20, 300], "int64")
add("int32", [[1, 2], [3, 4]], "int32")
add("int64_big", [2**62, -5], "int64")
add("int64_summarized", np.arange(3000).reshape(30, 100), "int64")
add("int_long_row", np.arange(-40, 40), "int64")
add("bool", [True, False, True], "bool")
add("bool_2d", [[True], [False]], "bool")
add("bool_scalar", True, "bool")

x = rng.standard_normal((4, 6)) * 3
for i, opts in enumerate([dict(precision=2), dict(precision=8), dict(sci_mode=True), dict(sci_mode=False),
                          dict(threshold=5), dict(threshold=5, edgeitems=1), dict(edgeitems=0, threshold=3),
                          dict(linewidth=30), dict(linewidth=200), dict(profile="short"), dict(profile="full"),
                          dict(precision=0), dict(linewidth=10)]):
    add(f"options_{i}", x, "float32", opts)
add("options_full_long", rng.standard_normal(1200), "float32", dict(profile="full", linewidth=120))
add("options_sci_tiny", [1e-5, 0.5], "float64", dict(sci_mode=False))
add("options_fixed_ints", [1.0, 2000.0], "float32", dict(sci_mode=False))
add("options_int_threshold", np.arange(20), "int64", dict(threshold=10, edgeitems=2))
add("options_suffix_wrap", rng.standard_normal((3, 7)), "float64", dict(linewidth=60), requires_grad=True)

write("torch_print.json", {"torch": torch.__version__, "cases": cases})
