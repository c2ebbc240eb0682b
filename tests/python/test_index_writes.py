"""Writes through indices and strided views, and their gradients, against NumPy: x[idx] = v (one integer
index tensor: a row write), scatter (element numbers written in one pass), in-place writes through a view
of the whole tensor, and the gradient of as_strided views (diagonal) of a contiguous tensor."""
import numpy as np
import pytest

import loom


def _t(a, grad=False):
    return loom.tensor(np.asarray(a)).requires_grad_(grad)


def test_setitem_rows_with_one_index_tensor():
    a = np.arange(20.0).reshape(5, 4)
    x = _t(a.copy())
    x[loom.tensor([3, -1, 0])] = loom.tensor(np.full((3, 4), 7.0))
    want = a.copy()
    want[[3, -1, 0]] = 7.0
    np.testing.assert_array_equal(x.numpy(), want)
    x[loom.tensor([[1], [2]])] = 9.0  # any index shape; a number
    want[[[1], [2]]] = 9.0
    np.testing.assert_array_equal(x.numpy(), want)
    x[loom.tensor([1, 2])] = loom.tensor([1.0, 2.0, 3.0, 4.0])  # the value broadcasts over the rows
    want[[1, 2]] = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(x.numpy(), want)
    x[loom.tensor([], dtype=loom.int64)] = 5.0  # nothing written
    np.testing.assert_array_equal(x.numpy(), want)
    # a repeated row keeps its last write on the CPU
    y = loom.zeros(4)
    y[loom.tensor([1, 1, 3])] = loom.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(y.numpy(), [0, 2, 0, 3])
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 5"):
        x[loom.tensor([5])] = 1.0
    with pytest.raises(IndexError, match="index -6 is out of bounds"):
        x[loom.tensor([-6])] = 1.0
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[loom.tensor([0, 1])] = loom.ones(3, 4)


def test_setitem_rows_gradients():
    x = _t(np.zeros((4, 3)), grad=True)
    v = _t(np.ones((2, 3)), grad=True)
    y = x * 1.0
    y[loom.tensor([1, -1])] = v * 2.0
    (y * loom.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 2], [0, 0, 0], [6, 7, 8], [0, 0, 0]])
    np.testing.assert_array_equal(v.grad.numpy(), [[6, 8, 10], [18, 20, 22]])


def test_setitem_elements_through_several_indices():
    a = np.arange(12.0).reshape(3, 4)
    x = _t(a.copy(), grad=True)
    y = x * 1.0
    v = _t([5.0, 6.0], grad=True)
    y[loom.tensor([0, 2]), loom.tensor([1, 3])] = v
    want = a.copy()
    want[[0, 2], [1, 3]] = [5.0, 6.0]
    np.testing.assert_array_equal(y.detach().numpy(), want)
    y.sum().backward()
    g = np.ones((3, 4))
    g[[0, 2], [1, 3]] = 0
    np.testing.assert_array_equal(x.grad.numpy(), g)
    np.testing.assert_array_equal(v.grad.numpy(), [1, 1])
    z = _t(a.copy()).t()  # not contiguous: the general path
    z[loom.tensor([0, 3]), loom.tensor([2, 0])] = -1.0
    want_t = a.T.copy()
    want_t[[0, 3], [2, 0]] = -1.0
    np.testing.assert_array_equal(z.numpy(), want_t)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_scatter_matches_numpy_with_gradients(dim):
    rng = np.random.default_rng(dim + 5)
    a = rng.standard_normal((4, 5, 6))
    src = rng.standard_normal((4, 5, 6))
    ishape = [3, 4, 5]
    d = dim % 3
    # distinct targets along dim for each position (a permutation prefix), so the result is defined
    idx = np.empty(ishape, dtype=np.int64)
    for pos in np.ndindex(*[ishape[k] for k in range(3) if k != d]):
        perm = rng.permutation(a.shape[d])[: ishape[d]]
        sl = list(pos)
        sl.insert(d, slice(None))
        idx[tuple(sl)] = perm
    want = a.copy()
    for pos in np.ndindex(*ishape):
        tgt = list(pos)
        tgt[d] = idx[pos]
        want[tuple(tgt)] = src[pos]
    x, s = _t(a, grad=True), _t(src, grad=True)
    y = x.scatter(dim, loom.tensor(idx), s)
    np.testing.assert_array_equal(y.detach().numpy(), want)
    gy = rng.standard_normal(a.shape)
    y.backward(loom.tensor(gy))
    gx = gy.copy()
    gs = np.zeros_like(src)
    for pos in np.ndindex(*ishape):
        tgt = list(pos)
        tgt[d] = idx[pos]
        gx[tuple(tgt)] = 0.0
        gs[pos] = gy[tuple(tgt)]
    np.testing.assert_array_equal(x.grad.numpy(), gx)
    np.testing.assert_array_equal(s.grad.numpy(), gs)
    # a number
    yv = _t(a).scatter(dim, loom.tensor(idx), value=2.5)
    wv = a.copy()
    for pos in np.ndindex(*ishape):
        tgt = list(pos)
        tgt[d] = idx[pos]
        wv[tuple(tgt)] = 2.5
    np.testing.assert_array_equal(yv.numpy(), wv)


def test_scatter_errors_and_views():
    x = loom.zeros(3, 4)
    with pytest.raises(IndexError, match="index out of bounds"):
        x.scatter(1, loom.tensor([[4]]), loom.ones(1, 1))
    # a transposed self
    a = np.arange(12.0).reshape(3, 4)
    y = _t(a).t().scatter(0, loom.tensor([[1, 0, 2]]), loom.tensor([[7.0, 8.0, 9.0]]))
    want = a.T.copy()
    want[1, 0], want[0, 1], want[2, 2] = 7.0, 8.0, 9.0
    np.testing.assert_array_equal(y.numpy(), want)


def test_inplace_write_through_a_view_of_the_whole_tensor():
    x = _t(np.arange(6.0).reshape(2, 3), grad=True)
    y = x * 2.0
    v = _t([10.0, 20.0], grad=True)
    y.view(-1).index_copy_(0, loom.tensor([1, 4]), v)
    np.testing.assert_array_equal(y.detach().numpy(), [[0, 10, 4], [6, 20, 10]])
    (y * loom.tensor(np.arange(1.0, 7.0).reshape(2, 3))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 0, 6], [8, 0, 12]])
    np.testing.assert_array_equal(v.grad.numpy(), [2, 5])
    # through a reshape of the whole tensor too
    z = x * 1.0
    z.reshape(3, 2)[1].fill_(0.0)
    np.testing.assert_array_equal(z.detach().numpy(), [[0, 1, 0], [0, 4, 5]])


@pytest.mark.parametrize("offset", [0, 2, -1])
def test_diagonal_and_as_strided_gradients(offset):
    a = np.random.default_rng(3).standard_normal((4, 5))
    x = _t(a, grad=True)
    d = x.diagonal(offset)
    g = np.arange(1.0, d.shape[0] + 1)
    d.backward(loom.tensor(g))
    want = np.zeros_like(a)
    rows = np.arange(d.shape[0]) + max(0, -offset)
    want[rows, rows + offset] = g
    np.testing.assert_array_equal(x.grad.numpy(), want)
    # an overlapping as_strided view adds the gradients of the elements it repeats
    y = _t(np.arange(6.0), grad=True)
    w = y.as_strided((3, 2), (1, 1))  # rows [0, 1], [1, 2], [2, 3]
    w.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [1, 2, 2, 1, 0, 0])
    # a view of an offset piece of a contiguous tensor
    z = _t(np.arange(10.0), grad=True)
    z[2:].as_strided((2, 2), (3, 1), 3).sum().backward()  # elements 3, 4, 6, 7
    np.testing.assert_array_equal(z.grad.numpy(), [0, 0, 0, 1, 1, 0, 1, 1, 0, 0])
