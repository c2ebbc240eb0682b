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


_FIXTURE_DTYPES = {"float64": np.float64, "float32": np.float32, "bool": np.bool_, "int64": np.int64,
                   "int32": np.int32}


def load_fixture(name):
    """tests/data/<name>: the JSON a tests/data/make_*_fixtures.py script stored (PyTorch's side of a test)."""
    import json
    import os
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", name)) as f:
        return json.load(f)


def arr(j):
    """A fixture's tensor ({"shape", "dtype", "data"}) as a NumPy array."""
    return np.asarray(j["data"], dtype=_FIXTURE_DTYPES[j["dtype"]]).reshape(j["shape"])


def check_fixture_grads(outs, weights, inputs, grads, what, rtol=1e-7):
    """The gradients of sum(out * weight) over the outputs that require one, to the named inputs, against a
    fixture's {name: gradient or None} (None: no gradient, or zeros)."""
    import loom
    loss = None
    for o, w in zip(outs, weights):
        if w is None or not o.requires_grad:
            continue
        term = (o * loom.from_numpy(arr(w))).sum()
        loss = term if loss is None else loss + term
    names = list(grads)
    gs = loom.autograd.grad(loss, [inputs[n] for n in names], allow_unused=True)
    for n, g in zip(names, gs):
        want = grads[n]
        if want is None:
            assert g is None or not np.any(g.numpy()), (what, n)
            continue
        np.testing.assert_allclose(g.numpy(), arr(want), rtol=rtol, atol=1e-8, err_msg=f"{what} grad {n}")
