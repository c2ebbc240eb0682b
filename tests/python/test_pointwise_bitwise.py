"""bitwise_and/or/xor/not and the & | ^ ~ operators against NumPy's np.bitwise_*:
bool, int32 and int64 values (full range, non-contiguous, broadcast), PyTorch's
result dtypes with 0-d tensors and Python scalars, the in-place forms, and
TypeError for floating operands."""
import numpy as np
import pytest

import loom
from _helpers import requires_cuda

NP = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor}
SYM = {"bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^"}
DTYPES = {"bool": np.bool_, "int32": np.int32, "int64": np.int64}


def rand(rng, shape, dt):
    if dt == "bool":
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    info = np.iinfo(DTYPES[dt])
    return rng.integers(info.min, info.max, size=shape, dtype=DTYPES[dt], endpoint=True)


def T(a):
    return loom.tensor(np.array(a, order="C"))  # keeps 0-d arrays 0-d (ascontiguousarray would not)


def check(t, ref):
    ref = np.asarray(ref)
    assert str(t.dtype) == "loom." + ref.dtype.name, (t.dtype, ref.dtype)
    np.testing.assert_array_equal(t.numpy(), ref)


@pytest.mark.parametrize("dt", list(DTYPES))
@pytest.mark.parametrize("name", list(NP))
def test_binary_values(rng, name, dt):
    a, b = rand(rng, (5, 7), dt), rand(rng, (5, 7), dt)
    ref = NP[name](a, b)
    x, y = T(a), T(b)
    check(getattr(x, name)(y), ref)
    check(getattr(loom, name)(x, y), ref)
    check(eval("x %s y" % SYM[name]), ref)
    # Non-contiguous (transposed) and broadcast operands.
    xt = T(a.T.copy()).t()
    assert not xt.is_contiguous()
    check(getattr(xt, name)(y), ref)
    row = rand(rng, (7,), dt)
    check(getattr(x, name)(T(row)), NP[name](a, row))
    col = rand(rng, (5, 1), dt)
    check(getattr(T(col), name)(T(row)), NP[name](col, row))


@pytest.mark.parametrize("dt", list(DTYPES))
def test_not_values(rng, dt):
    a = rand(rng, (4, 9), dt)
    check(~T(a), np.invert(a))
    check(T(a).bitwise_not(), np.invert(a))
    check(loom.bitwise_not(T(a.T.copy()).t()), np.invert(a))
    x = T(a)
    assert x.bitwise_not_() is x
    check(x, np.invert(a))


def test_fuzz_03_integer_and_is_bitwise():
    a = loom.tensor([1, 2], dtype=loom.int32)
    b = loom.tensor([3, 1], dtype=loom.int32)
    check(a & b, np.array([1, 0], np.int32))
    check(a | b, np.array([3, 3], np.int32))
    check(a & 0, np.array([0, 0], np.int32))
    check(0 | a, np.array([1, 2], np.int32))
    check(~a, np.array([-2, -3], np.int32))


@pytest.mark.parametrize(
    "x, y, dtype",
    [
        (np.array([1, 2], np.int32), np.array([3, 1], np.int64), "int64"),
        (np.array([True, False]), np.array([3, 1], np.int32), "int32"),
        (np.array([True, False]), np.array([True, True]), "bool"),
        # A 0-d tensor only counts when its category is higher.
        (np.array([1, 2], np.int32), np.array(7, np.int64), "int32"),
        (np.array(7, np.int64), np.array([1, 2], np.int32), "int32"),
        (np.array([True, False]), np.array(3, np.int64), "int64"),
        (np.array([5, 6], np.int64), np.array(True), "int64"),
        (np.array(5, np.int32), np.array(6, np.int64), "int64"),
        # Python scalars: an int beside a bool tensor gives int64; a bool keeps bool.
        (np.array([1, 2], np.int32), 3, "int32"),
        (np.array([True, False]), 3, "int64"),
        (np.array([True, False]), True, "bool"),
        (np.array([1, -2], np.int64), -1, "int64"),
        (np.array([2**62 + 5, -1], np.int64), 2**62 + 3, "int64"),
        (np.array([0, -1], np.int64), 2**53 + 1, "int64"),
    ],
)
@pytest.mark.parametrize("name", list(NP))
def test_promotion(name, x, y, dtype):
    yt = y if isinstance(y, (bool, int)) else T(y)
    r = getattr(T(x), name)(yt)
    # Both operands in the result dtype: bitwise ops commute with widening and truncation.
    ref = NP[name](x.astype(dtype), np.asarray(y).astype(dtype))
    check(r, ref)
    check(eval("T(x) %s yt" % SYM[name]), ref)
    check(eval("yt %s T(x)" % SYM[name]), ref)  # reflected (scalar on the left) or swapped tensors


@pytest.mark.parametrize("name", list(NP))
def test_in_place(rng, name):
    a, b = rand(rng, (3, 4), "int32"), rand(rng, (4,), "int64")
    x = T(a)
    v = x._version if hasattr(x, "_version") else None
    assert getattr(x, name + "_")(T(b)) is x  # int32 op= int64: computed, then cast back to int32
    check(x, NP[name](a.astype(np.int64), b).astype(np.int32))
    if v is not None:
        assert x._version > v
    x = T(a)
    y = x
    exec("y %s= 5" % SYM[name])
    assert y is x
    check(x, NP[name](a, np.int32(5)))
    m = T(rand(rng, (4,), "bool"))
    ref = NP[name](m.numpy(), True)
    getattr(m, name + "_")(True)
    check(m, ref)


@pytest.mark.parametrize("name", list(NP))
def test_float_operands_raise_type_error(name):
    i = loom.tensor([1, 2], dtype=loom.int32)
    f = loom.tensor([1.0, 2.0])
    kernel = '"%s_cpu" not implemented for' % name
    with pytest.raises(TypeError, match=kernel + " 'Float'"):
        getattr(i, name)(f)
    with pytest.raises(TypeError, match=kernel + " 'Double'"):
        getattr(loom, name)(f.double(), i)
    with pytest.raises(TypeError, match="'Float'"):
        eval("i %s 1.5" % SYM[name])
    with pytest.raises(TypeError, match="'Float'"):
        eval("f %s 0" % SYM[name])
    with pytest.raises(TypeError, match="'Float'"):
        getattr(i, name + "_")(f)
    with pytest.raises(TypeError):
        eval("i %s 'a'" % SYM[name])


def test_not_float_raises_type_error():
    with pytest.raises(TypeError, match="\"bitwise_not_cpu\" not implemented for 'Float'"):
        ~loom.tensor([1.0])
    with pytest.raises(TypeError, match="'Double'"):
        loom.tensor([1.0], dtype=loom.float64).bitwise_not_()


def test_in_place_bad_cast_and_shape():
    b = loom.tensor([True, False])
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output type Bool"):
        b &= 1
    with pytest.raises(RuntimeError, match="result type Int can't be cast"):
        b.bitwise_or_(loom.tensor([1, 2], dtype=loom.int32))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        loom.tensor([1]).bitwise_xor_(loom.tensor([1, 2]))
    check(b, np.array([True, False]))


def test_not_differentiable():
    x = loom.tensor([1.0, 2.0], requires_grad=True)
    r = x.gt(1.5) & x.lt(3.0)
    assert r.dtype == loom.bool and not r.requires_grad
    np.testing.assert_array_equal(r.numpy(), [False, True])


def test_logical_not_unchanged():
    a = np.array([0, 3, -1], np.int32)
    check(T(a).logical_not(), np.logical_not(a))
    check(loom.logical_not(T(np.array([0.0, 2.5]))), np.array([True, False]))


@requires_cuda
@pytest.mark.parametrize("dt", list(DTYPES))
def test_cuda_matches_cpu(rng, dt):
    a, b = rand(rng, (37, 129), dt), rand(rng, (129,), dt)
    x, y = T(a), T(b)
    for name in NP:
        check(getattr(x.cuda(), name)(y.cuda()).cpu(), NP[name](a, b))
    check((~x.cuda()).cpu(), np.invert(a))
    if dt == "int64":
        check((x.cuda() ^ (2**60 + 1)).cpu(), a ^ np.int64(2**60 + 1))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops_follow_numpy(name):
    a = np.array([0.0, 1.0, np.nan, -2.0, 0.0])
    b = np.array([1, 0, 1, 3, 0], dtype=np.int32)
    ref = getattr(np, name)(a, b)  # NaN is true, as in PyTorch
    got = getattr(loom, name)(loom.tensor(a), loom.tensor(b))
    assert got.dtype == loom.bool
    np.testing.assert_array_equal(got.numpy(), ref)
    np.testing.assert_array_equal(getattr(loom.tensor(a), name)(loom.tensor(b)).numpy(), ref)
    with pytest.raises(TypeError, match="must be Tensor"):
        getattr(loom.tensor(a), name)(1)
