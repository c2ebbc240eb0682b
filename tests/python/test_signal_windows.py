"""loom.signal.windows against PyTorch 2.15 (tests/data/torch_windows.json, from make_windows_fixtures.py)
and NumPy's windows."""
import json
import os

import numpy as np
import pytest

import loom
from loom.signal import windows

_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "torch_windows.json")
CASES = json.load(open(_DATA))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['name']}-{c['M']}-{c['kwargs']}" for c in CASES])
def test_windows_match_pytorch(case):
    w = getattr(windows, case["name"])(case["M"], dtype=loom.float64, **case["kwargs"])
    assert w.dtype == loom.float64 and tuple(w.shape) == (case["M"],)
    np.testing.assert_allclose(w.numpy(), case["values"], rtol=1e-12, atol=1e-14)


def test_windows_match_numpy_and_defaults():
    np.testing.assert_allclose(windows.hann(9, dtype=loom.float64).numpy(), np.hanning(9), atol=1e-15)
    np.testing.assert_allclose(windows.hamming(9, dtype=loom.float64).numpy(), np.hamming(9), atol=1e-15)
    np.testing.assert_allclose(windows.blackman(9, dtype=loom.float64).numpy(), np.blackman(9), atol=1e-15)
    np.testing.assert_allclose(windows.bartlett(9, dtype=loom.float64).numpy(), np.bartlett(9), atol=1e-15)
    np.testing.assert_allclose(windows.kaiser(9, beta=8.0, dtype=loom.float64).numpy(), np.kaiser(9, 8.0),
                               rtol=1e-12)
    w = windows.hann(4, requires_grad=True)
    assert w.dtype == loom.float32 and w.requires_grad
    assert windows.hann(0).numel() == 0 and windows.hann(1).tolist() == [1.0]
    assert loom.signal.windows is windows


def test_window_errors():
    with pytest.raises(ValueError, match="non-negative window length"):
        windows.hann(-1)
    with pytest.raises(ValueError, match="float32 or float64"):
        windows.hann(3, dtype=loom.int64)
    with pytest.raises(ValueError, match="Center must be None for symmetric windows"):
        windows.exponential(4, center=1.0)
    with pytest.raises(ValueError, match="Standard deviation must be positive"):
        windows.gaussian(4, std=0.0)
    with pytest.raises(ValueError, match="beta must be non-negative"):
        windows.kaiser(4, beta=-1.0)
    with pytest.raises(ValueError, match="Coefficients cannot be empty"):
        windows.general_cosine(4, a=[])
