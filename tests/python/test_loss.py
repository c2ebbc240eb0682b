"""loom.nn.functional losses (nll_loss, mse_loss, l1_loss, smooth_l1_loss,
huber_loss, binary_cross_entropy[_with_logits], cosine_embedding_loss, kl_div)
and normalize / cosine_similarity: values against NumPy formulas for every
reduction, gradients via gradcheck (float64), PyTorch's keywords and errors."""
import numpy as np
import pytest

import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import T, close

REDUCTIONS = ["none", "mean", "sum"]
F64 = dict(rtol=1e-9, atol=1e-12)  # float64 losses against float64 references


def reduce(v, reduction):
    return {"none": v, "mean": v.mean(), "sum": v.sum()}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(rng, reduction):
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    d = np.abs(x - y)
    close(F.mse_loss(T(x), T(y), reduction=reduction), reduce(d ** 2, reduction), **F64)
    close(F.l1_loss(T(x), T(y), reduction=reduction), reduce(d, reduction), **F64)
    for beta in (1.0, 0.3):
        ref = np.where(d < beta, 0.5 * d ** 2 / beta, d - 0.5 * beta)
        close(F.smooth_l1_loss(T(x), T(y), reduction=reduction, beta=beta), reduce(ref, reduction), **F64)
    close(F.smooth_l1_loss(T(x), T(y), reduction=reduction, beta=0.0), reduce(d, reduction), **F64)
    ref = np.where(d < 0.7, 0.5 * d ** 2, 0.7 * (d - 0.35))
    close(F.huber_loss(T(x), T(y), reduction=reduction, delta=0.7), reduce(ref, reduction), **F64)
    for f in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        assert gradcheck(lambda a, b: f(a, b, reduction=reduction), (T(x, True), T(y, True)))


def test_legacy_reduction_keywords(rng):
    x, y = rng.standard_normal(6), rng.standard_normal(6)
    close(F.mse_loss(T(x), T(y), size_average=False), ((x - y) ** 2).sum(), **F64)
    close(F.l1_loss(T(x), T(y), reduce=False), np.abs(x - y), **F64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(rng, reduction):
    p = rng.uniform(0.02, 0.98, (3, 4))
    y = rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 1.5, 4)
    ref = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    close(F.binary_cross_entropy(T(p), T(y), reduction=reduction), reduce(ref, reduction), **F64)
    close(F.binary_cross_entropy(T(p), T(y), weight=T(w), reduction=reduction), reduce(ref * w, reduction), **F64)
    assert gradcheck(lambda a, b, c: F.binary_cross_entropy(a, b, c, reduction=reduction),
                     (T(p, True), T(y, True), T(w, True)))

    x = rng.standard_normal((3, 4)) * 3
    pw = rng.uniform(0.5, 3, 4)
    s = 1 / (1 + np.exp(-x))
    ref = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    close(F.binary_cross_entropy_with_logits(T(x), T(y), reduction=reduction), reduce(ref, reduction), **F64)
    ref = -w * (pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    close(F.binary_cross_entropy_with_logits(T(x), T(y), T(w), reduction=reduction, pos_weight=T(pw)),
          reduce(ref, reduction), **F64)
    assert gradcheck(lambda a, b, c, d: F.binary_cross_entropy_with_logits(a, b, c, reduction=reduction,
                                                                           pos_weight=d),
                     (T(x, True), T(y, True), T(w, True), T(pw, True)))


def test_bce_with_logits_is_stable_and_exact_at_zero():
    x = T(np.array([-1000.0, 1000.0, 0.0]), True)
    y = T(np.array([1.0, 0.0, 0.25]))
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
    close(loss, 2000 + np.log(2), **F64)
    loss.backward()
    close(x.grad, [-1.0, 1.0, 0.25], **F64)
    # float32 as well, and BCE's log clamp at -100.
    close(F.binary_cross_entropy(T(np.array([0.0, 1.0], np.float32)), T(np.array([1.0, 0.0], np.float32)),
                                 reduction="none"), [100.0, 100.0], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(rng, reduction):
    x = rng.standard_normal((6, 4))
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    t = np.array([0, 3, 1, -100, 2, 3])
    w = rng.uniform(0.5, 1.5, 4)
    keep = t != -100
    ts = np.where(keep, t, 0)
    picked = -logp[np.arange(6), ts] * keep
    wt = w[ts] * keep
    ref = {"none": picked * wt, "sum": (picked * wt).sum(), "mean": (picked * wt).sum() / wt.sum()}[reduction]
    close(F.nll_loss(T(logp), T(t), T(w), reduction=reduction), ref, **F64)
    ref = {"none": picked, "sum": picked.sum(), "mean": picked.sum() / keep.sum()}[reduction]
    close(F.nll_loss(T(logp), T(t), reduction=reduction), ref, **F64)
    close(F.cross_entropy(T(x), T(t), T(w), reduction=reduction),
          F.nll_loss(F.log_softmax(T(x), 1), T(t), T(w), reduction=reduction).numpy(), **F64)
    assert gradcheck(lambda a: F.nll_loss(a, T(t), T(w), reduction=reduction), (T(logp, True),))
    # [N, C, d] input, ignore_index keyword.
    x3 = rng.standard_normal((2, 4, 3))
    t3 = rng.integers(0, 4, (2, 3))
    ref3 = -np.take_along_axis(x3, t3[:, None, :], 1)[:, 0, :]
    ref3 = np.where(t3 == 1, 0.0, ref3)
    close(F.nll_loss(T(x3), T(t3), ignore_index=1, reduction="none"), ref3, **F64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(rng, reduction):
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    y = np.array([1, -1, 1, -1, -1])
    cos = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
    ref = np.where(y == 1, 1 - cos, np.maximum(0, cos - 0.1))
    close(F.cosine_embedding_loss(T(a), T(b), T(y), margin=0.1, reduction=reduction), reduce(ref, reduction), **F64)
    close(F.cosine_embedding_loss(T(a), T(b), T(y.astype(np.float64)), 0.1, reduction=reduction),
          reduce(ref, reduction), **F64)
    assert gradcheck(lambda p, q: F.cosine_embedding_loss(p, q, T(y), margin=-0.5, reduction=reduction),
                     (T(a, True), T(b, True)))


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div(rng, reduction):
    x = rng.standard_normal((3, 4))
    logq = x - np.log(np.exp(x).sum(1, keepdims=True))
    p = rng.uniform(0, 1, (3, 4))
    p[0, 0] = 0.0
    ref = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - logq), 0.0)
    red = (lambda v: v.sum() / 3) if reduction == "batchmean" else (lambda v: reduce(v, reduction))
    close(F.kl_div(T(logq), T(p), reduction=reduction), red(ref), **F64)
    logp = np.log(rng.uniform(0.1, 1, (3, 4)))
    close(F.kl_div(T(logq), T(logp), reduction=reduction, log_target=True), red(np.exp(logp) * (logp - logq)), **F64)
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction=reduction), (T(logq, True), T(p + 0.1, True)))
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=True),
                     (T(logq, True), T(logp, True)))


def test_normalize_and_cosine_similarity(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    nx = x / np.linalg.norm(x, axis=1, keepdims=True)
    close(F.normalize(T(x)), nx, **F64)
    close(F.normalize(T(x), p=1.0, dim=0), x / np.abs(x).sum(0, keepdims=True), **F64)
    close(F.normalize(T(np.zeros((2, 3)))), np.zeros((2, 3)), **F64)
    ny = y / np.linalg.norm(y, axis=1, keepdims=True)
    close(F.cosine_similarity(T(x), T(y)), (nx * ny).sum(1), **F64)
    close(F.cosine_similarity(T(x), T(y[:1]), dim=1, eps=1e-8), (nx * ny[:1]).sum(1), **F64)
    assert gradcheck(lambda a: F.normalize(a, dim=1), (T(x, True),))
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b), (T(x, True), T(y, True)))


def test_errors(rng):
    x = T(rng.standard_normal((3, 4)))
    with pytest.raises(RuntimeError, match=r"mse_loss.*\[3, 4\].*\[3, 5\]"):
        F.mse_loss(x, T(rng.standard_normal((3, 5))))
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.l1_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(x.sigmoid(), T(rng.uniform(0, 1, 4)))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(x, x)
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, T(np.zeros((3, 1))))
    with pytest.raises(RuntimeError, match=r"nll_loss: expected target of shape \[3\]"):
        F.nll_loss(x, T(np.array([0, 1])))
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(x, T(np.array([0, 1, 4])))
    with pytest.raises(TypeError, match="int64"):
        F.nll_loss(x, T(np.array([0.0, 1.0, 2.0])))
    with pytest.raises(RuntimeError, match="cosine_embedding_loss"):
        F.cosine_embedding_loss(x, x, T(np.ones(4)))
    with pytest.raises(ValueError, match="batchmean"):
        F.kl_div(x, x, reduction="batch")


def test_loss_modules(rng):
    from loom.nn.modules import loss as L

    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    close(L.MSELoss()(T(x), T(y)), ((x - y) ** 2).mean(), **F64)
    close(L.MSELoss(reduction="sum")(T(x), T(y)), ((x - y) ** 2).sum(), **F64)
    close(L.L1Loss(size_average=False)(T(x), T(y)), np.abs(x - y).sum(), **F64)
    close(L.SmoothL1Loss(beta=0.3)(T(x), T(y)), F.smooth_l1_loss(T(x), T(y), beta=0.3).numpy(), **F64)
    close(L.HuberLoss(delta=0.3)(T(x), T(y)), F.huber_loss(T(x), T(y), delta=0.3).numpy(), **F64)
    t = np.array([0, 2, 1, -100])
    w = rng.uniform(0.5, 1.5, 3)
    ce = L.CrossEntropyLoss(weight=T(w), label_smoothing=0.1)
    close(ce(T(x), T(t)), F.cross_entropy(T(x), T(t), T(w), label_smoothing=0.1).numpy(), **F64)
    assert list(ce.state_dict().keys()) == ["weight"]
    assert list(L.CrossEntropyLoss().state_dict().keys()) == []
    assert len(list(L.CrossEntropyLoss(T(w)).parameters())) == 0
    t1 = np.array([0, 2, 1, 1])
    close(L.NLLLoss(T(w), ignore_index=1)(F.log_softmax(T(x), 1), T(t1)),
          F.nll_loss(F.log_softmax(T(x), 1), T(t1), T(w), ignore_index=1).numpy(), **F64)
    p, q = 1 / (1 + np.exp(-x)), rng.uniform(0, 1, (4, 3))
    close(L.BCELoss(T(w))(T(p), T(q)), F.binary_cross_entropy(T(p), T(q), T(w)).numpy(), **F64)
    pw = rng.uniform(1, 2, 3)
    bl = L.BCEWithLogitsLoss(pos_weight=T(pw), reduction="none")
    close(bl(T(x), T(q)), F.binary_cross_entropy_with_logits(T(x), T(q), reduction="none", pos_weight=T(pw)).numpy(),
          **F64)
    assert list(bl.state_dict().keys()) == ["pos_weight"]
    s = np.array([1, -1, 1, -1])
    close(L.CosineEmbeddingLoss(margin=0.2)(T(x), T(y), T(s)),
          F.cosine_embedding_loss(T(x), T(y), T(s), margin=0.2).numpy(), **F64)
    lq, lp = F.log_softmax(T(x), 1), F.log_softmax(T(y), 1)
    close(L.KLDivLoss(reduction="batchmean", log_target=True)(lq, lp),
          F.kl_div(lq, lp, reduction="batchmean", log_target=True).numpy(), **F64)
    a = T(x, True)
    L.MSELoss()(a, T(y)).backward()
    close(a.grad, 2 * (x - y) / x.size, **F64)
