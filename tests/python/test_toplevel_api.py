"""loom.testing (assert_close, make_tensor), PyTorch's top-level constants and the aten-signature forms of
ops loom.nn.functional has (torch.batch_norm, the losses' integer reduction, ...), torch.gradient.
Messages and values are PyTorch 2.15's, written out."""
import math

import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom.testing import assert_close, make_tensor


def _message(fn):
    with pytest.raises(AssertionError) as info:
        fn()
    return str(info.value)


# ---- assert_close ----

def test_assert_close_passes():
    assert_close(loom.tensor([1.0, 2.0]), loom.tensor([1.0, 2.0 + 1e-6]))
    assert_close(loom.tensor([1, 2]), loom.tensor([1, 2]))
    assert_close(loom.tensor([math.inf, -math.inf]), loom.tensor([math.inf, -math.inf]))
    assert_close(loom.tensor([math.nan]), loom.tensor([math.nan]), equal_nan=True)
    assert_close(loom.tensor([1.0]), loom.tensor([1.0], dtype=loom.float64), check_dtype=False)
    assert_close(loom.tensor([1.0]), loom.tensor([1.1]), rtol=0.0, atol=0.2)
    assert_close([loom.ones(2), (1, 2.0)], [loom.ones(2), (1, 2.0)])
    assert_close({"a": loom.ones(1), "b": [3]}, {"b": [3], "a": loom.ones(1)})
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    assert_close(1.0, 1.0 + 1e-9)
    assert_close(None, None)


def test_assert_close_float_message():
    msg = _message(lambda: assert_close(loom.tensor([1.0, 2.0, 3.0]), loom.tensor([1.0, 2.1, 3.0])))
    assert msg == ("Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n"
                   "Greatest absolute difference: 0.09999990463256836 at index (1,) (up to 1e-05 allowed)\n"
                   "Greatest relative difference: 0.04761900380253792 at index (1,) (up to 1.3e-06 allowed)")
    msg = _message(lambda: assert_close(loom.tensor([[1.0, 2.0], [3.0, 4.0]]), loom.tensor([[1.0, 2.0], [3.0, 5.0]])))
    assert "Mismatched elements: 1 / 4 (25.0%)" in msg and "at index (1, 1)" in msg
    assert "Greatest relative difference: 0.20000000298023224 at index (1, 1)" in msg


def test_assert_close_exact_messages():
    assert _message(lambda: assert_close(loom.tensor([1, 2, 3]), loom.tensor([1, 2, 4]))) == (
        "Tensor-likes are not equal!\n\nMismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 1 at index (2,)\nGreatest relative difference: 0.25 at index (2,)")
    assert _message(lambda: assert_close(loom.tensor([True, False]), loom.tensor([True, True]))) == (
        "Tensor-likes are not equal!\n\nMismatched elements: 1 / 2 (50.0%)\n"
        "Greatest absolute difference: 1 at index (1,)\nGreatest relative difference: 1.0 at index (1,)")


def test_assert_close_attribute_messages():
    assert _message(lambda: assert_close(loom.ones(2), loom.ones(3))) == (
        "The values for attribute 'shape' do not match: loom.Size([2]) != loom.Size([3]).")
    assert _message(lambda: assert_close(loom.ones(2), loom.ones(2, dtype=loom.float64))) == (
        "The values for attribute 'dtype' do not match: loom.float32 != loom.float64.")
    a = loom.ones(2, 2)
    assert "stride()" in _message(lambda: assert_close(a.t().contiguous(), a.t(), check_stride=False)
                                  or assert_close(a[:, :1], loom.ones(2, 1), check_stride=True))


def test_assert_close_scalars_and_containers():
    assert _message(lambda: assert_close(1.0, 1.1)) == (
        "Scalars are not close!\n\nExpected 1.1 but got 1.0.\nAbsolute difference: 0.10000000000000009 "
        "(up to 1e-07 allowed)\nRelative difference: 0.09090909090909098 (up to 1e-07 allowed)")
    assert _message(lambda: assert_close(1, 2)) == (
        "Scalars are not equal!\n\nExpected 2 but got 1.\nAbsolute difference: 1\nRelative difference: 0.5")
    assert _message(lambda: assert_close(1, 1.0)) == "The (d)types do not match: <class 'int'> != <class 'float'>."
    msg = _message(lambda: assert_close([loom.ones(2), loom.zeros(2)], [loom.ones(2), loom.ones(2)]))
    assert msg.startswith("Tensor-likes are not close!") and msg.endswith("\n\nThe failure occurred for item [1]")
    assert _message(lambda: assert_close({"a": loom.ones(1)}, {"b": loom.ones(1)})) == (
        "The keys of the mappings do not match:\nMissing keys in the actual mapping: ['b']\n"
        "Additional keys in the actual mapping: ['a']")
    assert _message(lambda: assert_close([1, 2], [1, 2, 3])) == "The length of the sequences mismatch: 2 != 3"


def test_assert_close_nan_and_custom_messages():
    msg = _message(lambda: assert_close(loom.tensor([math.nan]), loom.tensor([math.nan])))
    assert "Greatest absolute difference: nan at index (0,)" in msg
    assert _message(lambda: assert_close(loom.tensor([1.0]), loom.tensor([2.0]), msg="custom")) == "custom"
    assert _message(lambda: assert_close(loom.tensor([1.0]), loom.tensor([2.0]),
                                         msg=lambda m: "X" + m[:10])) == "XTensor-lik"


def test_assert_close_type_errors():
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted, but got no atol"):
        assert_close(loom.ones(1), loom.ones(1), rtol=1e-3)
    for a, e in ((loom.tensor(1.0), 1.0), ("a", "a"), (loom.ones(2), np.ones(2))):
        with pytest.raises(TypeError, match="No comparison pair was able to handle inputs"):
            assert_close(a, e)


def test_make_tensor():
    loom.manual_seed(0)
    t = make_tensor(3, 4, dtype=loom.float32, device="cpu")
    assert t.shape == (3, 4) and t.dtype == loom.float32
    assert -9 <= t.min().item() and t.max().item() < 9
    t = make_tensor((50,), dtype=loom.int64, device="cpu", low=-2, high=3)
    assert set(t.tolist()) <= {-2, -1, 0, 1, 2} and len(set(t.tolist())) > 2
    t = make_tensor(2, 5, dtype=loom.float64, device="cpu", noncontiguous=True, low=1.0, high=2.0)
    assert not t.is_contiguous() and t.shape == (2, 5) and 1.0 <= t.min().item() < t.max().item() < 2.0
    t = make_tensor(200, dtype=loom.int32, device="cpu", low=-1, high=2, exclude_zero=True)
    assert 0 not in t.tolist()
    b = make_tensor(100, dtype=loom.bool, device="cpu")
    assert b.dtype == loom.bool and 0 < b.sum().item() < 100
    assert make_tensor(2, dtype=loom.float32, device="cpu", requires_grad=True).requires_grad
    assert make_tensor((), dtype=loom.float32, device="cpu").dim() == 0
    assert make_tensor(3, dtype=loom.int64, device="cpu", low=4, high=4).tolist() == [4, 4, 4]
    with pytest.raises(ValueError, match="requires_grad=True is not supported"):
        make_tensor(2, dtype=loom.int64, device="cpu", requires_grad=True)
    with pytest.raises(ValueError, match="low must be less than or equal to high"):
        make_tensor(2, dtype=loom.float32, device="cpu", low=2, high=1)


# ---- constants, predicates ----

def test_constants():
    assert loom.inf == math.inf and math.isnan(loom.nan) and loom.pi == math.pi and loom.e == math.e
    assert loom.newaxis is None
    assert loom.ones(2)[loom.newaxis].shape == (1, 2)


def test_predicates_and_typename():
    assert loom.is_signed(loom.tensor([1])) and not loom.is_signed(loom.tensor([True]))
    assert not loom.is_conj(loom.ones(1)) and not loom.is_neg(loom.ones(1))
    assert loom.typename(loom.ones(1)) == "loom.FloatTensor"
    assert loom.typename(loom.ones(1, dtype=loom.int64)) == "loom.LongTensor"
    assert loom.typename(1) == "int"
    assert loom.typename(loom.nn.Linear(1, 1)).endswith(".Linear")
    assert loom.vmap is loom.func.vmap


def test_rsub_fill_norms():
    x = loom.tensor([1.0, 2.0])
    assert loom.rsub(x, 5, alpha=2).tolist() == [3.0, 1.0]
    assert loom.rsub(x, loom.tensor([3.0, 3.0])).tolist() == [2.0, 1.0]
    assert loom.fill(loom.zeros(2), 3).tolist() == [3.0, 3.0]
    v = loom.tensor(2.0, requires_grad=True)
    loom.fill(loom.zeros(3), v).sum().backward()
    assert v.grad.item() == 3.0
    m = loom.arange(6.0).reshape(2, 3) ** 2
    assert loom.frobenius_norm(m, [0, 1]).item() == pytest.approx(31.2890, abs=1e-4)
    assert loom.nuclear_norm(m).item() == pytest.approx(32.9646, abs=1e-4)


# ---- aten signatures ----

def test_batch_and_instance_norm_argument_order():
    loom.manual_seed(0)
    x = loom.randn(4, 3, 5)
    w, b = loom.rand(3) + 0.5, loom.randn(3)
    rm, rv = loom.zeros(3), loom.ones(3)
    expect = F.batch_norm(x, rm.clone(), rv.clone(), w, b, True, 0.1, 1e-5)
    assert_close(loom.batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5, True), expect)
    assert rm.abs().sum().item() > 0  # running stats updated in place
    assert_close(loom.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
                 F.instance_norm(x, weight=w, bias=b))


def test_embedding_argument_order():
    w = loom.randn(10, 4)
    idx = loom.tensor([[1, 2], [0, 9]])
    assert_close(loom.embedding(w, idx), F.embedding(idx, w))
    w.requires_grad_(True)
    loom.embedding(w, idx, 2).sum().backward()
    assert w.grad[2].abs().sum().item() == 0 and w.grad[1].sum().item() == 4.0


def test_losses_take_integer_reductions():
    loom.manual_seed(1)
    a, b = loom.randn(6), loom.randn(6)
    y = loom.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
    for r, name in ((0, "none"), (1, "mean"), (2, "sum")):
        assert_close(loom.margin_ranking_loss(a, b, y, 0.1, r), F.margin_ranking_loss(a, b, y, 0.1, reduction=name))
        assert_close(loom.hinge_embedding_loss(a, y, 1.0, r), F.hinge_embedding_loss(a, y, 1.0, reduction=name))
        assert_close(loom.kl_div(a.log_softmax(0), b.softmax(0), r),
                     F.kl_div(a.log_softmax(0), b.softmax(0), reduction=name))
        assert_close(loom.binary_cross_entropy_with_logits(a, (y > 0).float(), None, None, r),
                     F.binary_cross_entropy_with_logits(a, (y > 0).float(), reduction=name))
        assert_close(loom.poisson_nll_loss(a, b.abs(), True, False, 1e-8, r),
                     F.poisson_nll_loss(a, b.abs(), reduction=name))
    x1, x2, x3 = loom.randn(4, 5), loom.randn(4, 5), loom.randn(4, 5)
    t = loom.tensor([1.0, -1.0, 1.0, -1.0])
    assert_close(loom.cosine_embedding_loss(x1, x2, t, 0.0, 1), F.cosine_embedding_loss(x1, x2, t))
    assert_close(loom.triplet_margin_loss(x1, x2, x3, 1.0, 2.0, 1e-6, False, 2),
                 F.triplet_margin_loss(x1, x2, x3, reduction="sum"))
    with pytest.raises(ValueError, match="reduction must be 0"):
        loom.kl_div(a, b, 3)


def test_ctc_loss_integer_reduction():
    loom.manual_seed(2)
    lp = loom.randn(12, 2, 5).log_softmax(2)
    targets = loom.tensor([[1, 2, 2], [3, 1, 4]])
    il, tl = [12, 10], [3, 2]
    assert_close(loom.ctc_loss(lp, targets, il, tl, 0, 2, False), F.ctc_loss(lp, targets, il, tl, reduction="sum"))


def test_pooling_padding_and_cells():
    x = loom.randn(2, 3, 9)
    out, idx = loom.adaptive_max_pool1d(x, [4])
    ref, ref_idx = F.adaptive_max_pool1d(x, 4, return_indices=True)
    assert_close(out, ref) and assert_close(idx, ref_idx)
    out, idx = loom.max_pool1d_with_indices(x, [3], [2])
    ref, ref_idx = F.max_pool1d(x, 3, 2, return_indices=True)
    assert_close(out, ref)
    assert_close(idx, ref_idx)
    assert_close(loom.constant_pad_nd(x, [1, 2], 0.5), F.pad(x, (1, 2), value=0.5))
    cell = loom.nn.LSTMCell(4, 3)
    inp, h, c = loom.randn(2, 4), loom.randn(2, 3), loom.randn(2, 3)
    got = loom.lstm_cell(inp, [h, c], cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    want = cell(inp, (h, c))
    assert_close(got[0], want[0])
    assert_close(got[1], want[1])
    gru = loom.nn.GRUCell(4, 3)
    assert_close(loom.gru_cell(inp, h, gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh), gru(inp, h))
    rnn = loom.nn.RNNCell(4, 3)
    assert_close(loom.rnn_tanh_cell(inp, h, rnn.weight_ih, rnn.weight_hh, rnn.bias_ih, rnn.bias_hh), rnn(inp, h))
    relu = loom.nn.RNNCell(4, 3, nonlinearity="relu")
    assert_close(loom.rnn_relu_cell(inp, h, relu.weight_ih, relu.weight_hh, relu.bias_ih, relu.bias_hh),
                 relu(inp, h))


def test_feature_dropout():
    loom.manual_seed(3)
    x = loom.ones(8, 16, 5)
    y = loom.feature_dropout(x, 0.5, True)
    per_channel = y.sum(2)
    assert set(per_channel.flatten().tolist()) <= {0.0, 10.0}  # whole channels kept (x2) or dropped
    assert loom.equal(loom.feature_dropout(x, 0.5, False), x)
    with pytest.raises(ValueError, match="between 0 and 1"):
        loom.feature_dropout(x, 1.5, True)


# ---- gradient ----

def test_gradient_matches_numpy():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((5, 6, 4))
    t = loom.tensor(f)
    for edge_order in (1, 2):
        got = loom.gradient(t, edge_order=edge_order)
        want = np.gradient(f, edge_order=edge_order)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-5, atol=1e-5)
        got = loom.gradient(t, spacing=[0.5, 2.0], dim=[0, 2], edge_order=edge_order)
        want = np.gradient(f, 0.5, 2.0, axis=(0, 2), edge_order=edge_order)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-5, atol=1e-5)
        x = np.cumsum(rng.uniform(0.2, 1.5, 6))
        (got,) = loom.gradient(t, spacing=[loom.tensor(x)], dim=1, edge_order=edge_order)
        np.testing.assert_allclose(got.numpy(), np.gradient(f, x, axis=1, edge_order=edge_order), rtol=1e-4,
                                   atol=1e-4)


def test_gradient_values_and_errors():
    x = loom.arange(6.0).reshape(2, 3) ** 2
    g0, g1 = loom.gradient(x)
    assert g0.tolist() == [[9.0, 15.0, 21.0], [9.0, 15.0, 21.0]]
    assert g1.tolist() == [[1.0, 2.0, 3.0], [7.0, 8.0, 9.0]]
    (g,) = loom.gradient(x, spacing=2.0, dim=1, edge_order=2)
    assert g.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    (gi,) = loom.gradient(loom.tensor([1, 4, 9, 16]))
    assert gi.dtype == loom.float32 and gi.tolist() == [3.0, 4.0, 6.0, 7.0]
    with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
        loom.gradient(loom.ones(2), edge_order=2)
    with pytest.raises(RuntimeError, match="edge_order=1 and edge_order=2"):
        loom.gradient(loom.ones(4), edge_order=3)
    with pytest.raises(RuntimeError, match="same length"):
        loom.gradient(loom.ones(4, 4), spacing=[1.0, 2.0, 3.0])
    with pytest.raises(IndexError):
        loom.gradient(loom.ones(4), dim=2)


def test_gradient_is_differentiable():
    x = loom.randn(7, dtype=loom.float64, requires_grad=True)
    assert loom.autograd.gradcheck(lambda t: loom.gradient(t, edge_order=2)[0], (x,))


# ---- dense-only attributes, strided allocation, post-accumulate hooks ----

def test_dense_tensor_attributes():
    x = loom.ones(2, 3)
    assert x.layout is loom.strided
    for name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_nested", "is_mkldnn", "is_mps"):
        assert getattr(x, name) is False
    assert not x.is_pinned() and not x.is_shared()
    assert x.to_dense() is x and x.to_dense(loom.float64).dtype == loom.float64
    assert x.const_data_ptr() == x.data_ptr()
    assert x.dim_order() == (0, 1) and x.t().dim_order() == (1, 0)
    with pytest.raises(NotImplementedError, match="no sparse tensors"):
        x.to_sparse()


def test_empty_strided_and_unsafe_splits():
    t = loom.empty_strided((2, 3), (1, 2))
    assert t.shape == (2, 3) and t.stride() == (1, 2)
    n = loom.ones(1, dtype=loom.float64).new_empty_strided((3,), (2,))
    assert n.dtype == loom.float64 and n.stride() == (2,)
    assert loom.empty_strided((0, 4), (4, 1)).numel() == 0
    with pytest.raises(RuntimeError, match="mismatch in length"):
        loom.empty_strided((2, 3), (1,))
    x = loom.arange(6.0)
    assert [c.tolist() for c in loom.unsafe_chunk(x, 3)] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert [c.tolist() for c in x.unsafe_split_with_sizes([1, 5])] == [[0.0], [1.0, 2.0, 3.0, 4.0, 5.0]]
    assert loom.as_strided(x, (2, 2), (1, 2), 1).tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_post_accumulate_grad_hook():
    w = loom.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    def step(p):
        seen.append(p.grad.tolist())
        with loom.no_grad():
            p.sub_(p.grad)  # an optimizer step inside backward
        p.grad = None

    handle = w.register_post_accumulate_grad_hook(step)
    (w * w).sum().backward()
    assert seen == [[2.0, 4.0]] and w.tolist() == [-1.0, -2.0] and w.grad is None
    (3 * w).sum().backward()
    assert seen[-1] == [3.0, 3.0]
    handle.remove()
    (3 * w).sum().backward()
    assert len(seen) == 2 and w.grad.tolist() == [3.0, 3.0]
    y = w * 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.register_post_accumulate_grad_hook(step)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        loom.ones(2).register_post_accumulate_grad_hook(step)
    v = loom.ones(2, requires_grad=True)
    v.register_post_accumulate_grad_hook(lambda p: 1)
    with pytest.raises(TypeError, match="must return None"):
        v.sum().backward()


# ---- utils.data: DistributedSampler, default_convert ----

def test_distributed_sampler_partitions():
    from loom.utils.data import DistributedSampler
    # PyTorch 2.15: replica 1 of 3 over range(10) without shuffle visits [1, 4, 7, 0] (padded from the start)
    assert list(DistributedSampler(range(10), 3, 1, shuffle=False)) == [1, 4, 7, 0]
    assert list(DistributedSampler(range(10), 3, 2, shuffle=False, drop_last=True)) == [2, 5, 8]
    assert len(DistributedSampler(range(10), 3, 0, shuffle=False)) == 4
    parts = [list(DistributedSampler(range(11), 4, r, seed=5)) for r in range(4)]
    assert sorted(sum(parts, [])[:11]) != [] and set(sum(parts, [])) == set(range(11))
    s = DistributedSampler(range(11), 4, 0, seed=5)
    first = list(s)
    assert list(s) == first
    s.set_epoch(1)
    assert list(s) != first and len(list(s)) == 3
    with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match="Invalid rank 3"):
        DistributedSampler(range(4), 3, 3)


def test_default_convert():
    from loom.utils.data import default_convert
    out = default_convert((np.array([1, 2]), 3, "a"))
    assert isinstance(out, list) and out[0].tolist() == [1, 2] and out[1] == 3 and out[2] == "a"
    d = default_convert({"a": np.ones(1)})
    assert d["a"].dtype == loom.float64
    assert default_convert(np.float64(2.0)).dtype == loom.float64
    assert default_convert([1.5]) == [1.5]


def test_numpy_scalars_keep_their_dtype():
    # PyTorch 2.15: torch.tensor(np.float64(2.0)) is float64, np.float32 float32, np.int32 int32
    assert loom.tensor(np.float64(2.0)).dtype == loom.float64
    assert loom.tensor(np.float32(2.0)).dtype == loom.float32
    assert loom.tensor(np.int32(3)).dtype == loom.int32
    assert loom.tensor(np.bool_(True)).dtype == loom.bool
    assert loom.tensor(2.0).dtype == loom.float32


# ---- nextafter ----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nextafter_matches_numpy(dtype):
    rng = np.random.default_rng(3)
    info = np.finfo(dtype)
    specials = np.array([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, info.tiny, -info.tiny, info.tiny * 2, info.max, -info.max,
                         info.smallest_subnormal, -info.smallest_subnormal, info.smallest_subnormal * 3, np.inf,
                         -np.inf, np.nan, 1e-30, 3.5, -1024.0], dtype=dtype)
    x = np.concatenate([specials, rng.standard_normal(200).astype(dtype) * 10.0 ** rng.integers(-30, 30, 200),
                        np.repeat(specials, 3)]).astype(dtype)
    y = np.concatenate([rng.standard_normal(len(specials)), rng.standard_normal(200),
                        np.tile([np.inf, -np.inf, 0.0], len(specials))]).astype(dtype)
    y[:5] = x[:5]  # equal pairs give y
    y[5] = np.nan
    got = loom.nextafter(loom.tensor(x), loom.tensor(y)).numpy()
    with np.errstate(over="ignore"):
        want = np.nextafter(x, y)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got[want == 0]), np.signbit(want[want == 0]))  # -0.0 from below


def test_nextafter_promotion_gradient_and_errors():
    out = loom.nextafter(loom.tensor([1.0]), loom.tensor([2.0], dtype=loom.float64))
    assert out.dtype == loom.float64 and out.item() == np.nextafter(1.0, 2.0)
    x = loom.tensor([1.0, 3.0], requires_grad=True)
    y = loom.tensor([2.0, 0.0], requires_grad=True)
    loom.nextafter(x, y).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and y.grad is None
    with pytest.raises(NotImplementedError, match="floating"):
        loom.nextafter(loom.tensor([1, 2]), loom.tensor([3, 0]))
    with pytest.raises(TypeError):
        loom.nextafter(1.0, loom.tensor([2.0]))
    assert loom.tensor([1.0]).nextafter(loom.tensor([0.0])).item() == np.nextafter(np.float32(1), np.float32(0))
    z = loom.tensor([1.0])
    z.nextafter_(loom.tensor([2.0]))
    assert z.item() == np.nextafter(np.float32(1), np.float32(2))


# ---- resize_, resize_as_, set_ (values as PyTorch 2.15 gives them) ----

def test_resize_keeps_or_grows_the_storage():
    x = loom.arange(6.0)
    ptr = x.data_ptr()
    v = x._version
    assert x.resize_(2, 2) is x
    assert x.tolist() == [[0.0, 1.0], [2.0, 3.0]] and x.data_ptr() == ptr and x._version > v
    x.resize_(3, 3)
    assert tuple(x.shape) == (3, 3) and x.flatten()[:6].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    x.resize_(1)
    assert x.tolist() == [0.0]
    y = loom.zeros(4, 5)
    y.resize_as_(loom.ones(2, 10))
    assert tuple(y.shape) == (2, 10) and y.is_contiguous()
    t = loom.arange(12.0).reshape(3, 4).t()
    t.resize_(4, 3)  # the same sizes: unchanged (strides kept)
    assert t.stride() == (1, 4)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        loom.ones(2, requires_grad=True).resize_(3)
    with pytest.raises(RuntimeError, match="negative dimension"):
        loom.ones(2).resize_(-1)


def test_set_shares_storage():
    a = loom.arange(6.0)
    b = loom.zeros(1)
    b.set_(a)
    assert b.tolist() == a.tolist() and b.data_ptr() == a.data_ptr()
    b.set_(a, 2, (2, 2))
    assert b.tolist() == [[2.0, 3.0], [4.0, 5.0]]
    a[2] = 20.0
    assert b[0, 0].item() == 20.0
    c = loom.zeros(3)
    c.set_()
    assert c.numel() == 0 and tuple(c.shape) == (0,)
    with pytest.raises(RuntimeError, match="Could not set tensor of type double to a tensor of type float"):
        loom.zeros(2).set_(loom.zeros(2, dtype=loom.float64))


def test_storages_and_is_set_to():
    a = loom.arange(6.0)
    v = a[2:].view(2, 2)
    assert a.untyped_storage().data_ptr() == v.untyped_storage().data_ptr()
    assert a.untyped_storage().nbytes() == 24 and len(a.untyped_storage()) == 24
    s = v.storage()
    assert s.dtype == loom.float32 and s.size() == 6 and s.element_size() == 4
    assert s.untyped().nbytes() == 24 and str(s.device) == "cpu"
    assert a.clone().untyped_storage().data_ptr() != a.untyped_storage().data_ptr()
    b = loom.zeros(1)
    b.set_(a)
    assert b.is_set_to(a) and not v.is_set_to(a) and not a.is_set_to(a.clone())


def test_cond_while_loop_compile():
    one = loom.tensor(1.0)
    assert loom.cond(loom.tensor(True), lambda x: x + 1, lambda x: x - 1, (one,)).item() == 2.0
    assert loom.cond(False, lambda x: x + 1, lambda x: x - 1, [one]).item() == 0.0
    with pytest.raises(RuntimeError, match="single-element tensor"):
        loom.cond(loom.tensor([True, False]), lambda x: x, lambda x: x, (one,))
    i, x = loom.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2), (loom.tensor(0), loom.tensor(1.0)))
    assert i.item() == 3 and x.item() == 8.0
    w = loom.tensor(2.0, requires_grad=True)
    (y,) = loom.while_loop(lambda v: v < 50, lambda v: (v * w,), (loom.tensor(3.0),))
    y.backward()  # 3 -> 6 -> 12 -> 24 -> 48 -> 96: y = 3 w^5, dy/dw = 15 w^4
    assert y.item() == 96.0 and w.grad.item() == 240.0
    model = loom.nn.Linear(2, 2)
    assert loom.compile(model) is model
    assert loom.compile(mode="max-autotune")(model) is model

    @loom.compile
    def f(t):
        return t * 2

    assert f(one).item() == 2.0
    with pytest.raises(RuntimeError, match="must be callable"):
        loom.compile(3)
