"""loom.nn.functional.lstm_cell / gru_cell and the raw sequence functions
loom._C._functional._lstm / _gru: values against NumPy references of PyTorch's equations,
lengths, and gradients via loom.autograd.gradcheck (float64)."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import T, requires_cuda

# loom.nn.functional re-exports only public names: the raw sequence functions
# (for a future nn.LSTM / nn.GRU) stay in the native module.
N = loom._C._functional


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_cell_np(x, h, c, wi, wh, bi, bh):
    a = x @ wi.T + h @ wh.T + bi + bh
    i, f, g, o = np.split(a, 4, axis=1)
    c2 = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c2), c2


def gru_cell_np(x, h, wi, wh, bi, bh):
    gi, gh = x @ wi.T + bi, h @ wh.T + bh
    ir, iz, inn = np.split(gi, 3, axis=1)
    hr, hz, hn = np.split(gh, 3, axis=1)
    r, z = sig(ir + hr), sig(iz + hz)
    n = np.tanh(inn + r * hn)
    return (1 - z) * n + z * h


def params_np(rng, gates, I, H, layers=1, dirs=1):
    ps = []
    for layer in range(layers):
        for _ in range(dirs):
            inp = I if layer == 0 else H * dirs
            ps += [rng.standard_normal((gates * H, inp)) * 0.5, rng.standard_normal((gates * H, H)) * 0.5,
                   rng.standard_normal(gates * H) * 0.5, rng.standard_normal(gates * H) * 0.5]
    return ps


def seq_np(cell, x, h0, c0, ps, layers, dirs, lengths=None):
    """Batch-first sequence as a loop of NumPy cells (frozen past lengths)."""
    B, Tn, _ = x.shape
    hs, cs = [], []
    for layer in range(layers):
        outs = []
        for d in range(dirs):
            idx = layer * dirs + d
            wi, wh, bi, bh = ps[4 * idx:4 * idx + 4]
            h, c = h0[idx], (c0[idx] if c0 is not None else None)
            out = np.zeros((B, Tn, h.shape[1]))
            for s in range(Tn):
                t = Tn - 1 - s if d == 1 else s
                if cell == "lstm":
                    hn, cn = lstm_cell_np(x[:, t], h, c, wi, wh, bi, bh)
                else:
                    hn, cn = gru_cell_np(x[:, t], h, wi, wh, bi, bh), None
                live = np.ones((B, 1), bool) if lengths is None else (np.asarray(lengths) > t)[:, None]
                h = np.where(live, hn, h)
                if cn is not None:
                    c = np.where(live, cn, c)
                out[:, t] = np.where(live, h, 0.0)
            outs.append(out)
            hs.append(h)
            cs.append(c)
        x = np.concatenate(outs, axis=2)
    return x, np.stack(hs), (np.stack(cs) if c0 is not None else None)


def test_lstm_cell_and_gru_cell_values(rng):
    B, I, H = 4, 5, 3
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    wi, wh, bi, bh = params_np(rng, 4, I, H)
    h1, c1 = F.lstm_cell(T(x), (T(h), T(c)), T(wi), T(wh), T(bi), T(bh))
    h2, c2 = lstm_cell_np(x, h, c, wi, wh, bi, bh)
    np.testing.assert_allclose(h1.numpy(), h2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c1.numpy(), c2, rtol=1e-10, atol=1e-12)
    h0, _ = F.lstm_cell(T(x), None, T(wi), T(wh), T(bi), T(bh))
    np.testing.assert_allclose(h0.numpy(), lstm_cell_np(x, 0 * h, 0 * c, wi, wh, bi, bh)[0], rtol=1e-10, atol=1e-12)
    gwi, gwh, gbi, gbh = params_np(rng, 3, I, H)
    g = F.gru_cell(T(x), T(h), T(gwi), T(gwh), T(gbi), T(gbh))
    np.testing.assert_allclose(g.numpy(), gru_cell_np(x, h, gwi, gwh, gbi, gbh), rtol=1e-10, atol=1e-12)
    g32 = F.gru_cell(T(x.astype(np.float32)), T(h.astype(np.float32)), T(gwi.astype(np.float32)),
                     T(gwh.astype(np.float32)), T(gbi.astype(np.float32)), T(gbh.astype(np.float32)))
    np.testing.assert_allclose(g32.numpy(), gru_cell_np(x, h, gwi, gwh, gbi, gbh), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("layers,dirs", [(1, 1), (2, 2)])
@pytest.mark.parametrize("lengths", [None, [5, 2, 4]])
def test_sequences_match_numpy(rng, cell, batch_first, layers, dirs, lengths):
    B, Tn, I, H = 3, 5, 4, 3
    gates = 4 if cell == "lstm" else 3
    x = rng.standard_normal((B, Tn, I))
    h0 = rng.standard_normal((layers * dirs, B, H))
    c0 = rng.standard_normal((layers * dirs, B, H)) if cell == "lstm" else None
    ps = params_np(rng, gates, I, H, layers, dirs)
    xin = x if batch_first else x.transpose(1, 0, 2)
    lt = None if lengths is None else loom.tensor(lengths, dtype=loom.int64)
    args = (layers, dirs == 2, batch_first, lt)
    if cell == "lstm":
        out, hn, cn = N._lstm(T(xin), T(h0), T(c0), [T(p) for p in ps], True, *args)
    else:
        out, hn = N._gru(T(xin), T(h0), [T(p) for p in ps], True, *args)
    ref_out, ref_h, ref_c = seq_np(cell, x, h0, c0, ps, layers, dirs, lengths)
    got = out.numpy() if batch_first else out.numpy().transpose(1, 0, 2)
    np.testing.assert_allclose(got, ref_out, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(hn.numpy(), ref_h, rtol=1e-9, atol=1e-10)
    if cell == "lstm":
        np.testing.assert_allclose(cn.numpy(), ref_c, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradcheck(rng, cell):
    B, Tn, I, H = 2, 3, 3, 2
    gates = 4 if cell == "lstm" else 3
    x = T(rng.standard_normal((B, Tn, I)), True)
    h0 = T(rng.standard_normal((2, B, H)), True)
    c0 = T(rng.standard_normal((2, B, H)), True)
    ps = [T(p, True) for p in params_np(rng, gates, I, H, 1, 2)]
    lengths = loom.tensor([3, 2], dtype=loom.int64)

    def f(x, h0, c0, *ps):
        if cell == "lstm":
            out, hn, cn = N._lstm(x, h0, c0, list(ps), True, 1, True, True, lengths)
            return out.sum() + (hn * hn).sum() + (cn * 2).sum()
        out, hn = N._gru(x, h0, list(ps), True, 1, True, True, lengths)
        return out.sum() + (hn * hn).sum() + c0.sum() * 0

    assert gradcheck(f, (x, h0, c0, *ps))
    cx = T(rng.standard_normal((B, I)), True)
    ch = T(rng.standard_normal((B, H)), True)
    cw = [T(p, True) for p in params_np(rng, gates, I, H)]
    if cell == "lstm":
        assert gradcheck(lambda a, h, c, *w: F.lstm_cell(a, (h, c), *w)[0], (cx, ch, T(rng.standard_normal((B, H)), True), *cw))
    else:
        assert gradcheck(lambda a, h, *w: F.gru_cell(a, h, *w), (cx, ch, *cw))


def test_errors():
    x = loom.randn(2, 3, 4)
    with pytest.raises(ValueError, match="lstm: expected 4 parameter tensors"):
        N._lstm(x, None, None, [loom.randn(8, 4)], True, 1, False, True)
    with pytest.raises(ValueError, match="hx must be a pair"):
        F.lstm_cell(loom.randn(2, 4), (loom.randn(2, 2),), loom.randn(8, 4), loom.randn(8, 2))


@requires_cuda
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_cuda_matches_cpu(rng, cell):
    B, Tn, I, H = 5, 7, 6, 37
    gates = 4 if cell == "lstm" else 3
    x = rng.standard_normal((Tn, B, I)).astype(np.float32)
    h0 = rng.standard_normal((4, B, H)).astype(np.float32)
    ps = [p.astype(np.float32) for p in params_np(rng, gates, I, H, 2, 2)]
    lengths = [7, 3, 1, 6, 5]
    results = []
    for dev in ["cpu", "cuda"]:
        xs = loom.tensor(x, device=dev, requires_grad=True)
        hs = loom.tensor(h0, device=dev, requires_grad=True)
        pw = [loom.tensor(p, device=dev, requires_grad=True) for p in ps]
        lt = loom.tensor(lengths, dtype=loom.int64)
        if cell == "lstm":
            out, hn, _ = N._lstm(xs, hs, hs * 0.5, pw, True, 2, True, False, lt)
        else:
            out, hn = N._gru(xs, hs, pw, True, 2, True, False, lt)
        (out.sum() + (hn * hn).sum()).backward()
        results.append([out, hn, xs.grad, hs.grad] + [p.grad for p in pw])
    for a, b in zip(*results):
        np.testing.assert_allclose(b.cpu().numpy(), a.numpy(), rtol=1e-3, atol=1e-4)
