"""loom.nn.functional.scaled_dot_product_attention against a NumPy reference;
gradients by gradcheck (float64)."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import T, requires_cuda


def ref(q, k, v, mask=None, causal=False, scale=None):
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        lq, lk = s.shape[-2:]
        s = np.where(np.arange(lk)[None, :] > np.arange(lq)[:, None], -np.inf, s)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == np.bool_ else s + mask
    m = s.max(-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(s - m)
    den = e.sum(-1, keepdims=True)
    p = np.divide(e, den, out=np.zeros_like(e), where=den > 0)
    return p @ v


@pytest.mark.parametrize("lq,lk,d,causal", [(37, 37, 16, False), (5, 129, 64, False), (129, 37, 80, True)])
def test_values(rng, lq, lk, d, causal):
    q, k, v = rng.standard_normal((2, 3, lq, d)), rng.standard_normal((2, 3, lk, d)), rng.standard_normal((2, 3, lk, 24))
    y = F.scaled_dot_product_attention(T(q), T(k), T(v), is_causal=causal)
    np.testing.assert_allclose(y.numpy(), ref(q, k, v, causal=causal), rtol=1e-9, atol=1e-10)


def test_masks_and_scale(rng):
    q, k, v = rng.standard_normal((2, 2, 7, 8)), rng.standard_normal((2, 2, 9, 8)), rng.standard_normal((2, 2, 9, 8))
    pad = np.ones((2, 1, 1, 9), dtype=bool)
    pad[1, ..., 5:] = False
    y = F.scaled_dot_product_attention(T(q), T(k), T(v), attn_mask=T(pad))
    np.testing.assert_allclose(y.numpy(), ref(q, k, v, pad), rtol=1e-9, atol=1e-10)
    fm = rng.standard_normal((7, 9))
    y = F.scaled_dot_product_attention(T(q), T(k), T(v), attn_mask=T(fm), scale=0.3)
    np.testing.assert_allclose(y.numpy(), ref(q, k, v, fm, scale=0.3), rtol=1e-9, atol=1e-10)
    none = np.zeros((2, 1, 1, 9), dtype=bool)
    y = F.scaled_dot_product_attention(T(q), T(k), T(v), attn_mask=T(none))
    assert np.all(y.numpy() == 0.0)  # every key masked: 0 (PyTorch gives NaN)


def test_errors():
    q = loom.randn(2, 3, 5, 8)
    with pytest.raises(RuntimeError, match="embedding size"):
        F.scaled_dot_product_attention(q, loom.randn(2, 3, 6, 7), loom.randn(2, 3, 6, 4))
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=2.0)


def test_gradcheck(rng):
    q = T(rng.standard_normal((1, 2, 5, 4)), True)
    k = T(rng.standard_normal((1, 2, 6, 4)), True)
    v = T(rng.standard_normal((1, 2, 6, 3)), True)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))

    def dropped(a, b, c):
        loom.manual_seed(3)
        return F.scaled_dot_product_attention(a, b, c, dropout_p=0.25)

    assert gradcheck(dropped, (q, k, v))


def test_dropout_determinism(rng):
    q, k, v = (T(rng.standard_normal((2, 2, 16, 8)).astype(np.float32)) for _ in range(3))
    loom.manual_seed(5)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    loom.manual_seed(5)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(a, b)


@requires_cuda
def test_cuda_matches_cpu(rng):
    q, k, v = (rng.standard_normal((2, 2, 37, 64)).astype(np.float32) for _ in range(3))
    yc = F.scaled_dot_product_attention(T(q), T(k), T(v), is_causal=True)
    yg = F.scaled_dot_product_attention(T(q).cuda(), T(k).cuda(), T(v).cuda(), is_causal=True)
    np.testing.assert_allclose(yg.cpu().numpy(), yc.numpy(), rtol=1e-3, atol=1e-4)
