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


def test_a_huge_tensor_prints_from_its_edges_only():
    # From the API fuzzer: repr read every value into float64 and int64 copies, so printing a 2^31-element
    # tensor ran out of memory. Only the summarized edges are read now.
    import time
    x = loom.arange(1 << 28, dtype=loom.int64)  # 2 GiB
    t0 = time.time()
    assert repr(x) == "tensor([        0,         1,         2,  ..., 268435453, 268435454,\n        268435455])"
    assert time.time() - t0 < 0.5
    y = loom.arange(7 * 2000, dtype=loom.float32).reshape(7, 2000).t()  # a view: the edges of dim 0 and 1
    assert repr(y) == ("tensor([[0.0000e+00, 2.0000e+03, 4.0000e+03,  ..., 8.0000e+03, 1.0000e+04,\n"
                       "         1.2000e+04],\n"
                       "        [1.0000e+00, 2.0010e+03, 4.0010e+03,  ..., 8.0010e+03, 1.0001e+04,\n"
                       "         1.2001e+04],\n"
                       "        [2.0000e+00, 2.0020e+03, 4.0020e+03,  ..., 8.0020e+03, 1.0002e+04,\n"
                       "         1.2002e+04],\n"
                       "        ...,\n"
                       "        [1.9970e+03, 3.9970e+03, 5.9970e+03,  ..., 9.9970e+03, 1.1997e+04,\n"
                       "         1.3997e+04],\n"
                       "        [1.9980e+03, 3.9980e+03, 5.9980e+03,  ..., 9.9980e+03, 1.1998e+04,\n"
                       "         1.3998e+04],\n"
                       "        [1.9990e+03, 3.9990e+03, 5.9990e+03,  ..., 9.9990e+03, 1.1999e+04,\n"
                       "         1.3999e+04]])")
