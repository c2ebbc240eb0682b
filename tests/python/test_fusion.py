"""loom.nn.functional fusion ops (linear, linear2, gated_fusion, film,
bilinear_pool, clip_loss): values against NumPy references, gradients via
gradcheck (float64), keywords and error types."""
import numpy as np
import pytest

import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import T, close


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gelu_tanh(z):
    return 0.5 * z * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (z + 0.044715 * z ** 3)))


def log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


rng = np.random.default_rng(0)


def rnd(*shape):
    return rng.standard_normal(shape)


def test_linear_values_and_keywords():
    x, w, b = rnd(2, 3, 5), rnd(4, 5), rnd(4)
    z = x @ w.T + b
    close(F.linear(T(x), T(w), T(b)), z, rtol=1e-10, atol=1e-12)
    close(F.linear(T(x), T(w)), x @ w.T, rtol=1e-10, atol=1e-12)
    close(F.linear(input=T(x), weight=T(w), bias=T(b), activation="relu"), np.maximum(z, 0), rtol=1e-10, atol=1e-12)
    close(F.linear(T(x), T(w), T(b), activation="gelu"), gelu_tanh(z), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError):
        F.linear(T(x), T(w), T(b), activation="tanh")
    with pytest.raises((ValueError, RuntimeError)):
        F.linear(T(x), T(rnd(4, 4)))


def test_linear2_gated_film_bilinear_values():
    a, b = rnd(6, 4), rnd(6, 4)
    W, c = rnd(4, 8), rnd(4)
    close(F.linear2(T(a), T(b), T(W), T(c)), np.concatenate([a, b], 1) @ W.T + c, rtol=1e-10, atol=1e-12)
    g = sigmoid(np.concatenate([a, b], 1) @ W.T + c)
    close(F.gated_fusion(T(a), T(b), T(W), T(c)), g * a + (1 - g) * b, rtol=1e-10, atol=1e-12)
    bb, Wf, cf = rnd(6, 3), rnd(8, 3), rnd(8)
    p = bb @ Wf.T + cf
    close(F.film(T(a), T(bb), T(Wf), T(cf)), p[:, :4] * a + p[:, 4:], rtol=1e-10, atol=1e-12)
    U, V, P = rnd(5, 4), rnd(5, 3), rnd(2, 5)
    close(F.bilinear_pool(T(a), T(bb), T(U), T(V), T(P)), ((a @ U.T) * (bb @ V.T)) @ P.T, rtol=1e-10, atol=1e-12)
    with pytest.raises((ValueError, RuntimeError)):
        F.gated_fusion(T(a), T(b), T(rnd(4, 7)), T(c))


def test_clip_loss_value():
    img, txt = rnd(7, 5), rnd(7, 5)
    img /= np.linalg.norm(img, axis=1, keepdims=True)
    txt /= np.linalg.norm(txt, axis=1, keepdims=True)
    ls = 1.3
    L = np.exp(ls) * img @ txt.T
    ref = -(np.trace(log_softmax(L, 1)) + np.trace(log_softmax(L, 0))) / (2 * 7)
    out = F.clip_loss(T(img), T(txt), T(np.array(ls)))
    assert out.shape == ()
    close(out, ref, rtol=1e-10, atol=1e-12)
    close(F.clip_loss(T(img), T(txt), logit_scale=ls), ref, rtol=1e-10, atol=1e-12)


def leaf(*shape):
    return T(rnd(*shape), requires_grad=True)


def test_gradients():
    assert gradcheck(lambda a, b, w, c: F.gated_fusion(a, b, w, c), (leaf(3, 2), leaf(3, 2), leaf(2, 4), leaf(2)))
    assert gradcheck(lambda a, b, w, c: F.film(a, b, w, c), (leaf(3, 2), leaf(3, 3), leaf(4, 3), leaf(4)))
    assert gradcheck(lambda a, b, w, c: F.linear2(a, b, w, c), (leaf(3, 2), leaf(3, 3), leaf(4, 5), leaf(4)))
    assert gradcheck(lambda a, b, u, v, p: F.bilinear_pool(a, b, u, v, p),
                     (leaf(3, 2), leaf(3, 3), leaf(4, 2), leaf(4, 3), leaf(2, 4)))
    for act in ("none", "relu", "gelu"):
        assert gradcheck(lambda x, w, c: F.linear(x, w, c, activation=act), (leaf(3, 4), leaf(2, 4), leaf(2)))
    img, txt = rnd(4, 3), rnd(4, 3)
    img /= np.linalg.norm(img, axis=1, keepdims=True)
    txt /= np.linalg.norm(txt, axis=1, keepdims=True)
    assert gradcheck(lambda i, t, s: F.clip_loss(i, t, s),
                     (T(img, True), T(txt, True), T(np.array(0.7), True)))
