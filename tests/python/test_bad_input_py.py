"""Regression tests for the Python binding layer, from the API fuzzer (tests/python/fuzz, entries fuzz-01, 02
and 15 to 21): exact Python ints, ints beyond int64 in lists, int(tensor), SystemError from int arguments, loom.numel,
the subtract/multiply/divide aliases, assignment through an index tensor, wide randint ranges and floats beyond
the float32 range."""
import math

import numpy as np
import pytest

import loom
import loom.nn.functional as F
from _helpers import requires_cuda

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


# ---- fuzz-01: Python ints stay exact (no trip through a double) ----

@pytest.mark.parametrize("v", [2**53 + 1, -(2**53) - 1, INT64_MIN + 1, INT64_MAX, INT64_MIN, 2**62 + 1])
def test_python_ints_are_exact(v):
    assert loom.tensor(v).item() == v
    assert loom.tensor(v, dtype=loom.int64).item() == v
    assert loom.as_tensor(v).item() == v
    assert loom.scalar_tensor(v, dtype=loom.int64).item() == v
    assert loom.full((2, 3), v).tolist() == [[v] * 3] * 2
    assert loom.full_like(loom.zeros(2, dtype=loom.int64), v).tolist() == [v, v]
    assert loom.tensor([v, 1]).tolist() == [v, 1]


def test_exact_int_fill_of_an_empty_tensor():
    assert loom.full((0, 3), 2**53 + 1).shape == (0, 3)


# ---- fuzz-02 (not changed, see the note): PyTorch's tensor() stores each Python int of a list with the
# target dtype's converter: int64/int32 raise past their range ("Overflow when unpacking long"), while
# float dtypes convert through a double and bool takes truthiness without an overflow check (torch/csrc/
# utils/python_scalars.h store_scalar). loom follows that, so the fuzzer's expectation is what is wrong. ----

@pytest.mark.parametrize("big", [2**63, 2**64, -(2**63) - 1, 10**30])
def test_list_ints_beyond_int64_follow_pytorch(big):
    for make in (loom.tensor, loom.as_tensor, loom.asarray):
        for dtype in (None, loom.int64, loom.int32):
            with pytest.raises(RuntimeError, match=str(big)):
                make([1, big], dtype=dtype)
        assert make([1, big], dtype=loom.float64).tolist() == [1.0, float(big)]
        assert make([1, big], dtype=loom.bool).tolist() == [True, True]
        assert make([1.5, big]).tolist() == [1.5, float(np.float32(big))]


def test_list_ints_at_the_int64_limits_are_accepted():
    assert loom.tensor([INT64_MIN, INT64_MAX]).tolist() == [INT64_MIN, INT64_MAX]
    assert loom.tensor([1, INT64_MAX], dtype=loom.bool).tolist() == [True, True]


# ---- fuzz-15: int(tensor) follows Python's int(float) ----

def test_int_of_a_float_tensor_is_python_int_of_the_float():
    with pytest.raises(OverflowError, match="infinity"):
        int(loom.tensor(math.inf))
    with pytest.raises(OverflowError, match="infinity"):
        int(loom.tensor(-math.inf, dtype=loom.float64))
    with pytest.raises(ValueError, match="NaN"):
        int(loom.tensor(math.nan))
    for v in (-9.2e64, 1e30, 2.0**63, -(2.0**63) - 4096.0, 3.99, -3.99):
        assert int(loom.tensor(v, dtype=loom.float64)) == int(v)
    assert int(loom.tensor([2.5e20])) == int(np.float32(2.5e20))


def test_int_of_integer_and_bool_tensors():
    assert int(loom.tensor(INT64_MIN + 1)) == INT64_MIN + 1
    assert int(loom.tensor([True])) == 1
    with pytest.raises(TypeError):
        int(loom.zeros(2))


# ---- fuzz-16: a Tensor where ints are expected raises TypeError, not SystemError ----

@pytest.mark.parametrize("call", [
    lambda t: loom.broadcast_shapes(t),
    lambda t: F.max_pool2d_with_indices(t, t),
    lambda t: F.max_pool2d(loom.zeros(1, 1, 4, 4), t),
    lambda t: F.adaptive_avg_pool2d(loom.zeros(1, 1, 4, 4), t),
    lambda t: loom.zeros(2, 3).sum(t),
    lambda t: loom.zeros(t),
])
@pytest.mark.parametrize("t", [loom.tensor(0.5), loom.zeros(2, 2)])
def test_non_index_tensor_as_int_raises_type_error(call, t):
    with pytest.raises(TypeError):
        call(t)


def test_one_element_int_tensor_is_accepted_as_an_int():
    assert loom.broadcast_shapes(loom.tensor(3), (2, 1)) == (2, 3)
    assert loom.zeros(2, 3).sum(loom.tensor(1)).shape == (2,)


def test_float_is_not_an_int_argument():
    with pytest.raises(TypeError):
        loom.zeros(2, 3).sum(1.0)


def test_sequence_with_a_failing_len_raises_its_own_error():
    class Bad:
        def __len__(self):
            raise ValueError("bad len")

        def __getitem__(self, i):
            return 1

    with pytest.raises(ValueError, match="bad len"):
        loom.broadcast_shapes(Bad())


# ---- fuzz-17 ----

@pytest.mark.parametrize("arg", [0, 2.5, None, [1, 2]])
def test_numel_of_a_non_tensor_raises_type_error(arg):
    with pytest.raises(TypeError, match="must be Tensor"):
        loom.numel(arg)


def test_numel():
    assert loom.numel(loom.zeros(2, 3)) == 6


# ---- fuzz-18: subtract / multiply / divide ----

def test_subtract_multiply_divide_aliases():
    a, b = loom.tensor([6, 8]), loom.tensor([2, 4])
    assert a.subtract(b).tolist() == [4, 4]
    assert a.subtract(b, alpha=2).tolist() == [2, 0]
    assert loom.subtract(a, 1, alpha=3).tolist() == [3, 5]
    assert a.multiply(b).tolist() == [12, 32]
    assert loom.multiply(a, 2).tolist() == [12, 16]
    assert a.divide(b).tolist() == [3.0, 2.0]
    assert loom.divide(a, 4).tolist() == [1.5, 2.0]
    assert a.true_divide(4).tolist() == [1.5, 2.0]
    assert loom.true_divide(a, b).tolist() == [3.0, 2.0]
    x = loom.tensor([1.0, 2.0])
    x.subtract_(1).multiply_(4).divide_(2)
    assert x.tolist() == [0.0, 2.0]
    assert a.divide(b, rounding_mode="floor").tolist() == [3, 2]
    with pytest.raises(RuntimeError, match="rounding_mode"):
        loom.divide(a, b, rounding_mode="round")
    with pytest.raises(TypeError):
        loom.subtract(1, a)


def test_subtract_gradient():
    x = loom.tensor([1.0, 2.0], requires_grad=True)
    x.subtract(loom.tensor([3.0, 4.0]), alpha=2).multiply(2).divide(4).sum().backward()
    assert x.grad.tolist() == [0.5, 0.5]


# ---- fuzz-19: x[index_tensor] = v ----

def _check_setitem(a, key, value):
    x = loom.tensor(a)
    lkey = tuple(loom.tensor(k) if isinstance(k, np.ndarray) else k for k in key) if isinstance(key, tuple) else (
        loom.tensor(key) if isinstance(key, np.ndarray) else key)
    x[lkey] = loom.tensor(value) if isinstance(value, np.ndarray) else value
    ref = a.copy()
    ref[key] = value
    np.testing.assert_array_equal(x.numpy(), ref)


@pytest.mark.parametrize("key, value", [
    (np.array([0, 2]), 5.0),
    (np.array([2, -3]), np.array([1.0, 2.0, 3.0, 4.0])),
    (np.array([[0], [2]]), np.array([[1.0, 2.0, 3.0, 4.0]])),
    ((slice(None), np.array([1, 3])), np.array([[7.0, 8.0]])),
    ((1, np.array([1, 3])), -3.0),
    ((np.array([0, 1]), slice(1, 3)), np.array([9.0, 10.0])),
    ((Ellipsis, np.array([0])), np.array([[1.0], [2.0], [3.0]])),
    (np.array([True, False, True]), 9.0),
    (np.array([True, False, True]), np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])),
    (np.arange(12).reshape(3, 4) % 5 == 0, np.array([-1.0, -2.0, -3.0])),
    (np.arange(12).reshape(3, 4) % 5 == 0, 7.0),
    ([0, 2], 4.0),
])
def test_setitem_with_an_index_tensor(key, value):
    _check_setitem(np.arange(12.0).reshape(3, 4), key, value)


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64", "float32", "float64"])
def test_setitem_with_an_index_tensor_keeps_the_dtype(dtype):
    a = (np.arange(6) % 3).astype(dtype)
    x = loom.tensor(a)
    x[loom.tensor([1, 4])] = loom.tensor([1, 0])
    a[[1, 4]] = np.array([1, 0]).astype(dtype)
    assert x.dtype == getattr(loom, dtype)
    np.testing.assert_array_equal(x.numpy(), a)


def test_setitem_int64_index_values_are_exact():
    x = loom.zeros(3, dtype=loom.int64)
    x[loom.tensor([0, 2])] = loom.tensor([INT64_MAX, INT64_MIN + 1])
    assert x.tolist() == [INT64_MAX, 0, INT64_MIN + 1]


def test_setitem_duplicate_indices_write_one_of_the_values():
    x = loom.zeros(3)
    x[loom.tensor([1, 1, 2, 1])] = loom.tensor([1.0, 2.0, 3.0, 4.0])
    assert x[1].item() in (1.0, 2.0, 4.0) and x[2].item() == 3.0 and x[0].item() == 0.0
    y = loom.zeros(3)
    y[loom.tensor([0, 0])] = 5.0
    assert y.tolist() == [5.0, 0.0, 0.0]


def test_setitem_keeps_negative_zero_and_specials():
    x = loom.ones(4)
    x[loom.tensor([0, 1, 2])] = loom.tensor([-0.0, math.inf, math.nan])
    v = x.numpy()
    assert np.signbit(v[0]) and v[1] == math.inf and math.isnan(v[2]) and v[3] == 1.0


def test_setitem_through_a_view_writes_the_base():
    base = loom.zeros(4, 6)
    view = base[1:3, ::2]
    view[loom.tensor([1])] = loom.tensor([1.0, 2.0, 3.0])
    expect = np.zeros((4, 6), np.float32)
    expect[2, ::2] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(base.numpy(), expect)


def test_setitem_with_an_empty_index_or_empty_tensor():
    x = loom.zeros((4, 2, 0, 8), dtype=loom.int32)[0:4:1, 1:2:2, 0:0:1, 1:8:3]
    x[loom.tensor([3, -3, -3]), None] = loom.tensor(-1)
    assert x.shape == (4, 1, 0, 3)
    y = loom.arange(3)
    y[loom.tensor([], dtype=loom.int64)] = 7
    assert y.tolist() == [0, 1, 2]


@pytest.mark.parametrize("stmt, exc", [
    ("x[loom.tensor([3])] = 1.0", IndexError),
    ("x[loom.tensor([-4])] = 1.0", IndexError),
    ("x[loom.tensor([0, 1])] = loom.tensor([1.0, 2.0, 3.0])", RuntimeError),
    ("x[loom.tensor([0.0])] = 1.0", IndexError),
    ("x[loom.tensor([True, False])] = 1.0", IndexError),
])
def test_setitem_bad_index_or_value_raises(stmt, exc):
    x = loom.zeros(3)
    with pytest.raises(exc):
        exec(stmt, {"loom": loom, "x": x})
    assert x.tolist() == [0.0, 0.0, 0.0]


def test_setitem_on_a_leaf_that_requires_grad_raises():
    x = loom.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[loom.tensor([0])] = loom.tensor([1.0])


def test_setitem_gradients():
    w = loom.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = loom.tensor([10.0, 20.0], requires_grad=True)
    y = w * 1
    y[loom.tensor([0, 2])] = v * 2
    (y * loom.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert w.grad.tolist() == [0.0, 2.0, 0.0]
    assert v.grad.tolist() == [2.0, 6.0]
    w2 = loom.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y2 = w2 * 1
    y2[loom.tensor([True, False, True])] = 0.0
    y2.sum().backward()
    assert w2.grad.tolist() == [0.0, 1.0, 0.0]


@requires_cuda
def test_setitem_with_an_index_tensor_cuda():
    x = loom.zeros(3, 4, device="cuda")
    x[loom.tensor([2, 0, 2], device="cuda")] = loom.tensor([1.0, 2.0, 3.0, 4.0], device="cuda")
    x[loom.tensor([1])] = -1.0
    expect = np.zeros((3, 4), np.float32)
    expect[[0, 2]] = [1.0, 2.0, 3.0, 4.0]
    expect[1] = -1.0
    np.testing.assert_array_equal(x.cpu().numpy(), expect)


# ---- fuzz-20: randint over ranges wider than 2**32 ----

@pytest.mark.parametrize("low, high", [(0, 2**40), (-(2**62), 2**62), (INT64_MIN, INT64_MAX), (2**40, 2**41)])
def test_randint_wide_ranges(low, high):
    r = loom.randint(low, high, (4000,))
    assert r.dtype == loom.int64
    v = r.numpy()
    assert v.min() >= low and v.max() < high
    # 64 random bits: the spread covers most of the range, not only 2**32 of it
    assert int(v.max()) - int(v.min()) > (high - low) // 2
    assert len(np.unique(v)) > 3990


def test_randint_wide_range_is_reproducible_and_keeps_narrow_draws():
    loom.manual_seed(5)
    a = loom.randint(0, 2**50, (9,))
    narrow = loom.randint(0, 10, (9,))
    loom.manual_seed(5)
    assert loom.randint(0, 2**50, (9,)).tolist() == a.tolist()
    assert loom.randint(0, 10, (9,)).tolist() == narrow.tolist()


def test_randint_bounds_must_fit_int32():
    with pytest.raises(RuntimeError, match="int32"):
        loom.randint(0, 2**31 + 1, (2,), dtype=loom.int32)
    with pytest.raises(RuntimeError, match="int32"):
        loom.randint(-(2**31) - 1, 0, (2,), dtype=loom.int32)
    r = loom.randint(-(2**31), 2**31, (1000,), dtype=loom.int32)
    assert r.dtype == loom.int32
    with pytest.raises(RuntimeError, match="bool"):
        loom.randint(0, 3, (2,), dtype=loom.bool)


@requires_cuda
def test_randint_wide_range_cuda_matches_cpu():
    loom.manual_seed(3)
    a = loom.randint(-(2**60), 2**60, (1001,))
    loom.manual_seed(3)
    b = loom.randint(-(2**60), 2**60, (1001,), device="cuda")
    assert a.tolist() == b.cpu().tolist()


# ---- fuzz-21: tensor(float) beyond the float32 range is inf ----

@pytest.mark.parametrize("make", [loom.tensor, loom.as_tensor, loom.asarray])
def test_tensor_of_a_huge_float_is_inf(make):
    assert make(1.79e308).item() == math.inf
    assert make(-1e300).item() == -math.inf
    assert make(1e300, dtype=loom.float32).item() == math.inf
    assert make([1e300, 1.0]).tolist() == [math.inf, 1.0]
    assert make(1e300, dtype=loom.float64).item() == 1e300
    # rounds to the nearest float32 like any conversion: just above the max is still the max
    assert make(3.4028235e38 * (1 + 1e-9)).item() == float(np.finfo(np.float32).max)


def test_fill_values_are_still_range_checked():
    for call in (lambda: loom.full((2,), 1e300), lambda: loom.zeros(2).fill_(1e300),
                 lambda: loom.scalar_tensor(1e300), lambda: loom.tensor(1e300, dtype=loom.int64)):
        with pytest.raises(RuntimeError):
            call()


BIG = 2**53 + 1  # the first int a double rounds


@pytest.mark.parametrize("name, call, expected", [
    ("add", lambda x: x + BIG, [BIG]), ("radd", lambda x: BIG + x, [BIG]), ("sub", lambda x: x - BIG, [-BIG]),
    ("rsub", lambda x: BIG - x, [BIG]), ("mul", lambda x: (x + 1) * BIG, [BIG]),
    ("add_", lambda x: x.clone().add_(BIG), [BIG]), ("mul_", lambda x: (x + 1).mul_(BIG), [BIG]),
    ("remainder", lambda x: (x + BIG) % 10, [3]), ("eq", lambda x: (x + BIG - 1).eq(BIG), [False]),
    ("lt", lambda x: (x + BIG - 1).lt(BIG), [True]), ("fill_", lambda x: x.clone().fill_(BIG), [BIG]),
    ("full", lambda x: loom.full((1,), BIG), [BIG]), ("full -2^63 + 1", lambda x: loom.full((1,), -2**63 + 1), [-2**63 + 1]),
    ("clamp", lambda x: x.clamp(min=BIG), [BIG]), ("clamp max", lambda x: x.clamp(max=-BIG), [-BIG]),
    ("clamp_", lambda x: x.clone().clamp_(min=BIG), [BIG]),
    ("masked_fill", lambda x: x.masked_fill(loom.tensor([True]), BIG), [BIG]),
    ("masked_fill_ 0-d tensor value", lambda x: x.clone().masked_fill_(loom.tensor(True), loom.tensor(BIG)), [BIG]),
    ("where", lambda x: loom.where(loom.tensor([True]), BIG, x), [BIG]),
    ("index_fill_", lambda x: x.clone().index_fill_(0, loom.tensor([0]), BIG), [BIG]),
    ("scatter_", lambda x: x.clone().scatter_(0, loom.tensor([0]), BIG), [BIG]),
    ("arange", lambda x: loom.arange(BIG, BIG + 2), [BIG, BIG + 1]),
    ("arange down", lambda x: loom.arange(BIG + 3, BIG - 3, -2), [BIG + 3, BIG + 1, BIG - 1]),
    ("arange big step", lambda x: loom.arange(0, 2**62 + 1, 2**61 + 1), [0, 2**61 + 1]),
])
def test_int64_scalars_beyond_2_53_are_exact(name, call, expected):
    # A double holds ints exactly only up to 2^53; int64 ops take larger ones as exact int64 values.
    r = call(loom.tensor([0]))
    assert r.dtype in (loom.int64, loom.bool) and r.tolist() == expected


def test_arange_int64_bounds_are_compared_exactly():
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        loom.arange(BIG + 1, BIG, 1)  # as doubles both are 2^53
    assert loom.arange(BIG, BIG).tolist() == []


@pytest.mark.parametrize("fn, shape", [("lp_pool1d", (0, 3)), ("lp_pool2d", (1, 4, 4)), ("lp_pool3d", (1, 4, 4, 4))])
def test_lp_pool_norm_type_zero_or_not_a_number_raises(fn, shape):
    f = getattr(F, fn)
    for p in (0, 0.0, False):
        with pytest.raises(ValueError, match=f"{fn}: norm_type must be nonzero"):
            f(loom.ones(*shape), p, 2)
    with pytest.raises(TypeError, match="norm_type must be a number"):
        f(loom.ones(*shape), "2", 2)
    if fn == "lp_pool2d":
        np.testing.assert_allclose(f(loom.ones(1, 4, 4), loom.tensor(2.0), 2).numpy(), np.full((1, 2, 2), 2.0))


def test_var_and_std_of_a_constant_slice_are_exactly_zero():
    # The row pass shifts by the first element: sum / n would round (var 1e-32, a std gradient of order 1).
    a = loom.tensor([[-0.99421875]], dtype=loom.float64, requires_grad=True)
    x = a.expand(3, 3, 3)
    assert x.var().item() == 0.0 and x.std([], True, True).item() == 0.0
    assert x.contiguous().var(1).abs().max().item() == 0.0
    x.std().backward()
    assert a.grad.item() == 0.0
    assert loom.full((1000,), 0.1).var().item() == 0.0


def test_norm_of_negative_order():
    x = loom.tensor([1.0, 2.0, -4.0], dtype=loom.float64)
    np.testing.assert_allclose([x.norm(-1).item(), x.norm(-2).item(), x.norm(-0.5).item()],
                               [1 / (1 + 1 / 2 + 1 / 4), (1 + 1 / 4 + 1 / 16) ** -0.5, (1 + 2 ** -0.5 + 0.5) ** -2])
    assert x.norm(float("-inf")).item() == 1.0
    np.testing.assert_allclose(loom.linalg.vector_norm(x.reshape(3, 1), -1, dim=0).numpy(), [4 / 7])
    a = loom.tensor([[0.5, -1.5], [2.0, 0.25]], dtype=loom.float64, requires_grad=True)
    assert loom.autograd.gradcheck(lambda t: t.norm(-1.5, [1]), (a,))
    assert loom.autograd.gradcheck(lambda t: t.norm(float("-inf"), [0], keepdim=True), (a,))
    with pytest.raises(RuntimeError, match="empty tensor"):
        loom.zeros(0, 3).norm(-1, [0])
    assert loom.zeros(3, 0).norm(-1, [0]).shape == (0,)


def test_cross_entropy_refuses_a_weight_that_requires_grad():
    x = loom.randn(3, 4, requires_grad=True)
    w = loom.rand(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="cross_entropy: not differentiable with respect to argument 'weight'"):
        F.cross_entropy(x, loom.tensor([1, 0, 3]), w)
    F.cross_entropy(x, loom.tensor([1, 0, 3]), w.detach()).backward()
    with loom.no_grad():
        F.cross_entropy(x, loom.tensor([1, 0, 3]), w)


def test_gradcheck_of_empty_inputs():
    a = loom.zeros(0, 3, dtype=loom.float64, requires_grad=True)
    assert loom.autograd.gradcheck(lambda t: t.sin() * 2, (a,))
    assert loom.autograd.gradcheck(lambda t: t.sum(), (a,))


def test_conv_transpose1d_takes_ints_or_1_tuples():
    x, w = loom.randn(1, 2, 5), loom.randn(2, 3, 2)
    a = F.conv_transpose1d(x, w, None, (2,), (1,), (1,), 1, (1,))
    b = F.conv_transpose1d(x, w, None, 2, 1, 1, 1, 1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises((TypeError, ValueError, RuntimeError), match="conv_transpose1d"):
        F.conv_transpose1d(x, w, None, (2, 2))


def test_conv_transpose_1x1_with_output_padding_writes_every_output():
    # 1x1, stride 1, output_padding 1 (allowed by dilation 2): the padded row / column is zero (plus the bias).
    x, w, b = loom.ones(1, 2, 3), loom.ones(2, 3, 1), loom.tensor([0.5, -1.0, 2.0])
    for _ in range(3):
        y = F.conv_transpose1d(x, w, b, 1, 0, 1, 1, 2)
        np.testing.assert_array_equal(y.numpy()[0, :, -1], [0.5, -1.0, 2.0])
    x2 = loom.randn(2, 2, 3, 4, dtype=loom.float64, requires_grad=True)
    w2 = loom.randn(2, 3, 1, 1, dtype=loom.float64, requires_grad=True)
    assert loom.autograd.gradcheck(lambda a, k: F.conv_transpose2d(a, k, None, 1, 0, (1, 1), 1, 2), (x2, w2))


def test_rnn_cells_read_strided_biases():
    # The biases went to the kernels as raw pointers: an expanded or strided one was read past its end.
    D = loom.float64
    x, h, c = loom.randn((2, 3), dtype=D), loom.randn((2, 2), dtype=D), loom.randn((2, 2), dtype=D)
    b = loom.randn((1,), dtype=D)
    for cell, g in ((loom.gru_cell, 3), (loom.rnn_tanh_cell, 1), (loom.rnn_relu_cell, 1), (loom.lstm_cell, 4)):
        wi, wh = loom.randn((g * 2, 3), dtype=D), loom.randn((g * 2, 2), dtype=D)
        strided = loom.randn((g * 4,), dtype=D)[::2]
        state = (h, c) if cell is loom.lstm_cell else h
        for bias in (b.expand(g * 2), strided):
            got = cell(x, state, wi, wh, bias, bias)
            want = cell(x, state, wi, wh, bias.contiguous(), bias.contiguous())
            for u, v in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
                np.testing.assert_array_equal(u.numpy(), v.numpy())
    bb = b.clone().requires_grad_()
    assert loom.autograd.gradcheck(lambda t: loom.gru_cell(x, h, loom.ones((6, 3), dtype=D), loom.ones((6, 2), dtype=D) * 0.1,
                                                          t.expand(6), None), (bb,))


def test_nan_bounds_of_clamp_and_hardtanh_give_nan():
    # PyTorch's clamp is min(max(x, lo), hi) with NaN-propagating max / min: a NaN bound gives NaN.
    nan = math.nan
    x = loom.tensor([1.0, -3.0, 0.5])
    for r in (x.clamp(min=nan), x.clamp(max=nan), x.clamp(0.0, nan), x.clamp_min(nan), x.clip(nan, 1.0),
              loom.tensor([1, 2]).clamp(min=nan), F.hardtanh(x, nan, 1.0), F.hardtanh(x, -1.0, nan)):
        assert all(math.isnan(v) for v in r.tolist())
    assert x.clamp(2.0, 1.0).tolist() == [1.0, 1.0, 1.0]  # lo > hi gives hi
    assert F.hardtanh(loom.tensor([nan, 2.0]), -1.0, 1.0).tolist()[1] == 1.0
