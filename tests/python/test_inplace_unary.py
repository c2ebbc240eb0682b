"""The in-place unary methods (Tensor.sigmoid_, abs_, floor_...): written straight into self by the unary
kernel when nothing tracks self and the dtype stays, else the out-of-place op copied back. Both paths must give
the out-of-place op's values, return self, advance the version counter and keep PyTorch's errors."""
import numpy as np
import pytest

import loom
from loom import _inplace

FLOAT_OPS = ["abs", "sigmoid", "tanh", "sqrt", "rsqrt", "exp2", "expm1", "log", "log1p", "sin", "cos", "erf",
             "floor", "ceil", "round", "trunc", "reciprocal", "square", "sign", "lgamma", "arctan", "negative",
             "absolute", "fix"]


@pytest.mark.parametrize("name", FLOAT_OPS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_identity_and_version(rng, name, dtype):
    a = (np.abs(rng.standard_normal((7, 5))) + 0.25).astype(dtype)
    a[0, 0] = -a[0, 0] if name not in ("sqrt", "rsqrt", "log", "log1p", "lgamma") else a[0, 0]
    want = getattr(loom.tensor(a), name)().numpy()
    for make in (lambda: loom.tensor(a), lambda: loom.tensor(np.ascontiguousarray(a.T)).t()):  # contiguous, a view
        x = make()
        v0 = x._version
        assert getattr(x, name + "_")() is x
        assert x._version > v0
        np.testing.assert_array_equal(x.numpy(), want)


def test_every_listed_name_takes_the_direct_path_or_declines():
    # No listed name may error in the direct path on a float tensor; ops the kernels do not cover decline.
    for name in _inplace._UNARY:
        t = loom.ones(3)
        assert loom._C._unary_inplace(t, name) in (True, False)
    assert loom._C._unary_inplace(loom.ones(3), "logical_not") is False  # bool result
    assert loom._C._unary_inplace(loom.ones(3, dtype=loom.int64), "sqrt") is False  # float result
    assert loom._C._unary_inplace(loom.ones(3, dtype=loom.int64), "abs") is True


def test_integers_errors_and_autograd():
    i = loom.tensor([-3, 4])
    assert i.abs_().tolist() == [3, 4] and i.floor_().tolist() == [3, 4]
    with pytest.raises(RuntimeError, match="can't be cast"):
        loom.tensor([1, 4]).sqrt_()
    with pytest.raises(RuntimeError):
        loom.ones(3).expand(2, 3).abs_()  # internal overlap
    w = loom.tensor([1.0, -2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.sigmoid_()
    z = (w * 1).sigmoid_()  # tracked: the general path, with the gradient
    z.sum().backward()
    s = 1 / (1 + np.exp(-np.array([1.0, -2.0])))
    np.testing.assert_allclose(w.grad.numpy(), s * (1 - s), rtol=1e-6)
    # A saved tensor changed in place by the direct path (no grad needed on it) still raises at backward.
    x = loom.tensor([0.5, 1.5], requires_grad=True)
    y = loom.tensor([2.0, 3.0])
    out = x * y
    y.abs_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    with loom.no_grad():
        assert w.abs_() is w  # in no_grad mode a leaf may be written
    assert w.tolist() == [1.0, 2.0]
    assert loom.tensor([1.26]).round_(decimals=1).tolist() == [pytest.approx(1.3)]
