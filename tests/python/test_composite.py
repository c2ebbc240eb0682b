"""The PyTorch functions composed in python/loom/_composite.py against NumPy: shapes (movedim, tile, roll,
diff, broadcast_to, *_as), matrices (tril, triu, diagonal, diag, trace, outer, dot, mv, addmm, baddbmm),
pointwise helpers, reductions (count_nonzero, aminmax, var_mean, std_mean, dist), stacking and meshgrid;
gradients where they are views or compositions; bad arguments."""
import numpy as np
import pytest

import loom
from loom.autograd import gradcheck, gradgradcheck

A = np.arange(24.0).reshape(2, 3, 4)
M = np.arange(12.0).reshape(3, 4)


def T(a):
    return loom.tensor(np.ascontiguousarray(a))


def eq(got, want):
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    assert tuple(got.shape) == np.shape(want)


def test_shapes():
    x = T(A)
    eq(x.movedim(0, -1), np.moveaxis(A, 0, -1))
    eq(loom.moveaxis(x, [0, 1], [2, 0]), np.moveaxis(A, [0, 1], [2, 0]))
    eq(x.tile((2,)), np.tile(A, (2,)))
    eq(loom.tile(x, (2, 1, 1, 2)), np.tile(A, (2, 1, 1, 2)))
    for shifts, dims in ((1, 2), (-5, None), ((1, 2), (0, 1)), (7, -1)):
        eq(x.roll(shifts, dims), np.roll(A, shifts, dims))
    eq(x.diff(), np.diff(A))
    eq(loom.diff(x, n=2, dim=1), np.diff(A, n=2, axis=1))
    eq(x.diff(dim=0, prepend=T(A[:1]), append=T(A[1:])), np.diff(A, axis=0, prepend=A[:1], append=A[1:]))
    eq(loom.broadcast_to(T(np.arange(4.0)), (3, 4)), np.broadcast_to(np.arange(4.0), (3, 4)))
    y = loom.zeros(4, 6)
    assert x.view_as(y).shape == (4, 6) and x.reshape_as(y).shape == (4, 6)
    assert T(np.arange(4.0)).expand_as(y[:, :4].t()).shape == (4, 4)
    with pytest.raises(RuntimeError, match="movedim"):
        x.movedim([0, 1], [0])
    with pytest.raises(RuntimeError, match="align"):
        x.roll((1, 2), 0)


@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3])
def test_triangles_and_diagonals(k):
    m = T(M)
    eq(m.tril(k), np.tril(M, k))
    eq(loom.triu(m, k), np.triu(M, k))
    eq(T(A).tril(k), np.tril(A, k))  # batched over the leading dims
    eq(m.diagonal(k), np.diagonal(M, k))
    eq(loom.diagonal(T(A), k, 2, 0), np.diagonal(A, k, 2, 0))
    eq(m.diag(k), np.diag(M, k))
    v = T(np.array([1.0, -2.0, 3.0]))
    eq(loom.diag(v, k), np.diag(v.numpy(), k))
    b = loom.tensor([[True, True], [True, True]])
    assert b.triu(k).dtype == loom.bool and b.triu(k).tolist() == np.triu(np.ones((2, 2), bool), k).tolist()


def test_matrix_products():
    m, v = T(M), T(np.array([1.0, 2.0, 3.0]))
    assert m.trace().item() == np.trace(M)
    eq(loom.outer(v, v), np.outer(v.numpy(), v.numpy()))
    eq(v.ger(v), np.outer(v.numpy(), v.numpy()))
    assert loom.dot(v, v).item() == 14.0 and v.vdot(v).item() == 14.0
    eq(m.t().mv(v), M.T @ v.numpy())
    c = T(np.ones((3, 3)))
    eq(loom.addmm(c, m, m.t(), beta=0.5, alpha=2.0), 0.5 + 2.0 * M @ M.T)
    eq(c.addmm(m, m.t()), 1.0 + M @ M.T)
    b = T(A)
    eq(loom.baddbmm(T(np.ones((2, 3, 3))), b, b.transpose(1, 2), alpha=0.5), 1.0 + 0.5 * A @ A.transpose(0, 2, 1))
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        loom.dot(m, v)
    with pytest.raises(RuntimeError, match="same dtype"):
        v.dot(v.float())
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        v.tril()
    with pytest.raises(RuntimeError, match="trace"):
        T(A).trace()


def test_gradients():
    x = loom.tensor(M + 0.5, dtype=loom.float64, requires_grad=True)
    assert gradcheck(lambda t: t.diagonal(1) * 2, (x,))
    assert gradcheck(lambda t: t.tril(-1) + t.triu(2), (x,))
    assert gradcheck(lambda t: t.roll((1, -1), (0, 1)).diff(dim=0), (x,))
    assert gradgradcheck(lambda t: t.roll((1, -1), (0, 1)) * t, (x,))
    assert gradcheck(lambda t: t.roll(5) * 3, (x,))  # dims=None: the flattened tensor
    # roll's gradient is the gradient rolled back, whatever the shifts
    y = loom.tensor(M, dtype=loom.float64, requires_grad=True)
    g = np.arange(M.size, dtype=np.float64).reshape(M.shape)
    y.roll((7, -2), (0, 1)).backward(loom.tensor(g))
    np.testing.assert_array_equal(y.grad.numpy(), np.roll(g, (-7, 2), (0, 1)))
    assert gradcheck(lambda t: t.trace() + t[0].dot(t[1]), (x,))
    assert gradcheck(lambda t: loom.diag(t[0], 1), (x,))
    w = loom.tensor([0.3, 0.7, 0.1, 0.5], dtype=loom.float64, requires_grad=True)
    assert gradcheck(lambda t, u: t.lerp(u.expand(3, 4), 0.25) + t.addcmul(t, u, value=2) + t.addcdiv(u, u + 2),
                     (x, w))
    assert gradcheck(lambda u: u.logit() + u.deg2rad(), (w,))


def test_pointwise_helpers():
    p = T(np.array([0.25, 0.5, 0.9]))
    eq(p.logit(), np.log(p.numpy() / (1 - p.numpy())))
    eq(loom.logit(T(np.array([0.0, 1.0])), eps=1e-6), np.log(np.array([1e-6, 1 - 1e-6]) / (1 - np.array([1e-6, 1 - 1e-6]))))
    eq(p.rad2deg().deg2rad(), p.numpy())
    x = T(np.array([-1.5, 0.0, 2.0]))
    eq(loom.heaviside(x, T(np.array([0.5]))), np.heaviside(x.numpy(), 0.5))
    eq(loom.lerp(x, x * 3, 0.5), x.numpy() * 2)


def test_reductions():
    m = T(M)
    assert loom.count_nonzero(m).item() == 11 and m.count_nonzero(0).tolist() == [2, 3, 3, 3]
    r = loom.aminmax(m)
    assert r.min.item() == 0.0 and r.max.item() == 11.0
    mn, mx = m.aminmax(dim=1, keepdim=True)
    assert mn.shape == (3, 1) and mx.tolist() == [[3.0], [7.0], [11.0]]
    v, mean = loom.var_mean(m, 1)
    eq(v, M.var(1, ddof=1))
    eq(mean, M.mean(1))
    s, mean = m.std_mean(0, keepdim=True)
    eq(s, M.std(0, ddof=1, keepdims=True))
    eq(mean, M.mean(0, keepdims=True))
    s_all, mean_all = loom.std_mean(m)
    assert s_all.dim() == 0 and mean_all.item() == M.mean()
    assert loom.dist(m, m + 1).item() == pytest.approx(np.sqrt(12))
    assert m.dist(m + 1, 1).item() == 12.0


def test_stacking_and_meshgrid():
    v = T(np.array([1.0, 2.0, 3.0]))
    for fn in ("hstack", "vstack", "dstack", "column_stack"):
        eq(getattr(loom, fn)([v, v * 2]), getattr(np, fn)([v.numpy(), v.numpy() * 2]))
        eq(getattr(loom, fn)([T(M), T(M)]), getattr(np, fn)([M, M]))
    for fn in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for a in (np.array(5.0), np.arange(3.0), M, A):
            eq(getattr(loom, fn)(T(a)), getattr(np, fn)(a))
    for sizes in ([3, 2], [3, 2, 4], [5]):
        for indexing in ("ij", "xy"):
            got = loom.meshgrid(*[loom.arange(n) for n in sizes], indexing=indexing)
            want = np.meshgrid(*[np.arange(n) for n in sizes], indexing=indexing)
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g.numpy(), w)
    with pytest.raises(ValueError, match="indexing"):
        loom.meshgrid(v, v, indexing="yx")
