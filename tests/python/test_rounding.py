"""Rounding (floor, ceil, round, trunc), rounded division (floor_divide, //, div(rounding_mode=...)) and the
remainders (remainder, %, fmod) against NumPy, whose definitions are PyTorch's: dtypes, broadcasting, numbers on
either side, in-place forms, integer division by zero, gradients, and the CUDA kernels against the CPU."""
import numpy as np
import pytest

import loom
from loom.autograd import gradcheck

from _helpers import requires_cuda

FLOATS = [(loom.float32, np.float32), (loom.float64, np.float64)]
INTS = [(loom.int32, np.int32), (loom.int64, np.int64)]


def T(a):
    return loom.tensor(np.ascontiguousarray(a))


def same(got, want):
    """Equal values and dtype (signed zeros aside, as NumPy's remainder signs its zeros differently)."""
    got_np = got.numpy()
    assert got_np.dtype == want.dtype, (got_np.dtype, want.dtype)
    np.testing.assert_array_equal(got_np, want)


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
@pytest.mark.parametrize("ldt,ndt", FLOATS)
def test_rounding_matches_numpy(rng, name, ldt, ndt):
    a = (rng.standard_normal((5, 7)) * 4).astype(ndt)
    a[0, :6] = [0.5, 1.5, 2.5, -0.5, -2.5, 3.5]  # halves: round goes to even, as np.round and torch.round
    a[1, :3] = [np.nan, np.inf, -np.inf]
    ref = {"floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc}[name]
    same(getattr(T(a), name)(), ref(a))
    same(getattr(loom, name)(T(a)), ref(a))
    same(getattr(T(a).t(), name)(), ref(a.T))  # a strided input


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_rounding_keeps_integers_and_rejects_bool(name):
    x = loom.tensor([-3, 0, 7], dtype=loom.int32)
    y = getattr(x, name)()
    assert y.dtype == loom.int32 and y.tolist() == [-3, 0, 7]
    with pytest.raises(TypeError, match=name):
        getattr(loom.tensor([True, False]), name)()


def test_round_decimals_as_torch():
    x = loom.tensor([1.2345, -2.5, 1234.5, 0.125], dtype=loom.float64)
    np.testing.assert_allclose(x.round(decimals=2).numpy(), [1.23, -2.5, 1234.5, 0.12])
    np.testing.assert_allclose(loom.round(x, decimals=-2).numpy(), [0.0, -0.0, 1200.0, 0.0])
    assert x.round(decimals=0).tolist() == [1.0, -2.0, 1234.0, 0.0]
    with pytest.raises(RuntimeError, match="floating"):
        loom.tensor([15]).round(decimals=-1)
    with pytest.raises(TypeError, match="decimals"):
        x.round(decimals=1.5)


def test_rounding_gradient_is_zero():
    for name in ("floor", "ceil", "round", "trunc"):
        x = loom.tensor([0.3, -1.7, 2.5], requires_grad=True)
        getattr(x, name)().sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]


def _operands(rng, ndt, shape=(6, 9)):
    if np.issubdtype(ndt, np.integer):
        a = rng.integers(-20, 21, size=shape).astype(ndt)
        b = rng.integers(-6, 7, size=shape).astype(ndt)
        b[b == 0] = 3
    else:
        a = (rng.standard_normal(shape) * 5).astype(ndt)
        b = (rng.standard_normal(shape) * 2).astype(ndt)
        a[0, :4] = [6.0, -6.0, 0.0, -0.0]  # exact quotients and zeros
        b[0, :4] = [3.0, 3.0, -2.0, 2.0]
    return a, b


@pytest.mark.parametrize("ldt,ndt", FLOATS + INTS)
def test_floor_divide_remainder_fmod_match_numpy(rng, ldt, ndt):
    a, b = _operands(rng, ndt)
    A, B = T(a), T(b)
    same(A // B, np.floor_divide(a, b))
    same(A.floor_divide(B), np.floor_divide(a, b))
    same(loom.floor_divide(A, B), np.floor_divide(a, b))
    same(A.div(B, rounding_mode="floor"), np.floor_divide(a, b))
    same(A % B, np.remainder(a, b))
    same(loom.remainder(A, B), np.remainder(a, b))
    same(A.fmod(B), np.fmod(a, b))
    same(loom.fmod(A, B), np.fmod(a, b))
    trunc = np.trunc(a / b).astype(ndt) if np.issubdtype(ndt, np.floating) else (np.abs(a) // np.abs(b)) * np.sign(a) * np.sign(b)
    same(A.div(B, rounding_mode="trunc"), trunc.astype(ndt))
    same(loom.divide(A, B, rounding_mode="trunc"), trunc.astype(ndt))
    # Strided and broadcast operands.
    same(A.t() // B.t(), np.floor_divide(a.T, b.T))
    same(A % B[0], np.remainder(a, b[0]))


@pytest.mark.parametrize("ldt,ndt", FLOATS + INTS)
def test_numbers_on_either_side(rng, ldt, ndt):
    a, b = _operands(rng, ndt)
    A, B = T(a), T(b)
    for s in (3, -4):
        same(A // s, np.floor_divide(a, ndt(s)))
        same(A % s, np.remainder(a, ndt(s)))
        same(A.fmod(s), np.fmod(a, ndt(s)))
        same(s // B, np.floor_divide(ndt(s), b))
        same(s % B, np.remainder(ndt(s), b))
        same(A.div(s, rounding_mode="floor"), np.floor_divide(a, ndt(s)))
    # A float number with an integer tensor gives float32, as in PyTorch.
    if np.issubdtype(ndt, np.integer):
        assert (A // 2.5).dtype == loom.float32
        np.testing.assert_array_equal((A // 2.5).numpy(), np.floor_divide(a.astype(np.float32), np.float32(2.5)))
        np.testing.assert_allclose((A % 2.5).numpy(), np.remainder(a.astype(np.float32), np.float32(2.5)), atol=1e-5)


def test_type_promotion_and_in_place():
    i32 = loom.tensor([7, -7], dtype=loom.int32)
    assert (i32 // loom.tensor(2)).dtype == loom.int32  # a 0-d int64 tensor does not widen
    assert (i32 // loom.tensor([2, 2])).dtype == loom.int64
    assert (i32 % loom.tensor([2.0, 2.0])).dtype == loom.float32
    x = loom.tensor([7, -7, 9])
    x //= 2
    assert x.tolist() == [3, -4, 4]
    x %= 3
    assert x.tolist() == [0, 2, 1]
    y = loom.tensor([7.5, -7.5])
    assert y.fmod_(2).tolist() == [1.5, -1.5]
    z = loom.tensor([7.5, -7.5])
    assert z.remainder_(loom.tensor([2.0, 2.0])).tolist() == [1.5, 0.5]
    w = loom.tensor([7.5, -7.5])
    assert w.div_(2, rounding_mode="trunc").tolist() == [3.0, -3.0]
    assert w.floor_divide_(-2).tolist() == [-2.0, 1.0]
    v = loom.tensor([7, -7])
    assert v.div_(2, rounding_mode="floor").tolist() == [3, -4]
    with pytest.raises(RuntimeError, match="can't be cast"):
        loom.tensor([7, 8]).floor_divide_(2.5)  # the float result does not fit an integer tensor


def test_integer_division_by_zero_raises():
    a = loom.tensor([4, 5], dtype=loom.int32)
    for f in (lambda: a // 0, lambda: a % 0, lambda: a.fmod(0), lambda: a // loom.tensor([1, 0], dtype=loom.int32),
              lambda: loom.remainder(a, loom.tensor([0])), lambda: a.div(0, rounding_mode="trunc"),
              lambda: a.clone().floor_divide_(0), lambda: a.clone().remainder_(loom.tensor([0, 1]))):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f()
    # Floats follow IEEE: x // 0 is +-inf (nan for 0), x % 0 is nan.
    f = loom.tensor([1.0, -1.0, 0.0])
    q = (f // 0).tolist()
    assert q[0] == float("inf") and q[1] == float("-inf") and np.isnan(q[2])
    assert all(np.isnan(v) for v in (f % 0).tolist())


def test_bad_arguments():
    a = loom.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="rounding_mode"):
        a.div(2, rounding_mode="round")
    with pytest.raises(RuntimeError, match="rounding_mode"):
        loom.divide(a, a, rounding_mode="ceil")
    with pytest.raises(TypeError, match="rounding_mode"):
        a.div(2, rounding_mode=1)
    with pytest.raises(TypeError, match="floor_divide"):
        loom.tensor([True]) // loom.tensor([True])
    with pytest.raises(TypeError, match="remainder"):
        loom.tensor([True]) % True
    assert (loom.tensor([True, False]) % 2).tolist() == [1, 0]  # a bool tensor with an int is int64
    with pytest.raises(RuntimeError, match=r"fmod.*\[3\].*\[2\]"):
        loom.zeros(3).fmod(loom.ones(2))
    with pytest.raises(TypeError, match="floor_divide"):
        a.floor_divide("2")
    assert a.__floordiv__("2") is NotImplemented


def test_gradients():
    a = loom.tensor([7.5, -7.5, 3.2], dtype=loom.float64, requires_grad=True)
    b = loom.tensor([2.0, 2.0, -1.5], dtype=loom.float64, requires_grad=True)
    (a % b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]
    assert b.grad.tolist() == [-3.0, 4.0, 3.0]  # -floor(a / b)
    a.grad = None
    b.grad = None
    a.fmod(b).sum().backward()
    assert b.grad.tolist() == [-3.0, 3.0, 2.0]  # -trunc(a / b)
    a.grad = None
    b.grad = None
    (a // b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 0.0] and b.grad.tolist() == [0.0, 0.0, 0.0]
    # Away from the jumps the formulas are the derivatives.
    x = loom.tensor([[2.3, -4.1], [5.7, -0.6]], dtype=loom.float64, requires_grad=True)
    y = loom.tensor([1.3, -0.7], dtype=loom.float64, requires_grad=True)
    assert gradcheck(lambda p, q: p % q, (x, y))
    assert gradcheck(lambda p, q: p.fmod(q), (x, y))
    assert gradcheck(lambda p: (p % 0.9) + p.fmod(-1.1), (x,))


@requires_cuda
@pytest.mark.parametrize("ldt,ndt", FLOATS + INTS)
def test_cuda_matches_cpu(rng, ldt, ndt):
    a, b = _operands(rng, ndt, (33, 65))
    A, B = T(a), T(b)
    Ag, Bg = A.cuda(), B.cuda()
    for f in (lambda p, q: p // q, lambda p, q: p % q, lambda p, q: p.fmod(q),
              lambda p, q: p.div(q, rounding_mode="trunc"), lambda p, q: p.t() // q.t(), lambda p, q: p % -3,
              lambda p, q: 5 // q, lambda p, q: p.floor(), lambda p, q: p.round(), lambda p, q: p.ceil(),
              lambda p, q: p.trunc()):
        np.testing.assert_array_equal(f(Ag, Bg).cpu().numpy(), f(A, B).numpy())
    if np.issubdtype(ndt, np.integer):  # not checked on CUDA: x // 0 = 0, x % 0 = x
        z = loom.zeros(4, dtype=ldt).cuda()
        x = loom.tensor([5, -5, 0, 7], dtype=ldt).cuda()
        assert (x // z).cpu().tolist() == [0, 0, 0, 0]
        assert (x % z).cpu().tolist() == [5, -5, 0, 7]
