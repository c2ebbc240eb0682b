"""index_add / index_copy / index_fill (and their in-place forms) against NumPy: dims, repeated indices,
alpha, 0-d value tensors, int32 indices, integer tensors, gradients, errors."""
import numpy as np
import pytest

import loom
from loom.autograd import gradcheck


def T(a):
    return loom.tensor(np.ascontiguousarray(a))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add_matches_numpy(rng, dim):
    x = rng.standard_normal((4, 5))
    idx = np.array([3, 0, 3]) if dim == 0 else np.array([4, 1, 1])
    src = rng.standard_normal((3, 5) if dim == 0 else (4, 3))
    want = x.copy()
    np.add.at(want, (idx,) if dim == 0 else (slice(None), idx), src * 2.5)
    np.testing.assert_allclose(loom.index_add(T(x), dim, T(idx), T(src), alpha=2.5).numpy(), want, atol=1e-12)
    y = T(x)
    assert y.index_add_(dim, T(idx.astype(np.int32)), T(src), alpha=2.5) is y
    np.testing.assert_allclose(y.numpy(), want, atol=1e-12)
    ints = T(np.zeros((4, 5), np.int64)).index_add(dim, T(idx), T(np.ones(src.shape, np.int64)))
    assert ints.dtype == loom.int64 and ints.sum().item() == 3 * (5 if dim == 0 else 4)


def test_index_copy_and_fill(rng):
    x = rng.standard_normal((3, 4))
    src = rng.standard_normal((3, 2))
    want = x.copy()
    want[:, [3, 0]] = src
    np.testing.assert_allclose(T(x).index_copy(1, T(np.array([3, 0])), T(src)).numpy(), want)
    y = T(x)
    y.index_copy_(1, T(np.array([3, 0])), T(src))
    np.testing.assert_allclose(y.numpy(), want)
    f = T(x).index_fill(0, T(np.array([2])), 7.0)
    want = x.copy()
    want[2] = 7.0
    np.testing.assert_allclose(f.numpy(), want)
    g = T(x).index_fill(1, T(np.array([0, 3])), loom.tensor(-1.0))
    assert g.numpy()[:, 0].tolist() == [-1.0] * 3 and g.numpy()[:, 3].tolist() == [-1.0] * 3
    b = loom.zeros(2, 3, dtype=loom.bool).index_fill(1, loom.tensor([1]), True)
    assert b.tolist() == [[False, True, False], [False, True, False]]


def test_gradients(rng):
    x = loom.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    s = loom.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    idx = loom.tensor([1, 3])
    assert gradcheck(lambda a, b: a.index_add(0, idx, b, alpha=0.5), (x, s))
    assert gradcheck(lambda a, b: a.index_copy(0, idx, b), (x, s))
    assert gradcheck(lambda a: a.index_fill(1, loom.tensor([2]), 3.0), (x,))


def test_errors():
    x = loom.zeros(3, 4)
    with pytest.raises(TypeError):
        x.index_add(0, loom.tensor([0.5]), loom.ones(1, 4))
    with pytest.raises(RuntimeError, match="source"):
        x.index_add(0, loom.tensor([0, 1]), loom.ones(3, 4))
    with pytest.raises(IndexError):
        x.index_add(2, loom.tensor([0]), loom.ones(1, 4))
    # PyTorch's error types: RuntimeError for index_fill's 2-d index and non-0-d value, IndexError for
    # index_add's and index_copy's 2-d index.
    with pytest.raises(RuntimeError, match="vector"):
        x.index_fill(0, loom.tensor([[0]]), 1.0)
    with pytest.raises(RuntimeError, match="0-dimensional"):
        x.index_fill(0, loom.tensor([0]), loom.ones(2))
    with pytest.raises(IndexError, match="vector"):
        x.index_add(0, loom.tensor([[0]]), loom.ones(1, 4))
    with pytest.raises(IndexError, match="vector"):
        x.index_copy(0, loom.tensor([[0]]), loom.ones(1, 4))
    with pytest.raises(RuntimeError, match="same scalar type"):
        x.index_add(0, loom.tensor([0]), loom.ones(1, 4, dtype=loom.float64))
    with pytest.raises(RuntimeError, match="Number of indices"):
        x.index_copy(0, loom.tensor([0, 1]), loom.ones(3, 4))
    with pytest.raises(RuntimeError, match="source tensor shape"):
        x.index_add(0, loom.tensor([0]), loom.ones(1, 5))
    # Out of range: IndexError naming the index; nothing written by the in-place forms.
    for call in (lambda: x.index_add_(0, loom.tensor([0, 3]), loom.ones(2, 4)),
                 lambda: x.index_add_(0, loom.tensor([-1]), loom.ones(1, 4)),
                 lambda: x.index_copy_(0, loom.tensor([1, -1]), loom.ones(2, 4)),
                 lambda: x.index_fill_(1, loom.tensor([0, -5]), 2.0),
                 lambda: x.index_fill_(1, loom.tensor([4]), 2.0)):
        with pytest.raises(IndexError, match="out of bounds"):
            call()
    assert x.abs().sum().item() == 0
    with pytest.raises(RuntimeError, match="overflow|convert"):
        loom.zeros(2, dtype=loom.int32).index_fill(0, loom.tensor([0]), 2**40)


def test_in_place_forms_write_through_views_and_keep_identity(rng):
    base = rng.standard_normal((5, 6))
    src = rng.standard_normal((6, 3))
    # A transposed (non-contiguous) self: the result is copied back into the view and so into its base.
    x = T(base)
    v = x.t()
    assert v.index_add_(1, loom.tensor([4, 0, 4]), T(src), alpha=-1.5) is v
    want = base.copy()
    np.add.at(want.T, (slice(None), np.array([4, 0, 4])), -1.5 * src)
    np.testing.assert_allclose(x.numpy(), want, atol=1e-12)
    # A contiguous narrow view along dim 0 (offset storage).
    x = T(base)
    row = x[2:4]
    row.index_fill_(1, loom.tensor([-1, 1]), -7.0)
    want = base.copy()
    want[2:4, [5, 1]] = -7.0
    np.testing.assert_allclose(x.numpy(), want)
    # The source overlapping self: read before the writes, as a copy.
    x = T(base)
    x.index_copy_(0, loom.tensor([1, 0, 4, 3, 2]), x[:5])
    want = base.copy()
    want[[1, 0, 4, 3, 2]] = base[:5]
    np.testing.assert_allclose(x.numpy(), want)


def test_repeated_index_copy_keeps_the_last_row_and_odd_shapes(rng):
    x = loom.zeros(3, 4)
    src = loom.arange(8.0).reshape(2, 4)
    assert x.index_copy(0, loom.tensor([1, 1]), src).tolist() == [[0] * 4, [4.0, 5.0, 6.0, 7.0], [0] * 4]
    # 0-d self and source, a 0-d index, empty index, 3-d along the middle dim.
    assert loom.tensor(1.0).index_add(0, loom.tensor(0), loom.tensor(2.0)).item() == 3.0
    assert loom.tensor(1.0).index_copy(0, loom.tensor([0]), loom.tensor([2.0])).item() == 2.0
    assert loom.tensor(1.0).index_fill(0, loom.tensor([-1]), 5.0).item() == 5.0
    assert loom.zeros(3).index_add(0, loom.tensor(1), loom.tensor([2.0])).tolist() == [0.0, 2.0, 0.0]
    assert loom.zeros(3).index_copy(0, loom.tensor([1]), loom.tensor(2.0)).tolist() == [0.0, 2.0, 0.0]
    assert loom.ones(2, 3).index_add(1, loom.tensor([], dtype=loom.int64), loom.ones(2, 0)).tolist() == [[1.0] * 3] * 2
    a = rng.standard_normal((3, 7, 5))
    idx = np.array([6, 0, 3, 6, 2, 2, 1, 0, 6])
    s = rng.standard_normal((3, 9, 5))
    want = a.copy()
    np.add.at(want, (slice(None), idx), s)
    np.testing.assert_allclose(T(a).index_add(1, T(idx), T(s)).numpy(), want, atol=1e-12)
    f32 = T(a.astype(np.float32)).index_add(-2, T(idx), T(s.astype(np.float32)), alpha=0.5).numpy()
    want = a.astype(np.float32).copy()
    np.add.at(want, (slice(None), idx), np.float32(0.5) * s.astype(np.float32))
    np.testing.assert_allclose(f32, want, rtol=1e-6, atol=1e-6)


def test_dtypes_bool_integers_and_exact_int64():
    b = loom.zeros(3, dtype=loom.bool).index_add(0, loom.tensor([0, 0, 2]), loom.tensor([False, True, False]))
    assert b.tolist() == [True, False, False]
    i = loom.zeros(3, dtype=loom.int64).index_add(0, loom.tensor([0, 0]), loom.ones(2, dtype=loom.int64), alpha=3)
    assert i.tolist() == [6, 0, 0]
    big = 2**53 + 1
    assert loom.zeros(2, dtype=loom.int64).index_fill(0, loom.tensor([1]), big).tolist() == [0, big]
    assert loom.zeros(2, dtype=loom.int64).index_fill(0, loom.tensor([1]), loom.tensor(big)).tolist() == [0, big]
    assert loom.zeros(3, dtype=loom.int64).index_fill(0, loom.tensor([0]), 2.7).tolist() == [2, 0, 0]
    assert loom.zeros(3, dtype=loom.bool).index_fill(0, loom.tensor([1]), 0.5).tolist() == [False, True, False]
    assert loom.zeros(2, 2, dtype=loom.int32).index_copy(1, loom.tensor([1], dtype=loom.int32),
                                                          loom.tensor([[3], [4]], dtype=loom.int32)).tolist() == \
        [[0, 3], [0, 4]]


def test_value_tensor_gradient_and_double_backward(rng):
    x = loom.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    v = loom.tensor(2.0, dtype=loom.float64, requires_grad=True)
    idx = loom.tensor([0, 0, 2])
    assert gradcheck(lambda a, b: a.index_fill(1, idx, b), (x, v))
    y = loom.zeros(3).index_fill(0, loom.tensor([0, 0, 1]), v.to(loom.float32))
    y.sum().backward()
    assert v.grad.item() == 2.0  # each filled element once, however often its index repeats
    s = loom.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    from loom.autograd import gradgradcheck
    assert gradgradcheck(lambda a, b: (a.index_add(1, loom.tensor([3, 1]), b, alpha=2.0) ** 2), (x, s))
    assert gradgradcheck(lambda a, b: (a.index_copy(1, loom.tensor([3, 1]), b) ** 2), (x, s))
    # In place under autograd: the history is the out-of-place op's.
    w = loom.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    z = w * 1.0
    z.index_add_(1, loom.tensor([0, 0]), s, alpha=3.0)
    z.sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), np.full((3, 2), 3.0))
    np.testing.assert_allclose(w.grad.numpy(), np.ones((3, 4)))
    with pytest.raises(RuntimeError):
        w.index_fill_(0, loom.tensor([0]), 1.0)  # a leaf that requires grad


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_matches_put_along_axis(rng, dim):
    x = rng.standard_normal((4, 5))
    # A permutation per row / column: no element written twice, so NumPy's result is the only one.
    idx = np.argsort(rng.standard_normal((4, 5)), axis=dim)[:3] if dim == 0 else \
        np.argsort(rng.standard_normal((4, 5)), axis=dim)[:, :3]
    src = rng.standard_normal((4, 5))
    want = x.copy()
    np.put_along_axis(want, idx, src[: idx.shape[0], : idx.shape[1]], axis=dim)
    np.testing.assert_allclose(T(x).scatter(dim, T(idx), T(src)).numpy(), want)
    np.testing.assert_allclose(loom.scatter(T(x), dim, T(idx), src=T(src)).numpy(), want)
    want_v = x.copy()
    np.put_along_axis(want_v, idx, -2.0, axis=dim)
    y = T(x)
    assert y.scatter_(dim, T(idx), -2.0) is y
    np.testing.assert_allclose(y.numpy(), want_v)
    np.testing.assert_allclose(T(x).scatter(dim, T(idx), value=loom.tensor(-2.0)).numpy(), want_v)
    add = T(x).scatter(dim, T(idx), T(src), reduce="add")
    np.testing.assert_allclose(add.numpy(), T(x).scatter_add(dim, T(idx), T(src[: idx.shape[0], : idx.shape[1]]))
                               .numpy())


def test_scatter_one_hot_gradients_and_errors(rng):
    labels = loom.tensor([[2], [0], [3]])
    assert loom.zeros(3, 4).scatter_(1, labels, 1.0).tolist() == [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
    x = loom.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    s = loom.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    idx = loom.tensor([[1, 3], [0, 2], [3, 1]])
    assert gradcheck(lambda a, b: a.scatter(1, idx, b), (x, s))
    with pytest.raises(RuntimeError, match="int64"):
        x.scatter(1, idx.to(loom.int32), s)
    with pytest.raises(IndexError):
        x.scatter(1, loom.tensor([[4]]), 1.0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.scatter(1, loom.tensor([1]), 1.0)
    with pytest.raises(RuntimeError, match="add or multiply"):
        x.scatter(1, idx, s, reduce="max")
    with pytest.raises(TypeError):
        x.scatter(1, idx)
    # A number an integer tensor cannot hold: an error naming scatter (PyTorch: "cannot be converted").
    with pytest.raises(RuntimeError, match=r"scatter\(\): value nan cannot be converted"):
        loom.zeros(3, dtype=loom.int64).scatter_(0, loom.tensor([0]), float("nan"))
    assert loom.zeros(3, dtype=loom.int64).scatter(0, loom.tensor([1]), 2.7).tolist() == [0, 2, 0]
