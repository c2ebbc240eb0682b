"""The Python side of the op registry (core/ops.toml): every described op with a generated binding is a
Tensor method and a loom.<name> function, both carrying the registry's docstring; docs/ops.md is current."""
import os
import subprocess
import sys
import tomllib

import numpy as np
import pytest

import loom
from _helpers import T, close

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _described():
    with open(os.path.join(_REPO, "core", "ops.toml"), "rb") as f:
        return [op for op in tomllib.load(f)["op"] if "name" in op]


GENERATED = [op for op in _described() if op["binding"] == "generated"]


@pytest.mark.parametrize("op", GENERATED, ids=[op["name"] for op in GENERATED])
def test_generated_binding_has_the_registry_doc(op):
    meth = getattr(loom.Tensor, op["name"])
    assert op["doc"] in meth.__doc__
    assert op["torch"] in meth.__doc__
    fn = getattr(loom, op["name"])
    assert op["doc"] in fn.__doc__
    assert op["name"] in loom._C._registry_ops


def test_registry_ops_are_exported():
    names = set(loom._functions.__all__)
    for op in GENERATED:
        assert op["name"] in names, op["name"]


def test_hypot_against_numpy(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    close(loom.hypot(T(a), T(b)), np.hypot(a, b))
    close(T(a).hypot(T(b)), np.hypot(a, b))
    x = T(a.astype(np.float64)).requires_grad_(True)
    y = T(b.astype(np.float64)).requires_grad_(True)
    loom.hypot(x, y).sum().backward()
    h = np.hypot(a.astype(np.float64), b.astype(np.float64))
    close(x.grad, a / h, rtol=1e-6)
    close(y.grad, (b / h).sum(0), rtol=1e-6)
    with pytest.raises(TypeError, match="hypot"):
        loom.hypot(T(np.array([1, 2])), T(np.array([3, 4])))


def test_logaddexp_copysign_kernels_against_numpy(rng):
    # Large, equal, infinite and NaN operands in every pairing, float32 and float64, broadcasting.
    edge = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 88.0, -104.0, 1e-40, 3.0])
    a = np.concatenate([rng.standard_normal(300) * 30, np.repeat(edge, edge.size)])
    b = np.concatenate([rng.standard_normal(300) * 30, np.tile(edge, edge.size)])
    for dt, rtol in ((np.float32, 4e-7), (np.float64, 1e-15)):
        x, y = a.astype(dt), b.astype(dt)
        with np.errstate(all="ignore"):
            for name in ("logaddexp", "logaddexp2"):
                got = getattr(loom, name)(T(x), T(y)).numpy()
                want = getattr(np, name)(x.astype(np.float64), y.astype(np.float64)).astype(dt)
                np.testing.assert_allclose(got, want, rtol=rtol, atol=0, err_msg=f"{name} {dt}")
        got = loom.copysign(T(x), T(y)).numpy()
        assert np.array_equal(got, np.copysign(x, y), equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(np.copysign(x, y)))
    m = rng.standard_normal((3, 4))
    v = rng.standard_normal(4)
    close(T(m).logaddexp(T(v)), np.logaddexp(m, v))
    close(loom.logaddexp2(T(m), T(v)), np.logaddexp2(m, v))
    # PyTorch's promotions: integers give float32, a number as other, a float64 tensor other wins.
    r = loom.copysign(T(np.array([1, 2])), -1)
    assert r.dtype == loom.float32 and r.tolist() == [-1.0, -2.0]
    assert T(np.array([3])).copysign(-2.0).tolist() == [-3.0]
    assert loom.copysign(T(np.ones(2, np.float32)), T(-np.ones(2))).dtype == loom.float64
    assert loom.logaddexp(T(np.array([1, 2])), T(np.array([1, 2]))).dtype == loom.float32
    # Gradients: 1 / (1 + e^(b - a)) (2^ for logaddexp2); copysign's: sign(a) sign(result), none to other.
    x = T(m).requires_grad_(True)
    y = T(v).requires_grad_(True)
    loom.logaddexp(x, y).sum().backward()
    close(x.grad, 1 / (1 + np.exp(v - m)), rtol=1e-12)
    close(y.grad, (1 / (1 + np.exp(m - v))).sum(0), rtol=1e-12)
    x.grad = None
    y.grad = None
    loom.logaddexp2(x, y).sum().backward()
    close(x.grad, 1 / (1 + np.exp2(v - m)), rtol=1e-12)
    x.grad = None
    y.grad = None
    loom.copysign(x, y).sum().backward()
    close(x.grad, np.sign(m) * np.sign(np.copysign(m, v)))
    close(y.grad, np.zeros(4))
    with pytest.raises(TypeError, match="logaddexp"):
        loom.logaddexp(T(m), 1.0)


def test_xlogy_xlog1py_kernels(rng):
    # PyTorch's rule: 0 where input is 0 unless other is NaN; every pairing of the special values.
    edge = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1.0, -2.0, 3.0, 1e30])
    a = np.concatenate([rng.standard_normal(300), np.repeat(edge, edge.size)])
    b = np.concatenate([rng.random(300) * 3, np.tile(edge, edge.size)])
    for dt, rtol in ((np.float32, 3e-7), (np.float64, 1e-15)):
        x, y = a.astype(dt), b.astype(dt)
        with np.errstate(all="ignore"):
            for fn, f in ((loom.special.xlogy, np.log), (loom.special.xlog1py, np.log1p)):
                want = np.where(np.isnan(y), np.nan, np.where(x == 0, 0.0, x * f(y.astype(np.float64))))
                np.testing.assert_allclose(fn(T(x), T(y)).numpy(), want.astype(dt), rtol=rtol, atol=0)
    assert loom.xlogy(2, T(np.array([3.0]))).tolist() == pytest.approx([2 * np.log(3.0)])
    assert loom.xlogy(T(np.array([1, 2])), 3).dtype == loom.float32
    # Gradients: log(other) (0 where input is 0 and other <= 0) and input / other.
    m = rng.standard_normal((3, 4))
    m[0, 0] = 0.0
    v = rng.random(4) + 0.2
    x = T(m).requires_grad_(True)
    y = T(v).requires_grad_(True)
    loom.xlogy(x, y).sum().backward()
    close(x.grad, np.broadcast_to(np.log(v), m.shape), rtol=1e-12)
    close(y.grad, (m / v).sum(0), rtol=1e-12)
    x.grad = None
    y.grad = None
    loom.special.xlog1py(x, y).sum().backward()
    close(x.grad, np.broadcast_to(np.log1p(v), m.shape), rtol=1e-12)
    close(y.grad, (m / (1 + v)).sum(0), rtol=1e-12)
    z = T(np.array([0.0, 1.0])).requires_grad_(True)
    loom.xlogy(z, T(np.array([0.0, -1.0]))).sum().backward()
    assert z.grad.tolist()[0] == 0.0 and np.isnan(z.grad.tolist()[1])


def test_api_page_is_current():
    r = subprocess.run([sys.executable, os.path.join(_REPO, "tools", "gen_ops.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
