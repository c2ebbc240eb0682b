"""Op values against NumPy (contiguous, non-contiguous and broadcast inputs) and
every differentiable op's gradient against finite differences in float64."""
import math

import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import T, close


def noncontig(a):
    """A loom tensor with the values of `a` but transposed strides."""
    t = loom.tensor(np.ascontiguousarray(np.swapaxes(a, 0, -1))).transpose(0, -1)
    assert not t.is_contiguous() or a.ndim < 2 or min(a.shape) == 1
    return t


def erf(x):
    return np.vectorize(math.erf)(x)


UNARY = {
    "neg": np.negative,
    "abs": np.abs,
    "exp": np.exp,
    "log": lambda a: np.log(np.abs(a) + 0.5),
    "sqrt": lambda a: np.sqrt(np.abs(a) + 0.5),
    "rsqrt": lambda a: 1 / np.sqrt(np.abs(a) + 0.5),
    "reciprocal": lambda a: 1 / (np.abs(a) + 0.5),
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "relu": lambda a: np.maximum(a, 0),
    "silu": lambda a: a / (1 + np.exp(-a)),
    "square": np.square,
    "gelu": lambda a: 0.5 * a * (1 + erf(a / np.sqrt(2))),
    "sign": np.sign,
}
POSITIVE = {"log", "sqrt", "rsqrt", "reciprocal"}


def _prep(name, a):
    return np.abs(a) + 0.5 if name in POSITIVE else a


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("layout", ["contig", "noncontig"])
def test_unary_values(name, layout, rng):
    a = rng.standard_normal((3, 5)).astype(np.float32)
    x = T(a) if layout == "contig" else noncontig(a)
    ref = UNARY[name](a)
    xin = loom.abs(x) + 0.5 if name in POSITIVE else x
    close(getattr(xin, name)(), ref, rtol=1e-5, atol=1e-5)
    close(getattr(loom, name)(xin), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(set(UNARY) - {"sign"}))
def test_unary_gradients(name, rng):
    a = _prep(name, rng.standard_normal((2, 3)))
    if name in ("abs", "relu"):
        a = a + np.sign(a) * 0.1  # stay away from the kink
    x = T(a, requires_grad=True)
    assert gradcheck(lambda t: getattr(t, name)(), (x,))


def test_gelu_tanh(rng):
    a = rng.standard_normal(10)
    x = T(a, requires_grad=True)
    ref = 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3)))
    close(F.gelu(x, approximate="tanh"), ref)
    assert gradcheck(lambda t: F.gelu(t, approximate="tanh"), (x,))


BINARY = {
    "add": (np.add, lambda x, y: x + y),
    "sub": (np.subtract, lambda x, y: x - y),
    "mul": (np.multiply, lambda x, y: x * y),
    "div": (np.divide, lambda x, y: x / y),
    "pow": (np.power, lambda x, y: x**y),
    "maximum": (np.maximum, loom.maximum),
    "minimum": (np.minimum, loom.minimum),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3))])
def test_binary_values_broadcast(name, shapes, rng):
    a = rng.standard_normal(shapes[0])
    b = rng.standard_normal(shapes[1])
    if name == "pow":
        a = np.abs(a) + 0.5
    if name == "div":
        b = np.abs(b) + 0.5
    npf, lf = BINARY[name]
    close(lf(T(a), T(b)), npf(a, b), rtol=1e-6)
    close(getattr(T(a), name)(T(b)), npf(a, b), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_broadcast(name, rng):
    a = rng.standard_normal((2, 3))
    b = rng.standard_normal((3,))
    if name == "pow":
        a = np.abs(a) + 0.5
    if name == "div":
        b = np.abs(b) + 0.5
    if name in ("maximum", "minimum"):
        b = b + 3.0 * np.sign(b)  # no ties
    _, lf = BINARY[name]
    assert gradcheck(lf, (T(a, True), T(b, True)))


def test_binary_noncontiguous(rng):
    a = rng.standard_normal((4, 3))
    b = rng.standard_normal((4, 3))
    close(noncontig(a) + noncontig(b), a + b)
    close(noncontig(a) * T(b), a * b)
    x = T(rng.standard_normal((4, 6)))[:, ::2]
    close(x * 2, x.numpy() * 2)


def test_scalar_operands_and_reflected(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    x = T(a)
    close(x + 1, a + 1)
    close(1 + x, 1 + a)
    close(2 - x, 2 - a)
    close(x - 2, a - 2)
    close(3 * x, 3 * a)
    close(1 / (x.abs() + 1), 1 / (np.abs(a) + 1))
    close((x.abs() + 1) ** 0.5, (np.abs(a) + 1) ** 0.5)
    close(2 ** x, 2 ** a, rtol=1e-5)
    close(-x, -a)
    assert (x + 1).dtype == loom.float32
    i = loom.tensor([1, 2, 3])
    assert (i + 1).dtype == loom.int64 and (i * 1.5).dtype == loom.float32
    assert (i / 2).dtype == loom.float32
    assert (i + x[0]).dtype == loom.float32
    assert loom.tensor([1, 2], dtype=loom.int32).add(loom.tensor([1, 2])).dtype == loom.int64


def test_scalar_operand_gradients(rng):
    x = T(rng.standard_normal(4) + 3.0, True)
    assert gradcheck(lambda t: 2 - t, (x,))
    assert gradcheck(lambda t: 3 / t, (x,))
    assert gradcheck(lambda t: 2 ** t, (x,))
    assert gradcheck(lambda t: t ** 3 + t * 0.5 - 1, (x,))


def test_comparisons(rng):
    a = rng.integers(0, 3, (3, 4))
    b = rng.integers(0, 3, (4,))
    x, y = T(a), T(b)
    for op in ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"]:
        r = getattr(x, op)(y)
        assert r.dtype == loom.bool
        np.testing.assert_array_equal(r.numpy(), getattr(a, op)(b))
        np.testing.assert_array_equal(getattr(x, op)(1).numpy(), getattr(a, op)(1))
    np.testing.assert_array_equal((x == y).logical_not().numpy(), a != b)
    np.testing.assert_array_equal((1 < x).numpy(), 1 < a)
    assert x.eq(y).dtype == loom.bool


def test_clamp_where_masked_fill(rng):
    a = rng.standard_normal((3, 4))
    x = T(a)
    close(x.clamp(min=-0.5, max=0.5), np.clip(a, -0.5, 0.5))
    close(x.clamp(min=0), np.maximum(a, 0))
    close(x.clamp(max=0), np.minimum(a, 0))
    close(loom.clamp(x, -0.1, 0.1), np.clip(a, -0.1, 0.1))
    lo = rng.standard_normal((4,)) - 1
    close(x.clamp(min=T(lo)), np.maximum(a, lo))
    m = a > 0
    close(loom.where(T(m), x, T(-a)), np.where(m, a, -a))
    close(loom.where(T(m), x, 0.0), np.where(m, a, 0.0))
    close(loom.where(T(m), 1.0, x), np.where(m, 1.0, a))
    close(x.where(T(m), 2.0), np.where(m, a, 2.0))
    close(x.masked_fill(T(m), -1.0), np.where(m, -1.0, a))
    y = x.clone()
    y.masked_fill_(T(m), 0)
    close(y, np.where(m, 0, a))
    z = x.clone()
    z.clamp_(min=0)
    close(z, np.maximum(a, 0))


def test_clamp_where_masked_fill_gradients(rng):
    a = rng.standard_normal((3, 4))
    a = a + np.sign(a) * 0.05
    m = T(a > 0.3)
    assert gradcheck(lambda t: t.clamp(min=-0.5, max=0.5), (T(a, True),))
    assert gradcheck(lambda t, u: loom.where(m, t, u), (T(a, True), T(-a, True)))
    assert gradcheck(lambda t: t.masked_fill(m, 2.0), (T(a, True),))


def _np_dims(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


REDUCTIONS = {
    "sum": (np.sum, {}),
    "mean": (np.mean, {}),
    "prod": (np.prod, {}),
    "amax": (np.amax, {}),
    "amin": (np.amin, {}),
    "logsumexp": (lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)), {}),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_values(name, dim, keepdim, rng):
    if name == "logsumexp" and dim is None:
        dim = (0, 1, 2)
    a = rng.standard_normal((2, 3, 4))
    npf, _ = REDUCTIONS[name]
    ref = npf(a, axis=_np_dims(dim), keepdims=keepdim)
    x = noncontig(a)
    r = getattr(x, name)(dim=dim, keepdim=keepdim) if dim is not None else getattr(x, name)()
    if dim is None and keepdim:
        r = getattr(x, name)(dim=(0, 1, 2), keepdim=True)
    if dim is None and not keepdim:
        assert r.dim() == 0
    close(r, ref, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_gradients(name, rng):
    a = rng.standard_normal((2, 3, 4))
    assert gradcheck(lambda t: getattr(t, name)(dim=(0, 2)), (T(a, True),))
    assert gradcheck(lambda t: getattr(t, name)(dim=1, keepdim=True), (T(a, True),))
    if name != "logsumexp":
        assert gradcheck(lambda t: getattr(t, name)(), (T(a, True),))


@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_var_std(dim, rng):
    a = rng.standard_normal((4, 5))
    x = T(a)
    ax = _np_dims(dim)
    close(x.var(dim), np.var(a, axis=ax, ddof=1))
    close(x.var(dim, unbiased=False), np.var(a, axis=ax))
    close(x.std(dim), np.std(a, axis=ax, ddof=1))
    close(x.std(dim, correction=0), np.std(a, axis=ax))
    close(x.var(dim, correction=2), np.var(a, axis=ax, ddof=2))
    close(x.std(dim, keepdim=True) if dim is not None else x.std(), np.std(a, axis=ax, ddof=1, keepdims=dim is not None))
    assert gradcheck(lambda t: t.var(dim), (T(a, True),))
    assert gradcheck(lambda t: t.std(dim, unbiased=False), (T(a, True),))


def test_norm(rng):
    a = rng.standard_normal((3, 4))
    x = T(a)
    close(x.norm(), np.linalg.norm(a))
    close(x.norm(dim=1), np.linalg.norm(a, axis=1))
    close(x.norm(p=1, dim=0, keepdim=True), np.abs(a).sum(0, keepdims=True))
    close(loom.norm(x, 3), (np.abs(a) ** 3).sum() ** (1 / 3))
    assert gradcheck(lambda t: t.norm(dim=1), (T(a, True),))
    assert gradcheck(lambda t: t.norm(p=3), (T(a, True),))


def test_max_min_argmax(rng):
    a = rng.standard_normal((3, 5))
    x = noncontig(a)
    assert x.max().item() == a.max() and x.min().item() == a.min()
    r = x.max(dim=1)
    close(r.values, a.max(1))
    np.testing.assert_array_equal(r.indices.numpy(), a.argmax(1))
    v, i = x.min(0, keepdim=True)
    close(v, a.min(0, keepdims=True))
    np.testing.assert_array_equal(i.numpy(), a.argmin(0)[None])
    assert x.argmax().item() == a.argmax() and x.argmin().item() == a.argmin()
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), a.argmax(1))
    np.testing.assert_array_equal(x.argmin(dim=0, keepdim=True).numpy(), a.argmin(0)[None])
    close(x.max(T(np.zeros((3, 5)))), np.maximum(a, 0))
    assert gradcheck(lambda t: t.max(dim=1).values, (T(a, True),))
    assert gradcheck(lambda t: t.max(), (T(a, True),))
    assert gradcheck(lambda t: t.min(dim=0)[0], (T(a, True),))


def test_sum_dtype_and_int_reductions():
    i = loom.tensor([[1, 2], [3, 4]])
    assert i.sum().item() == 10 and i.sum().dtype == loom.int64
    assert i.sum(dtype=loom.float64).dtype == loom.float64
    b = loom.tensor([True, True, False])
    assert b.sum().item() == 2
    assert loom.tensor([1.0, 2.0]).mean().item() == 1.5


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 2))])
def test_matmul(shapes, rng):
    a = rng.standard_normal(shapes[0])
    b = rng.standard_normal(shapes[1])
    close(T(a) @ T(b), a @ b, rtol=1e-10)
    close(loom.matmul(T(a), T(b)), a @ b, rtol=1e-10)
    assert gradcheck(lambda x, y: x @ y, (T(a, True), T(b, True)))


def test_mm_bmm_noncontig(rng):
    a = rng.standard_normal((5, 3))
    b = rng.standard_normal((4, 5))
    close(noncontig(a).t().mm(noncontig(b).t()), a.T @ b.T)
    c = rng.standard_normal((2, 3, 4)).astype(np.float32)
    d = rng.standard_normal((2, 4, 5)).astype(np.float32)
    close(T(c).bmm(T(d)), c @ d, rtol=1e-5, atol=1e-5)
    assert gradcheck(lambda x, y: x.bmm(y), (T(c.astype(np.float64), True), T(d.astype(np.float64), True)))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax(dim, rng):
    a = rng.standard_normal((3, 4, 5))
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    sm = e / e.sum(axis=dim, keepdims=True)
    x = noncontig(a)
    close(x.softmax(dim), sm)
    close(F.softmax(x, dim=dim), sm)
    close(F.log_softmax(x, dim), np.log(sm))
    close(loom.log_softmax(x, dim), np.log(sm))
    assert gradcheck(lambda t: t.softmax(dim), (T(a, True),))
    assert gradcheck(lambda t: t.log_softmax(dim), (T(a, True),))


def test_activations_functional(rng):
    a = rng.standard_normal((4, 3))
    x = T(a)
    close(F.relu(x), np.maximum(a, 0))
    close(F.sigmoid(x), 1 / (1 + np.exp(-a)))
    close(F.tanh(x), np.tanh(a))
    close(F.silu(x), a / (1 + np.exp(-a)))
    y = x.clone()
    F.relu(y, inplace=True)
    close(y, np.maximum(a, 0))


def test_index_ops(rng):
    a = rng.standard_normal((4, 5))
    x = T(a)
    idx = np.array([3, 0, 3])
    close(x.index_select(0, T(idx)), a[idx])
    close(x.index_select(1, T(idx)), a[:, idx])
    g = rng.integers(0, 5, (4, 2))
    close(x.gather(1, T(g)), np.take_along_axis(a, g, 1))
    src = rng.standard_normal((4, 2))
    ref = np.zeros((4, 5))
    for i in range(4):
        for j in range(2):
            ref[i, g[i, j]] += src[i, j]
    close(loom.zeros(4, 5, dtype=loom.float64).scatter_add(1, T(g), T(src)), ref)
    z = loom.zeros(4, 5, dtype=loom.float64)
    z.scatter_add_(1, T(g), T(src))
    close(z, ref)
    m = a > 0
    close(x.masked_select(T(m)), a[m])
    np.testing.assert_array_equal(x.gt(0).nonzero().numpy(), np.argwhere(m))
    rows, cols = x.gt(0).nonzero(as_tuple=True)
    np.testing.assert_array_equal(rows.numpy(), np.nonzero(m)[0])
    assert gradcheck(lambda t: t.index_select(0, T(idx)), (T(a, True),))
    assert gradcheck(lambda t: t.gather(1, T(g)), (T(a, True),))
    assert gradcheck(lambda t, s: t.scatter_add(1, T(g), s), (T(a, True), T(src, True)))
    assert gradcheck(lambda t: t.masked_select(T(m)), (T(a, True),))


def test_indexing_gradients(rng):
    a = rng.standard_normal((4, 5))
    m = T(a > 0)
    assert gradcheck(lambda t: t[1:3, ::2], (T(a, True),))
    assert gradcheck(lambda t: t[None, 2, ..., 1], (T(a, True),))
    assert gradcheck(lambda t: t[[0, 0, 3]], (T(a, True),))
    assert gradcheck(lambda t: t[m], (T(a, True),))


def test_view_gradients(rng):
    a = rng.standard_normal((2, 3, 4))
    for fn in [lambda t: t.view(6, 4), lambda t: t.reshape(4, 6), lambda t: t.permute(2, 0, 1),
               lambda t: t.transpose(0, 2), lambda t: t.narrow(1, 1, 2), lambda t: t.select(2, 3),
               lambda t: t.unsqueeze(0).squeeze(0), lambda t: t.flatten(1), lambda t: t[:, :1].expand(2, 3, 4),
               lambda t: t.split(2, dim=2)[1], lambda t: t.chunk(3, 1)[2], lambda t: t.unbind(0)[1],
               lambda t: t.unflatten(2, (2, 2)), lambda t: t.contiguous(), lambda t: t.clone(),
               lambda t: t.transpose(0, 1).contiguous().view(-1)]:
        assert gradcheck(fn, (T(a, True),))


def test_cat_stack(rng):
    a = rng.standard_normal((2, 3))
    b = rng.standard_normal((4, 3))
    close(loom.cat([T(a), T(b)]), np.concatenate([a, b]))
    close(loom.cat((T(a), T(b[:2])), dim=1), np.concatenate([a, b[:2]], 1))
    close(loom.stack([T(a), T(b[:2])], dim=1), np.stack([a, b[:2]], 1))
    assert gradcheck(lambda x, y: loom.cat([x, y], 0), (T(a, True), T(b, True)))
    assert gradcheck(lambda x, y: loom.stack([x, y], 2), (T(a, True), T(b[:2], True)))


def test_one_hot():
    i = loom.tensor([0, 2, 1])
    r = loom.one_hot(i, 4)
    assert r.dtype == loom.int64
    np.testing.assert_array_equal(r.numpy(), np.eye(4, dtype=np.int64)[[0, 2, 1]])
    np.testing.assert_array_equal(F.one_hot(i).numpy(), np.eye(3, dtype=np.int64)[[0, 2, 1]])


def test_free_function_aliases(rng):
    a = rng.standard_normal((2, 3))
    x = T(a)
    close(loom.sum(x, 1), a.sum(1))
    close(loom.mean(x), a.mean())
    close(loom.exp(x), np.exp(a))
    close(loom.add(x, x), 2 * a)
    close(loom.softmax(x, 1), np.exp(a) / np.exp(a).sum(1, keepdims=True))
    close(loom.transpose(x, 0, 1), a.T)
    assert loom.broadcast_shapes((2, 1), (3,)) == (2, 3)


def test_flip_repeat_any_all(rng):
    a = rng.standard_normal((2, 3))
    x = T(a)
    close(x.flip(1), a[:, ::-1])
    close(x.repeat(2, 1), np.tile(a, (2, 1)))
    assert (x > 100).any().item() is False and (x < 100).all().item() is True
