"""Scans (cumsum, cumprod, cummax, cummin) and sorts (sort, argsort, topk) with the compositions over them
(msort, kthvalue, median, searchsorted, bucketize, cumsum_, cumprod_) against NumPy: dtypes, dims, strided
inputs, NaN, ties, 0-d and empty inputs, named tuples, gradients, bad arguments, and CUDA against the CPU."""
import numpy as np
import pytest

import loom
from loom.autograd import gradcheck

from _helpers import requires_cuda

DTYPES = [(loom.float32, np.float32), (loom.float64, np.float64), (loom.int32, np.int32),
          (loom.int64, np.int64), (loom.bool, np.bool_)]


def T(a, dtype=None):
    t = loom.tensor(np.ascontiguousarray(a))
    return t if dtype is None else t.to(dtype)


def sample(rng, shape, ndt):
    if ndt == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if np.issubdtype(ndt, np.integer):
        return rng.integers(-3, 4, shape).astype(ndt)  # many ties
    return rng.standard_normal(shape).astype(ndt)


@pytest.mark.parametrize("ldt,ndt", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_cumprod_match_numpy(rng, ldt, ndt, dim):
    a = sample(rng, (4, 6), ndt)
    if ndt in (np.float32, np.float64):
        a = (a * 0.5 + 1).astype(ndt)  # products stay in range
    out_dt = ndt if ndt in (np.float32, np.float64) else np.int64  # bool and int32 give int64, as in PyTorch
    got = T(a).cumsum(dim).numpy()
    assert got.dtype == out_dt
    np.testing.assert_allclose(got, np.cumsum(a, axis=dim, dtype=out_dt), rtol=1e-5)
    np.testing.assert_allclose(loom.cumprod(T(a), dim).numpy(), np.cumprod(a, axis=dim, dtype=out_dt), rtol=1e-5)
    # a transposed (strided) input
    np.testing.assert_allclose(T(a).t().cumsum(dim).numpy(), np.cumsum(a.T, axis=dim, dtype=out_dt), rtol=1e-5)


def test_cumsum_dtype_keyword_and_in_place():
    a = np.arange(1, 7).reshape(2, 3)
    assert T(a).cumsum(1, dtype=loom.float64).dtype == loom.float64
    assert loom.cumsum(T(a), dim=0, dtype=loom.int32).dtype == loom.int32
    x = T(a.astype(np.float32))
    assert x.cumsum_(1) is x
    np.testing.assert_array_equal(x.numpy(), np.cumsum(a, 1))
    y = T(a.astype(np.float32)).cumprod_(0)
    np.testing.assert_array_equal(y.numpy(), np.cumprod(a, 0))
    with pytest.raises(TypeError):
        T(a).cumsum(0, dtype=loom.bool)
    with pytest.raises(IndexError):
        T(a).cumsum(2)
    with pytest.raises(TypeError):
        T(a).cumsum("0")
    with pytest.raises(TypeError):
        T(a).cumsum()  # dim is required, as in PyTorch


def test_cummax_cummin_ties_nan_and_tuples():
    x = loom.tensor([1.0, 3.0, 2.0, 3.0, float("nan"), 5.0])
    r = x.cummax(0)
    assert type(r).__name__ == "cummax" and r._fields == ("values", "indices")
    np.testing.assert_array_equal(r.values.numpy(), [1, 3, 3, 3, np.nan, np.nan])
    assert r.indices.tolist() == [0, 1, 1, 3, 4, 4]
    v, i = loom.cummin(loom.tensor([[2, 1], [1, 1], [3, 0]]), 0)
    assert v.tolist() == [[2, 1], [1, 1], [1, 0]] and i.tolist() == [[0, 0], [1, 1], [1, 2]]
    b = loom.tensor([False, True, False]).cummax(0)
    assert b.values.dtype == loom.bool and b.values.tolist() == [False, True, True]


@pytest.mark.parametrize("ldt,ndt", DTYPES)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_argsort_match_stable_numpy(rng, ldt, ndt, descending, dim):
    a = sample(rng, (5, 7), ndt)
    key = -a.astype(np.float64) if descending else a
    order = np.argsort(key, axis=dim, kind="stable")
    r = T(a).sort(dim, descending)
    assert type(r).__name__ == "sort" and r.values.dtype == ldt and r.indices.dtype == loom.int64
    np.testing.assert_array_equal(r.indices.numpy(), order)
    np.testing.assert_array_equal(r.values.numpy(), np.take_along_axis(a, order, dim))
    np.testing.assert_array_equal(loom.argsort(T(a), dim=dim, descending=descending, stable=True).numpy(), order)
    np.testing.assert_array_equal(T(a).t().argsort(dim, descending).numpy(),
                                  np.argsort(-a.T.astype(np.float64) if descending else a.T, axis=dim, kind="stable"))


def test_sort_nan_order_and_edge_shapes():
    x = loom.tensor([3.0, float("nan"), -1.0, float("nan"), 2.0])
    assert x.sort().indices.tolist() == [2, 4, 0, 1, 3]
    assert x.sort(descending=True).indices.tolist() == [1, 3, 0, 4, 2]
    assert x.topk(2).indices.tolist() == [1, 3]  # NaN counts as the largest
    s = loom.tensor(2.5).sort()
    assert s.values.dim() == 0 and s.indices.item() == 0
    assert loom.zeros(0, 3).sort(0).values.shape == (0, 3)
    assert loom.zeros(2, 0).cumsum(1).shape == (2, 0)
    assert loom.msort(loom.tensor([[3, 1], [1, 2]])).tolist() == [[1, 1], [3, 2]]


@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_numpy(rng, largest):
    a = rng.integers(-5, 6, (6, 40)).astype(np.float32)
    key = -a if largest else a
    order = np.argsort(key, axis=1, kind="stable")[:, :7]
    r = loom.topk(T(a), 7, dim=1, largest=largest)
    assert type(r).__name__ == "topk"
    np.testing.assert_array_equal(r.indices.numpy(), order)
    np.testing.assert_array_equal(r.values.numpy(), np.take_along_axis(a, order, 1))
    v0, i0 = T(a).topk(2, 0, largest)
    assert v0.shape == (2, 40)
    np.testing.assert_array_equal(i0.numpy(), np.argsort(-a if largest else a, axis=0, kind="stable")[:2])
    with pytest.raises(RuntimeError, match="topk"):
        T(a).topk(41)
    with pytest.raises(IndexError):
        T(a).topk(1, 2)


def test_kthvalue_and_median(rng):
    a = rng.standard_normal((5, 8))
    v, i = T(a).kthvalue(3, 1)
    np.testing.assert_allclose(v.numpy(), np.sort(a, 1)[:, 2])
    np.testing.assert_array_equal(i.numpy(), np.argsort(a, 1, kind="stable")[:, 2])
    assert loom.kthvalue(T(a), 2, 0, keepdim=True).values.shape == (1, 8)
    with pytest.raises(IndexError):
        T(a).kthvalue(9, 1)
    m = T(a).median(1)
    assert type(m).__name__ == "median"
    np.testing.assert_allclose(m.values.numpy(), np.sort(a, 1)[:, 3])  # the lower of the two middle values
    np.testing.assert_allclose(T(a[:, :7]).median().item(), np.median(a[:, :7]))
    b = a.copy()
    b[1, 5] = np.nan
    mb = T(b).median(1)
    assert np.isnan(mb.values.numpy()[1]) and mb.indices.tolist()[1] == 5
    assert np.isnan(T(b).median().item())
    assert loom.tensor([3, 1, 2]).median().item() == 2


@pytest.mark.parametrize("ndt", [np.float32, np.int64, np.bool_])
def test_unique_matches_numpy(rng, ndt):
    a = rng.integers(-3, 4, (4, 9)).astype(ndt)
    vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
    got = loom.unique(T(a), return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(got[0].numpy(), vals)
    np.testing.assert_array_equal(got[1].numpy(), inv.reshape(a.shape))
    np.testing.assert_array_equal(got[2].numpy(), counts)
    assert got[1].dtype == loom.int64 and got[2].dtype == loom.int64
    np.testing.assert_array_equal(T(a).unique().numpy(), vals)
    rows = np.repeat(a[:3], 2, axis=0)
    rv, ri, rc = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    g = T(rows).unique(dim=0, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(g[0].numpy(), rv)
    np.testing.assert_array_equal(g[1].numpy(), ri.reshape(-1))
    np.testing.assert_array_equal(g[2].numpy(), rc)
    np.testing.assert_array_equal(T(rows.T).unique(dim=1).numpy(), np.unique(rows.T, axis=1))


def test_unique_consecutive_and_edges():
    x = loom.tensor([1, 1, 2, 2, 3, 1, 1])
    v, inv, c = loom.unique_consecutive(x, return_inverse=True, return_counts=True)
    assert v.tolist() == [1, 2, 3, 1] and inv.tolist() == [0, 0, 1, 1, 2, 3, 3] and c.tolist() == [2, 2, 1, 2]
    assert loom.tensor([[1, 2], [1, 2], [0, 1]]).unique_consecutive(dim=0).tolist() == [[1, 2], [0, 1]]
    e = loom.tensor([]).unique(return_counts=True)
    assert e[0].shape == (0,) and e[1].shape == (0,)
    s, si = loom.tensor(5).unique(return_inverse=True)
    assert s.tolist() == [5] and si.dim() == 0
    nan = loom.tensor([float("nan"), 1.0, float("nan")]).unique(return_counts=True)
    assert nan[1].tolist() == [1, 1, 1]  # each NaN is distinct, as in PyTorch
    with pytest.raises(IndexError):
        x.unique(dim=1)


def test_searchsorted_and_bucketize():
    seq = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    vals = np.array([[3.0, 6.0, 9.0], [0.0, 10.0, 5.0]])
    for right in (False, True):
        got = loom.searchsorted(T(seq), T(vals), right=right)
        np.testing.assert_array_equal(got.numpy(), np.searchsorted(seq, vals, side="right" if right else "left"))
        np.testing.assert_array_equal(loom.bucketize(T(vals), T(seq), right=right).numpy(),
                                      np.searchsorted(seq, vals, side="right" if right else "left"))
    rows = np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])
    got = loom.searchsorted(T(rows), T(np.array([[3.0, 4.0], [3.0, 7.0]])), side="right")
    assert got.tolist() == [[2, 2], [1, 3]]
    assert loom.searchsorted(T(seq), 6.0).item() == 3
    assert loom.searchsorted(T(seq), T(vals), out_int32=True).dtype == loom.int32
    with pytest.raises(RuntimeError):
        loom.searchsorted(T(rows), T(np.zeros((3, 2))))
    with pytest.raises(ValueError):
        loom.searchsorted(T(seq), 1.0, side="middle")


def test_searchsorted_kernel_against_numpy():
    # Binary search as NumPy's (and PyTorch's): a NaN value lands after every boundary; ties go left or
    # right; integer boundaries with float values compare in the promoted type; strided inputs; sorter.
    rng = np.random.default_rng(3)
    for n in (0, 1, 6, 1000):
        seq = np.sort(rng.integers(0, 8, n)).astype(np.float64)
        vals = rng.integers(-1, 9, (4, 37)).astype(np.float64) + rng.choice([0.0, 0.5], (4, 37))
        vals[0, :3] = np.nan
        for right in (False, True):
            side = "right" if right else "left"
            for lt, nt in ((loom.float32, np.float32), (loom.float64, np.float64)):
                got = loom.searchsorted(T(seq, lt), T(vals, lt), right=right).numpy()
                np.testing.assert_array_equal(got, np.searchsorted(seq.astype(nt), vals.astype(nt), side=side))
            ints = loom.searchsorted(T(seq, loom.int64), T(vals), right=right).numpy()  # promoted to float
            np.testing.assert_array_equal(ints, np.searchsorted(seq, vals, side=side))
            rows = np.sort(rng.standard_normal((4, n)), axis=1)
            got = loom.searchsorted(T(rows), T(vals), side=side).numpy()
            want = np.stack([np.searchsorted(rows[i], vals[i], side=side) for i in range(4)])
            np.testing.assert_array_equal(got, want)
    # Strided views, a sorter, a bool value among integer boundaries.
    base = T(np.sort(rng.standard_normal(20)))
    v = T(rng.standard_normal((5, 8))).t()
    np.testing.assert_array_equal(loom.searchsorted(base[::2], v).numpy(),
                                  np.searchsorted(base.numpy()[::2], v.numpy()))
    unsorted = T(np.array([5.0, 1.0, 3.0]))
    order = unsorted.argsort()
    assert loom.searchsorted(unsorted, T(np.array([2.0, 4.0])), sorter=order).tolist() == [1, 2]
    assert loom.searchsorted(T(np.array([0, 1, 2])), True).item() == 1
    with pytest.raises(RuntimeError, match="sorter"):
        loom.searchsorted(unsorted, 2.0, sorter=order.to(loom.int32))
    with pytest.raises(NotImplementedError, match="bool"):
        loom.searchsorted(T(np.array([False, True])), T(np.array([True])))
    with pytest.raises(TypeError):
        loom.searchsorted(base, "a")
    with pytest.raises(NotImplementedError, match="out="):
        loom.searchsorted(base, 1.0, out=loom.zeros(1, dtype=loom.int64))


@requires_cuda
def test_searchsorted_cuda_matches_cpu():
    rng = np.random.default_rng(4)
    seq = T(np.sort(rng.integers(0, 50, (3, 500)), axis=1).astype(np.float32))
    vals = T(rng.integers(-1, 52, (3, 1000)).astype(np.float32))
    for right in (False, True):
        want = loom.searchsorted(seq, vals, right=right)
        got = loom.searchsorted(seq.cuda(), vals.cuda(), right=right)
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_gradients():
    x = loom.tensor(np.random.default_rng(0).standard_normal((3, 5)), requires_grad=True)
    assert gradcheck(lambda t: t.cumsum(1), (x,))
    assert gradcheck(lambda t: t.cumprod(0), (x,))
    assert gradcheck(lambda t: t.cummax(1).values + t.cummin(0).values, (x,))
    assert gradcheck(lambda t: t.sort(1, descending=True).values, (x,))
    assert gradcheck(lambda t: t.topk(2, 0).values, (x,))
    assert gradcheck(lambda t: t.kthvalue(2, 1).values, (x,))
    assert gradcheck(lambda t: t.median(0).values, (x,))
    z = loom.tensor([2.0, 0.0, 3.0], requires_grad=True)  # cumprod's gradient through a zero
    z.cumprod(0).sum().backward()
    assert z.grad.tolist() == [1.0, 8.0, 0.0]
    assert not loom.tensor([1.0, 2.0], requires_grad=True).argsort().requires_grad


@requires_cuda
def test_cuda_matches_cpu(rng):
    for shape in [(3, 37), (2, 3000), (4, 300, 3)]:
        a = rng.standard_normal(shape).astype(np.float32)
        x, xc = T(a), T(a).cuda()
        np.testing.assert_allclose(xc.cumsum(1).cpu().numpy(), x.cumsum(1).numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(xc.cummax(1).indices.cpu().numpy(), x.cummax(1).indices.numpy())
        np.testing.assert_array_equal(xc.sort(1).indices.cpu().numpy(), x.sort(1).indices.numpy())
        np.testing.assert_array_equal(xc.topk(5, 1).indices.cpu().numpy(), x.topk(5, 1).indices.numpy())


def test_logcumsumexp_matches_numpy_and_is_differentiable_twice():
    from loom.autograd.gradcheck import gradgradcheck
    rng = np.random.default_rng(7)
    a = rng.standard_normal((4, 9)) * 300.0  # exp overflows: log space keeps it finite
    a[1, 3] = -np.inf
    for dim in (0, 1, -1):
        for dt in (loom.float64, loom.float32):
            got = loom.tensor(a, dtype=dt).logcumsumexp(dim).numpy()
            want = np.logaddexp.accumulate(a.astype(np.float64), axis=dim)
            assert np.allclose(got, want, rtol=1e-5 if dt == loom.float32 else 1e-12, atol=1e-4)
    assert loom.logcumsumexp(loom.tensor(2.5), 0).item() == 2.5
    x = loom.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    assert gradcheck(lambda t: loom.logcumsumexp(t, 1), (x,))
    assert gradgradcheck(lambda t: t.logcumsumexp(0) * t, (x,))
    # g with both signs and zeros: the gradient sums g_j exp(x_i - y_j) over j >= i.
    g = np.array([1.5, 0.0, -2.0, 0.5, -0.25])
    xv = x.detach()[0]
    xv.requires_grad_(True)
    y = xv.logcumsumexp(0)
    y.backward(loom.tensor(g))
    xn, yn = xv.detach().numpy(), y.detach().numpy()
    want = [sum(g[j] * np.exp(xn[i] - yn[j]) for j in range(i, 5)) for i in range(5)]
    assert np.allclose(xv.grad.numpy(), want, rtol=1e-12, atol=1e-12)
    with pytest.raises(TypeError, match="logcumsumexp"):
        loom.tensor([1, 2]).logcumsumexp(0)
    with pytest.raises(IndexError):
        x.logcumsumexp(2)

