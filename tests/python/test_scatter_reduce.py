"""scatter_reduce / scatter_reduce_ (and scatter's reduce='multiply') against a NumPy reference: every
reduction with and without self, dims, duplicates, src wider than the index, integer floor means, bool,
NaN, gradients (ties shared evenly, zeros in products), second order, errors, and CUDA against the CPU."""
import numpy as np
import pytest

import loom
from loom.autograd import gradcheck
from loom.autograd.gradcheck import gradgradcheck

REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


def T(a):
    return loom.tensor(np.ascontiguousarray(a))


def reference(x, dim, idx, src, reduce, include_self=True):
    """The values each element of x receives, reduced (with x's own first when include_self)."""
    out = x.copy()
    sent = {}
    for pos in np.ndindex(*idx.shape):
        target = list(pos)
        target[dim] = idx[pos]
        sent.setdefault(tuple(target), []).append(src[pos])
    for target, vals in sent.items():
        v = ([x[target]] if include_self else []) + vals
        if reduce == "sum":
            r = sum(v[1:], v[0])
        elif reduce == "prod":
            r = np.prod(np.array(v, dtype=x.dtype))
        elif reduce == "mean":
            total = np.sum(np.array(v, dtype=x.dtype))
            r = total // len(v) if x.dtype.kind in "iu" else total / len(v)
        elif reduce == "amax":
            r = np.max(np.array(v, dtype=x.dtype))
        else:
            r = np.min(np.array(v, dtype=x.dtype))
        out[target] = r
    return out


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_matches_reference(rng, reduce, include_self, dim):
    shape = (3, 4, 5)
    d = dim % 3
    ishape = [2, 3, 4]
    ishape[d] = 7  # more positions than targets: duplicates
    idx = rng.integers(0, shape[d], size=ishape)
    for dtype in (np.float64, np.float32, np.int64, np.int32):
        if dtype in (np.int64, np.int32):
            x = rng.integers(-4, 5, size=shape).astype(dtype)
            src = rng.integers(-4, 5, size=[n + 1 for n in ishape]).astype(dtype)
        else:
            x = rng.standard_normal(shape).astype(dtype)
            src = rng.standard_normal([n + 1 for n in ishape]).astype(dtype)
        got = T(x).scatter_reduce(dim, T(idx), T(src), reduce, include_self=include_self)
        want = reference(x, d, idx, src, reduce, include_self)
        assert got.dtype == T(x).dtype
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
        y = T(x)
        assert y.scatter_reduce_(dim, T(idx), T(src), reduce, include_self=include_self) is y
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            loom.scatter_reduce(T(x), dim, T(idx), T(src), reduce, include_self=include_self).numpy(), want,
            rtol=1e-5, atol=1e-6)


def test_integer_mean_floors_bool_and_nan():
    x = loom.tensor([10, -7, 3])
    got = x.scatter_reduce(0, loom.tensor([0, 1, 1]), loom.tensor([1, 2, 2]), "mean")
    assert got.tolist() == [5, -1, 3]  # (10+1)//2, (-7+2+2)//3 = -1, untouched
    assert x.scatter_reduce(0, loom.tensor([0, 1, 1]), loom.tensor([1, 2, 2]), "mean",
                            include_self=False).tolist() == [1, 2, 3]
    b = loom.tensor([True, False, True])
    i = loom.tensor([0, 1, 2])
    s = loom.tensor([False, True, False])
    assert b.scatter_reduce(0, i, s, "sum").tolist() == [True, True, True]
    assert b.scatter_reduce(0, i, s, "prod").tolist() == [False, False, False]
    assert b.scatter_reduce(0, i, s, "amax", include_self=False).tolist() == [False, True, False]
    with pytest.raises(TypeError, match="mean"):
        b.scatter_reduce(0, i, s, "mean")
    f = loom.tensor([1.0, float("nan"), 5.0])
    got = f.scatter_reduce(0, loom.tensor([0, 0, 2]), loom.tensor([float("nan"), 2.0, 7.0]), "amax").numpy()
    assert np.isnan(got[0]) and np.isnan(got[1]) and got[2] == 7.0
    got = f.scatter_reduce(0, loom.tensor([2]), loom.tensor([-1.0]), "amin", include_self=False).numpy()
    assert got[2] == -1.0


def test_scatter_multiply():
    x = loom.tensor([[2.0, 3.0, 4.0]])
    idx = loom.tensor([[0, 0, 2]])
    assert x.scatter(1, idx, loom.tensor([[5.0, 6.0, 0.5]]), reduce="multiply").tolist() == [[60.0, 3.0, 2.0]]
    assert x.scatter(1, idx, 2.0, reduce="multiply").tolist() == [[8.0, 3.0, 8.0]]
    assert x.scatter(1, idx, 2.0, reduce="add").tolist() == [[6.0, 3.0, 6.0]]


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_gradcheck(rng, reduce, include_self):
    x = loom.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    s = loom.tensor(rng.standard_normal((3, 6)), requires_grad=True)
    idx = loom.tensor(rng.integers(0, 5, size=(3, 4)))
    assert gradcheck(lambda a, b: a.scatter_reduce(1, idx, b, reduce, include_self=include_self), (x, s))
    assert gradgradcheck(lambda a, b: a.scatter_reduce(1, idx, b, reduce, include_self=include_self).pow(2).sum(),
                         (x, s))


def test_gradients_of_ties_and_zeros():
    x = loom.tensor([3.0, 1.0, 0.0], dtype=loom.float64, requires_grad=True)
    s = loom.tensor([3.0, 3.0, 0.0, 0.0, 2.0], dtype=loom.float64, requires_grad=True)
    idx = loom.tensor([0, 0, 2, 2, 1])
    # amax: the three 3s share element 0's gradient; element 2's three 0s share its gradient.
    x.scatter_reduce(0, idx, s, "amax").sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(s.grad.numpy(), [1 / 3, 1 / 3, 1 / 3, 1 / 3, 1])
    # Without self the values sent share all of it (self's equal value takes no part).
    x.grad = None
    s.grad = None
    x.scatter_reduce(0, idx, s, "amax", include_self=False).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 0])
    np.testing.assert_allclose(s.grad.numpy(), [0.5, 0.5, 0.5, 0.5, 1])
    # prod: d/dv of the product of the others; two zeros in a group give every member 0.
    x.grad = None
    s.grad = None
    x.scatter_reduce(0, idx, s, "prod").sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [9, 2, 0])
    np.testing.assert_allclose(s.grad.numpy(), [9, 9, 0, 0, 1])
    # A single zero in a group: the others' product reaches it.
    x2 = loom.tensor([2.0, 5.0], dtype=loom.float64, requires_grad=True)
    s2 = loom.tensor([0.0, 3.0], dtype=loom.float64, requires_grad=True)
    x2.scatter_reduce(0, loom.tensor([0, 0]), s2, "prod").sum().backward()
    np.testing.assert_allclose(s2.grad.numpy(), [6, 0])
    np.testing.assert_allclose(x2.grad.numpy(), [0, 1])


def test_errors():
    x = loom.zeros(2, 3)
    idx = loom.tensor([[0, 2]])
    with pytest.raises(RuntimeError, match="sum, prod, mean, amax or amin"):
        x.scatter_reduce(1, idx, loom.ones(1, 2), "max")
    with pytest.raises(IndexError, match="scatter_reduce"):
        x.scatter_reduce(1, loom.tensor([[0, 3]]), loom.ones(1, 2), "sum")
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.scatter_reduce(1, loom.tensor([0]), loom.ones(1, 2), "sum")
    with pytest.raises(RuntimeError, match="dtype"):
        x.scatter_reduce(1, idx, loom.ones(1, 2, dtype=loom.float64), "sum")
    with pytest.raises(RuntimeError, match="smaller than src"):
        x.scatter_reduce(1, idx, loom.ones(1, 1), "sum")
    with pytest.raises(TypeError):
        x.scatter_reduce(1, idx, loom.ones(1, 2), "sum", True)  # include_self is keyword-only
    e = loom.zeros(3, 1).expand(3, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        e.scatter_reduce_(1, loom.tensor([[0], [1], [2]]), loom.ones(3, 1), "sum")
    # A bad index leaves an in-place target untouched.
    y = loom.ones(2, 3)
    with pytest.raises(IndexError):
        y.scatter_reduce_(1, loom.tensor([[0, 5]]), loom.ones(1, 2), "prod")
    assert y.tolist() == [[1.0] * 3] * 2


@pytest.mark.skipif(not loom.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_cuda_matches_cpu(rng, reduce):
    x = rng.standard_normal((33, 65)).astype(np.float32)
    src = rng.standard_normal((33, 130)).astype(np.float32)
    idx = T(rng.integers(0, 65, size=(33, 130)))
    for include_self in (True, False):
        want = T(x).scatter_reduce(1, idx, T(src), reduce, include_self=include_self).numpy()
        got = T(x).cuda().scatter_reduce(1, idx.cuda(), T(src).cuda(), reduce, include_self=include_self)
        np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-5, atol=1e-5)
    a = loom.tensor(x, device="cuda", requires_grad=True)
    b = loom.tensor(src, device="cuda", requires_grad=True)
    a.scatter_reduce(1, idx.cuda(), b, reduce).sum().backward()
    ac = loom.tensor(x, requires_grad=True)
    bc = loom.tensor(src, requires_grad=True)
    ac.scatter_reduce(1, idx, bc, reduce).sum().backward()
    np.testing.assert_allclose(a.grad.cpu().numpy(), ac.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b.grad.cpu().numpy(), bc.grad.numpy(), rtol=1e-4, atol=1e-5)
