"""loom's composed math, shape and in-place functions against PyTorch: values, dtypes, shapes and the
gradients of sum(result * weights) to every float64 argument, from tests/data/torch_functions.json
(tests/data/make_function_fixtures.py; no PyTorch needed here)."""
import numpy as np
import pytest

import loom
from _helpers import arr, load_fixture

CASES = load_fixture("torch_functions.json")["cases"]


def _resolve(fn):
    if fn.startswith("Tensor."):
        return getattr(loom.Tensor, fn[len("Tensor."):])
    obj = loom
    for part in fn.split("."):
        obj = getattr(obj, part)
    return obj


def _dec(v, grad):
    if isinstance(v, dict) and "tensor" in v:
        t = loom.from_numpy(arr(v["tensor"]).copy())
        if grad and t.dtype == loom.float64:
            t.requires_grad_(True)
        return t
    if isinstance(v, dict) and "tuple" in v:
        return tuple(_dec(x, grad) for x in v["tuple"])
    if isinstance(v, dict) and "dtype" in v:
        return getattr(loom, v["dtype"])
    if isinstance(v, list):
        return [_dec(x, grad) for x in v]
    return v


def _check_out(got, want, ctx):
    if isinstance(want, dict) and "tensor" in want:
        assert isinstance(got, loom.Tensor), ctx
        w = arr(want["tensor"])
        assert str(got.dtype) == "loom." + want["tensor"]["dtype"], (ctx, got.dtype, want["tensor"]["dtype"])
        assert tuple(got.shape) == w.shape, (ctx, tuple(got.shape), w.shape)
        g = got.detach().numpy()
        if w.dtype.kind == "f":
            tol = 1e-7 if w.dtype == np.float64 else 2e-6  # float32: PyTorch and loom may round differently
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol * 1e-2, equal_nan=True, err_msg=ctx)
        else:
            np.testing.assert_array_equal(g, w, err_msg=ctx)
    elif isinstance(want, dict) and "tuple" in want:
        assert len(got) == len(want["tuple"]), ctx
        for i, (g, w) in enumerate(zip(got, want["tuple"])):
            _check_out(g, w, f"{ctx}[{i}]")
    elif isinstance(want, dict) and "dtype" in want:
        assert got == getattr(loom, want["dtype"]), (ctx, got, want)
    else:
        assert got == want, ctx


def _tensors(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, loom.Tensor) and o.requires_grad]


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c['fn']}" for i, c in enumerate(CASES)])
def test_matches_torch(case):
    grad = bool(case["grads"])
    args = [_dec(a, grad) for a in case["args"]]
    kwargs = {k: _dec(v, False) for k, v in case["kwargs"].items()}
    call = list(args)
    if case["fn"].endswith("_") and isinstance(call[0], loom.Tensor):
        call[0] = call[0] * 1 if call[0].requires_grad else call[0].clone()
    out = _resolve(case["fn"])(*call, **kwargs)
    _check_out(out if not isinstance(out, list) else tuple(out), case["out"], case["fn"])
    if not grad:
        return
    diff = _tensors(out)
    leaves = [a for a in args if isinstance(a, loom.Tensor) and a.requires_grad]
    loss = None
    for o, w in zip(diff, case["weights"]):
        term = (o * loom.from_numpy(arr(w))).sum()
        loss = term if loss is None else loss + term
    if loss is None:  # a result that does not depend on the inputs differentiably (a count, eye)
        assert all(w is None or not np.any(arr(w)) for w in case["grads"]), case["fn"]
        return
    grads = loom.autograd.grad(loss, leaves, allow_unused=True)
    for i, (g, w) in enumerate(zip(grads, case["grads"])):
        if w is None:
            assert g is None or not np.any(g.numpy()), (case["fn"], i)
            continue
        got = np.zeros(arr(w).shape) if g is None else g.numpy()
        np.testing.assert_allclose(got, arr(w), rtol=1e-7, atol=1e-9, err_msg=f"{case['fn']} grad {i}")
