"""repr() of tensors against PyTorch's (tests/data/torch_print.json, from make_print_fixtures.py): formats,
widths, summarization, wrapping at linewidth, suffixes, and every set_printoptions option."""
import json
import math
import os

import numpy as np
import pytest

import loom

_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "torch_print.json")
CASES = json.load(open(_DATA))["cases"]


@pytest.fixture(autouse=True)
def default_options():
    loom.set_printoptions(profile="default")
    yield
    loom.set_printoptions(profile="default")


def _tensor(case):
    data = [math.nan if nan else x for x, nan in zip(case["data"], case["nan"])]
    np_dtype = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64,
                "bool": np.bool_}[case["dtype"]]
    arr = np.array(data, dtype=np_dtype).reshape(case["shape"])
    t = loom.tensor(arr, dtype=getattr(loom, case["dtype"]))
    if case["requires_grad"]:
        t.requires_grad_(True)
    return t


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_repr_matches_pytorch(case):
    t = _tensor(case)
    opts = dict(case["options"])
    if opts.get("threshold") == "inf":
        opts["threshold"] = math.inf
    if opts:
        loom.set_printoptions(**opts)
    assert repr(t) == case["repr"]


def test_sci_mode_is_reset_by_each_call():
    loom.set_printoptions(sci_mode=True)
    assert "e+00" in repr(loom.tensor([1.5]))
    loom.set_printoptions(precision=4)
    assert repr(loom.tensor([1.5])) == "tensor([1.5000])"


def test_default_dtype_float64_repr():
    loom.set_default_dtype(loom.float64)
    try:
        assert repr(loom.zeros(0, dtype=loom.int64)) == "tensor([], dtype=loom.int64)"
        assert repr(loom.zeros(0)) == "tensor([])"
        assert repr(loom.zeros(0, dtype=loom.float32)) == "tensor([], dtype=loom.float32)"
    finally:
        loom.set_default_dtype(loom.float32)


def test_printoptions_errors():
    with pytest.raises(ValueError, match="profile must be"):
        loom.set_printoptions(profile="long")
    with pytest.raises(ValueError, match="precision"):
        loom.set_printoptions(precision=-1)
    with pytest.raises(ValueError, match="linewidth"):
        loom.set_printoptions(linewidth=0)
    with pytest.raises(TypeError, match="sci_mode"):
        loom.set_printoptions(sci_mode="yes")
