"""loom.nn.functional layer_norm, batch_norm, cross_entropy, embedding, dropout
and the fused optimizer steps: values against NumPy references, gradients via
gradcheck (float64), PyTorch's keywords and error types."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import T, close

# Private helpers stay in loom._C._functional (loom.nn.functional re-exports public names only).
_native = loom._C._functional


def ln_ref(x, axes, w=None, b=None, eps=1e-5):
    m = x.mean(axis=axes, keepdims=True)
    v = ((x - m) ** 2).mean(axis=axes, keepdims=True)
    y = (x - m) / np.sqrt(v + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def xent_ref(x, t, w=None, ignore_index=-100, reduction="mean", eps=0.0):
    C = x.shape[1]
    lp = log_softmax(x, 1)
    valid = t != ignore_index
    tc = np.where(valid, t, 0)
    wv = np.ones(C) if w is None else w
    wt = wv[tc] * valid
    nll = -np.take_along_axis(lp, tc[:, None], 1)[:, 0] * wt
    smooth = -(lp * wv[None, :]).sum(1) * valid
    rows = (1 - eps) * nll + eps / C * smooth
    if reduction == "none":
        return rows
    if reduction == "sum":
        return rows.sum()
    return rows.sum() / wt.sum()


def test_layer_norm_values_and_grad(rng):
    x = rng.standard_normal((3, 4, 6)) * 2 + 1
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    close(F.layer_norm(T(x.astype(np.float32)), 6, T(w.astype(np.float32)), T(b.astype(np.float32))),
          ln_ref(x, (2,), w, b), rtol=1e-4, atol=1e-5)
    close(F.layer_norm(T(x), (4, 6), eps=1e-3), ln_ref(x, (1, 2), eps=1e-3), rtol=1e-10)
    assert gradcheck(lambda a, c, d: F.layer_norm(a, [6], c, d), (T(x, True), T(w, True), T(b, True)))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(T(x), 5)


def test_batch_norm_training_and_eval(rng):
    x = rng.standard_normal((4, 3, 5))
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    rm, rv = T(np.zeros(3)), T(np.ones(3))
    y = F.batch_norm(T(x), rm, rv, T(w), T(b), training=True, momentum=0.2)
    m, v = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    close(y, (x - m[None, :, None]) / np.sqrt(v[None, :, None] + 1e-5) * w[None, :, None] + b[None, :, None],
          rtol=1e-10)
    close(rm, 0.2 * m, rtol=1e-10)
    close(rv, 0.8 + 0.2 * x.var(axis=(0, 2), ddof=1), rtol=1e-10)
    ye = F.batch_norm(T(x), rm, rv, training=False)
    close(ye, (x - 0.2 * m[None, :, None]) / np.sqrt(rv.numpy()[None, :, None] + 1e-5), rtol=1e-10)
    assert gradcheck(lambda a, c, d: F.batch_norm(a, None, None, c, d, training=True),
                     (T(x, True), T(w, True), T(b, True)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy(rng, reduction, label_smoothing):
    x = rng.standard_normal((6, 5))
    t = np.array([0, 4, -100, 1, 3, 3])
    w = rng.uniform(0.5, 1.5, 5)
    for wt in (None, w):
        got = F.cross_entropy(T(x), T(t), None if wt is None else T(wt), reduction=reduction,
                              label_smoothing=label_smoothing)
        close(got, xent_ref(x, t, wt, reduction=reduction, eps=label_smoothing), rtol=1e-10, atol=1e-12)
        assert gradcheck(lambda a: F.cross_entropy(a, T(t), None if wt is None else T(wt), reduction=reduction,
                                                   label_smoothing=label_smoothing), (T(x, True),))


def test_cross_entropy_higher_dim_and_errors(rng):
    x = rng.standard_normal((2, 4, 3))
    t = rng.integers(0, 4, (2, 3))
    ref = xent_ref(np.moveaxis(x, 1, -1).reshape(6, 4), t.reshape(6), ignore_index=2)
    close(F.cross_entropy(T(x), T(t), ignore_index=2), ref, rtol=1e-10)
    assert gradcheck(lambda a: F.cross_entropy(a, T(t)), (T(x, True),))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(T(x[:, :, 0]), T(np.array([0, 7])))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(T(x[:, :, 0]), T(np.array([0, 1])), reduction="avg")


def test_embedding(rng):
    w = rng.standard_normal((7, 3))
    idx = np.array([[1, 6, 1], [0, 2, 2]])
    close(F.embedding(T(idx), T(w)), w[idx], rtol=0)
    wt = T(w, True)
    F.embedding(T(idx), wt, padding_idx=1).sum().backward()
    ref = np.zeros_like(w)
    np.add.at(ref, idx.reshape(-1), 1.0)
    ref[1] = 0
    close(wt.grad, ref, rtol=0)
    assert gradcheck(lambda a: F.embedding(T(idx), a), (T(w, True),))
    with pytest.raises(IndexError):
        F.embedding(T(np.array([7])), T(w))


def test_dropout(rng):
    x = rng.uniform(1, 2, (100, 50)).astype(np.float32)
    y = F.dropout(T(x), p=0.4).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.6) < 0.02
    np.testing.assert_allclose(y[kept], x[kept] / 0.6, rtol=1e-6)
    close(F.dropout(T(x), 0.4, training=False), x, rtol=0)
    xt = T(x, True)
    out = F.dropout(xt, 0.5)
    out.backward(loom.ones_like(out))
    np.testing.assert_allclose(xt.grad.numpy(), (out.detach().numpy() != 0) * 2.0, rtol=1e-6)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(T(x), 1.5)


def test_fused_optimizer_steps(rng):
    p0, g = rng.standard_normal(10), rng.standard_normal(10)
    p, buf = T(p0), T(np.zeros(10))
    _native._sgd_step_([p], [T(g)], [buf], lr=0.1, momentum=0.9, weight_decay=0.01, first_step=True)
    d = g + 0.01 * p0
    close(buf, d, rtol=1e-12)
    close(p, p0 - 0.1 * d, rtol=1e-12)
    p, m, v = T(p0), T(np.zeros(10)), T(np.zeros(10))
    _native._adam_step_([p], [T(g)], [m], [v], step=1, lr=1e-2, weight_decay=0.1, decoupled=True)
    pd = p0 * (1 - 1e-3)
    mi, vi = 0.1 * g, 0.001 * g * g
    close(p, pd - 1e-2 / 0.1 * mi / (np.sqrt(vi) / np.sqrt(0.001) + 1e-8), rtol=1e-10)
    with pytest.raises(RuntimeError, match="max_exp_avg_sqs"):  # amsgrad needs its state
        _native._adam_step_([p], [T(g)], [m], [v], step=2, amsgrad=True)
    vm = T(np.zeros(10))
    _native._adam_step_([p], [T(g)], [m], [v], step=2, amsgrad=True, max_exp_avg_sqs=[vm])
    close(vm, v, rtol=0)  # the maximum of 0 and v
