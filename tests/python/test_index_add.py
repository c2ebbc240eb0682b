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
    with pytest.raises(IndexError):
        x.index_fill(0, loom.tensor([[0]]), 1.0)
    with pytest.raises(IndexError):
        x.index_fill(0, loom.tensor([0]), loom.ones(2))


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
