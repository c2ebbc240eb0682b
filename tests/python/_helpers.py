"""Plain helpers shared by the pytest files; import them by name:

    from _helpers import T, close, requires_cuda

Fixtures (the per-test seed, `rng`) are in conftest.py, which is never imported.
"""
import numpy as np
import pytest

import loom


def _cuda_skip_reason():
    if not loom.cuda.is_built():
        return "loom was built without CUDA (a CPU-only build)"
    return "no CUDA device is visible (no GPU, or no usable driver)"


# Marks a test that needs a GPU; without one it is skipped with the reason.
requires_cuda = pytest.mark.skipif(not loom.cuda.is_available(), reason=_cuda_skip_reason())


def T(a, requires_grad=False):
    """A loom tensor of a copy of a (array-like; a 0-d input becomes 1-d)."""
    return loom.tensor(np.ascontiguousarray(a), requires_grad=requires_grad)


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def close(actual, expected, *, rtol=1e-5, atol=1e-6):
    """numpy.testing.assert_allclose of two tensors or array-likes: |actual - expected| <= atol + rtol * |expected|.

    The defaults suit float32 results; tests of other precisions pass rtol / atol.
    """
    np.testing.assert_allclose(_np(actual), _np(expected), rtol=rtol, atol=atol)
