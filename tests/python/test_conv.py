"""conv1d / conv2d and pooling from Python: values against NumPy references,
PyTorch's keyword arguments (int-or-tuple, padding strings, return_indices,
None in output_size), errors, gradients via gradcheck (float64), and the
CUDA-vs-CPU comparison where a GPU is present."""
import itertools
import json

import numpy as np

import pytest

import loom
import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import T, close, requires_cuda


def conv2d_ref(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    OH = (H + 2 * padding[0] - dilation[0] * (R - 1) - 1) // stride[0] + 1
    OW = (W + 2 * padding[1] - dilation[1] * (S - 1) - 1) // stride[1] + 1
    out = np.zeros((N, K, OH, OW), dtype=np.float64)
    Kg = K // groups
    for k in range(K):
        g = k // Kg
        for r in range(R):
            for s in range(S):
                h0, w0 = r * dilation[0], s * dilation[1]
                patch = xp[:, g * Cg:(g + 1) * Cg, h0:h0 + stride[0] * (OH - 1) + 1:stride[0],
                           w0:w0 + stride[1] * (OW - 1) + 1:stride[1]]
                out[:, k] += np.einsum("nchw,c->nhw", patch, w[k, :, r, s])
        if b is not None:
            out[:, k] += b[k]
    return out


def windows(x, k, s, p, fill):
    """[N, C, OH, OW, kh, kw] windows of x (floor mode) padded with `fill`."""
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    OH = (xp.shape[2] - k[0]) // s[0] + 1
    OW = (xp.shape[3] - k[1]) // s[1] + 1
    out = np.empty(x.shape[:2] + (OH, OW, k[0], k[1]))
    for i in range(OH):
        for j in range(OW):
            out[:, :, i, j] = xp[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
    return out


def test_conv2d_values(rng):
    x = rng.standard_normal((2, 4, 9, 7)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    y = F.conv2d(T(x), T(w), T(b), stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    close(y, conv2d_ref(x, w, b, (2, 1), (1, 1), (1, 2), 2), rtol=1e-4, atol=1e-4)
    w1 = np.ascontiguousarray(w[:, :, :1, :1])
    close(F.conv2d(T(x), T(w1), None, 1, "valid", 1, 2), conv2d_ref(x, w1, groups=2), rtol=1e-4, atol=1e-4)
    w3 = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    y = F.conv2d(T(x), T(w3), padding="same")
    assert y.shape == (2, 5, 9, 7)
    close(y, conv2d_ref(x, w3, padding=(1, 1)), rtol=1e-4, atol=1e-4)


def test_conv1d_values(rng):
    x = rng.standard_normal((2, 3, 11))
    w = rng.standard_normal((4, 3, 3))
    b = rng.standard_normal(4)
    y = F.conv1d(T(x), T(w), T(b), stride=2, padding=1)
    ref = conv2d_ref(x[:, :, None], w[:, :, None], b, (1, 2), (0, 1))[:, :, 0]
    close(y, ref, rtol=1e-10, atol=1e-10)
    assert F.conv1d(T(x[0]), T(w)).shape == (4, 9)


def test_conv_errors():
    x = loom.ones(1, 4, 5, 5)
    with pytest.raises(RuntimeError, match="to have 2 channels, but got 4"):
        F.conv2d(x, loom.ones(3, 2, 3, 3))
    with pytest.raises(ValueError, match="invalid padding string"):
        F.conv2d(x, loom.ones(3, 4, 3, 3), padding="full")
    with pytest.raises(ValueError, match="not supported for strided"):
        F.conv2d(x, loom.ones(3, 4, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="single integer or a tuple of 2"):
        F.conv2d(x, loom.ones(3, 4, 3, 3), stride=(1, 1, 1))
    with pytest.raises(ValueError, match="expected 'auto', 'hand' or 'cudnn'"):
        loom._C._functional.set_conv_backend("fast")


def test_conv_gradcheck(rng):
    x = T(rng.standard_normal((2, 4, 6, 5)), True)
    w = T(rng.standard_normal((6, 2, 3, 3)), True)
    b = T(rng.standard_normal(6), True)
    assert gradcheck(lambda a, c, d: F.conv2d(a, c, d, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
                     (x, w, b))
    x1 = T(rng.standard_normal((2, 3, 8)), True)
    w1 = T(rng.standard_normal((2, 3, 2)), True)
    assert gradcheck(lambda a, c: F.conv1d(a, c, padding=1, dilation=2), (x1, w1))


def test_conv_backend_setter():
    f = loom._C._functional
    assert f.get_conv_backend() == "auto"
    f.set_conv_backend("cudnn")
    assert f.get_conv_backend() == "cudnn"
    f.set_conv_backend("auto")


def test_max_pool2d(rng):
    x = rng.standard_normal((2, 3, 7, 8)).astype(np.float32)
    y, idx = F.max_pool2d(T(x), 3, stride=2, padding=1, return_indices=True)
    win = windows(x, (3, 3), (2, 2), (1, 1), -np.inf)
    close(y, win.max(axis=(4, 5)), atol=1e-5)
    assert idx.dtype == loom.int64
    flat = x.reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2),
                                  y.numpy().reshape(2, 3, -1))
    assert F.max_pool2d(T(x), 2).shape == (2, 3, 3, 4)
    assert F.max_pool2d(T(x), 2, ceil_mode=True).shape == (2, 3, 4, 4)
    assert F.max_pool2d(T(x), (2, 3), (1, 2)).shape == (2, 3, 6, 3)


def _max_pool_naive(x, k, s, p, d):
    """max_pool2d with indices by its definition: the first maximum in row-major window order, the first NaN."""
    N, C, H, W = x.shape
    OH = (H + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    OW = (W + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    y = np.full((N, C, OH, OW), -np.inf, dtype=x.dtype)
    idx = np.full((N, C, OH, OW), -1)
    for n, c, oh, ow in itertools.product(range(N), range(C), range(OH), range(OW)):
        best, arg = -np.inf, -1
        for i in range(k[0]):
            ih = oh * s[0] - p[0] + i * d[0]
            for j in range(k[1]):
                iw = ow * s[1] - p[1] + j * d[1]
                if not (0 <= ih < H and 0 <= iw < W):
                    continue
                v = x[n, c, ih, iw]
                if arg < 0 or (not np.isnan(best) and (v > best or np.isnan(v))):
                    best, arg = v, ih * W + iw
        y[n, c, oh, ow], idx[n, c, oh, ow] = best, arg
    return y, idx


def test_max_pool2d_windows_ties_and_nan(rng):
    # Random windows, strides, padding and dilation over small integers (ties) and some NaNs: values and
    # indices as the definition says, through the kernel's interior path and its edges.
    checked = 0
    for trial in range(40):
        H, W = (int(v) for v in rng.integers(3, 16, 2))
        k = [int(v) for v in rng.integers(1, 5, 2)]
        s = [int(v) for v in rng.integers(1, 4, 2)]
        d = [int(v) for v in rng.integers(1, 3, 2)]
        p = [int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1))]
        if H + 2 * p[0] < d[0] * (k[0] - 1) + 1 or W + 2 * p[1] < d[1] * (k[1] - 1) + 1:
            continue
        x = rng.integers(0, 4, (1, 2, H, W)).astype(np.float32)
        if trial % 2:
            x[rng.random(x.shape) < 0.05] = np.nan
        y, i = F.max_pool2d(loom.tensor(x), k, s, p, d, return_indices=True)
        want_y, want_i = _max_pool_naive(x, k, s, p, d)
        np.testing.assert_array_equal(y.numpy(), want_y, err_msg=f"k={k} s={s} p={p} d={d} H={H} W={W}")
        np.testing.assert_array_equal(i.numpy(), want_i, err_msg=f"k={k} s={s} p={p} d={d} H={H} W={W}")
        checked += 1
    assert checked >= 30


def test_avg_pool2d(rng):
    x = rng.standard_normal((2, 3, 7, 8))
    close(F.avg_pool2d(T(x), 2), windows(x, (2, 2), (2, 2), (0, 0), 0).mean(axis=(4, 5)), atol=1e-5)
    close(F.avg_pool2d(T(x), 3, 2, 1), windows(x, (3, 3), (2, 2), (1, 1), 0).mean(axis=(4, 5)), atol=1e-5)
    ones = windows(np.ones_like(x), (3, 3), (2, 2), (1, 1), 0).sum(axis=(4, 5))
    close(F.avg_pool2d(T(x), 3, 2, 1, count_include_pad=False),
          windows(x, (3, 3), (2, 2), (1, 1), 0).sum(axis=(4, 5)) / ones, atol=1e-5)
    # divisor_override: the window sums over the given divisor
    close(F.avg_pool2d(T(x), 3, 2, 1, divisor_override=4),
          windows(x, (3, 3), (2, 2), (1, 1), 0).sum(axis=(4, 5)) / 4, atol=1e-5)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(T(x), 2, divisor_override=0)


def test_adaptive_avg_pool2d(rng):
    x = rng.standard_normal((2, 3, 7, 9))
    close(F.adaptive_avg_pool2d(T(x), 1), x.mean(axis=(2, 3), keepdims=True), atol=1e-5)
    y = F.adaptive_avg_pool2d(T(x), (3, None))
    assert y.shape == (2, 3, 3, 9)
    ref = np.stack([x[:, :, 0:3].mean(2), x[:, :, 2:5].mean(2), x[:, :, 4:7].mean(2)], axis=2)
    close(y, ref, atol=1e-5)


def test_pool_errors():
    x = loom.ones(1, 2, 5, 5)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(TypeError, match="floating point"):
        F.avg_pool2d(loom.ones(1, 2, 5, 5, dtype=loom.int64), 2)


def test_pool_gradcheck(rng):
    x = T(rng.permutation(2 * 3 * 6 * 7).reshape(2, 3, 6, 7) * 0.01, True)
    assert gradcheck(lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True), (x,))
    y = T(rng.standard_normal((2, 3, 6, 7)), True)
    assert gradcheck(lambda a: F.avg_pool2d(a, 3, 2, 1, count_include_pad=False), (y,))
    assert gradcheck(lambda a: F.adaptive_avg_pool2d(a, (4, 3)), (y,))


@requires_cuda
def test_conv_pool_cuda_match_cpu(rng):
    x = rng.standard_normal((3, 5, 13, 11)).astype(np.float32)
    w = (rng.standard_normal((7, 5, 3, 3)) * 0.3).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    xc, wc, bc = T(x, True), T(w, True), T(b, True)
    xg, wg, bg = (T(a).cuda().detach().requires_grad_(True) for a in (x, w, b))
    yc = F.max_pool2d(F.conv2d(xc, wc, bc, padding=1), 2)
    yg = F.max_pool2d(F.conv2d(xg, wg, bg, padding=1), 2)
    close(yg.cpu(), yc.detach().numpy(), rtol=1e-4, atol=1e-4)
    yc.sum().backward()
    yg.sum().backward()
    for c, g in ((xc, xg), (wc, wg), (bc, bg)):
        close(g.grad.cpu(), c.grad.numpy(), rtol=1e-3, atol=1e-3)


def test_backends_conv_switch():
    import loom.backends
    assert loom.backends.conv == "auto"
    try:
        for name in ("cudnn", "hand", "auto"):
            loom.backends.conv = name
            assert loom.backends.conv == name
    finally:
        loom.backends.conv = "auto"
    with pytest.raises(ValueError):
        loom.backends.conv = "winograd"


def test_deterministic_switch():
    assert loom.are_deterministic_algorithms_enabled() is False
    try:
        loom.use_deterministic_algorithms(True)
        assert loom.are_deterministic_algorithms_enabled() is True
        x = loom.randn(2, 3, 5, 5, requires_grad=True)
        w = loom.randn(4, 3, 3, 3, requires_grad=True)
        F.conv2d(x, w, padding=1).sum().backward()  # CPU kernels are deterministic already
        assert w.grad.shape == (4, 3, 3, 3)
        loom.use_deterministic_algorithms(False, warn_only=True)  # PyTorch's keyword is accepted
        assert loom.are_deterministic_algorithms_enabled() is False
        with pytest.raises(TypeError):
            loom.use_deterministic_algorithms(True, True)  # warn_only is keyword-only, as in PyTorch
    finally:
        loom.use_deterministic_algorithms(False)


def test_conv_cache_api(tmp_path):
    import loom.backends
    cache = loom.backends.conv_cache()
    cache.clear()
    # CPU convolutions never tune.
    F.conv2d(loom.randn(1, 2, 5, 5), loom.randn(3, 2, 3, 3))
    assert len(cache) == 0 and cache.entries() == []
    assert str(cache) == "(empty)\n"
    assert "conv2d" in repr(cache)
    path = tmp_path / "conv_cache.json"
    cache.save(path)
    assert json.loads(path.read_text()) == {"version": 1, "entries": []}
    # A cache file from another machine: its entries load and print.
    entry = {"family": "conv2d", "problem": "fwd float32 N1 C2 H5 W5 K3 R3 S3 on GPU X",
             "choice": "igemm64x64", "tuning_s": 0.25, "timings": {"igemm64x64": 0.1, "cudnn": 0.2, "few": -1}}
    path.write_text(json.dumps({"version": 1, "entries": [entry]}))
    assert cache.load(path) == 1
    (e,) = cache.entries()
    assert e["choice"] == "igemm64x64"
    assert e["timings_ms"] == {"igemm64x64": pytest.approx(0.1), "cudnn": pytest.approx(0.2), "few": None}
    text = str(cache)
    assert "-> igemm64x64" in text and "few failed" in text
    assert json.loads(cache.to_json())["entries"][0]["choice"] == "igemm64x64"
    assert len(loom.backends.autotune_cache()) == 1
    assert loom.backends.autotune_seconds() >= 0
    assert loom.backends.autotune_budget() == 2.0
    loom.backends.set_autotune_budget(0.5)
    assert loom.backends.autotune_budget() == 0.5
    loom.backends.set_autotune_budget(2.0)
    with pytest.raises(ValueError, match="positive"):
        loom.backends.set_autotune_budget(-1)
    cache.clear()
    assert len(cache) == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{\"version\": 1, \"entries\": [")
    with pytest.raises(ValueError, match="bad.json"):
        cache.load(bad)
    with pytest.raises(ValueError, match="cannot open"):
        cache.load(tmp_path / "missing.json")


@pytest.mark.parametrize("mode, np_mode", [("zeros", "constant"), ("reflect", "reflect"), ("replicate", "edge"),
                                           ("circular", "wrap")])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_modules_padding_mode(mode, np_mode, n):
    # The input padded as NumPy pads it, then a convolution without padding; 'same' with an even kernel pads
    # one more on the right, as PyTorch.
    rng = np.random.default_rng(n)
    conv = {1: loom.nn.Conv1d, 2: loom.nn.Conv2d, 3: loom.nn.Conv3d}[n]
    f = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
    for padding, k, dil in [(1, 3, 1), (2, 3, 2), ("same", 4, 1), ("same", 3, 2), ("valid", 3, 1)]:
        m = conv(2, 3, k, padding=padding, dilation=dil, padding_mode=mode).double()
        x = rng.standard_normal((2, 2) + (5,) * n)
        if padding == "same":
            pairs = [((dil * (k - 1)) // 2, dil * (k - 1) - (dil * (k - 1)) // 2)] * n
        elif padding == "valid":
            pairs = [(0, 0)] * n
        else:
            pairs = [(padding, padding)] * n
        xp = np.pad(x, [(0, 0), (0, 0)] + pairs, mode=np_mode)
        want = f(loom.tensor(xp), m.weight, m.bias, 1, 0, dil)
        np.testing.assert_allclose(m(loom.tensor(x)).detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    if mode != "zeros":
        assert f"padding_mode={mode}" in repr(m)
        x = loom.tensor(rng.standard_normal((1, 2) + (4,) * n), requires_grad=True)
        small = conv(2, 1, 3, padding=1, padding_mode=mode).double()
        assert loom.autograd.gradcheck(lambda t: small(t), (x,))
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        conv(2, 3, 3, padding_mode="mirror")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_functional_conv_same_padding_with_an_even_kernel(n):
    # d (k - 1) odd: (d (k - 1)) // 2 zeros on the left, the rest on the right, as PyTorch.
    rng = np.random.default_rng(10 + n)
    f = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
    for k, d in [(2, 1), (4, 1), (2, 3), (4, 2), (3, 1)]:
        x, w = rng.standard_normal((2, 3) + (5,) * n), rng.standard_normal((4, 3) + (k,) * n)
        t = d * (k - 1)
        xp = np.pad(x, [(0, 0), (0, 0)] + [(t // 2, t - t // 2)] * n)
        got = f(loom.tensor(x), loom.tensor(w), None, 1, "same", d)
        assert got.shape == (2, 4) + (5,) * n
        np.testing.assert_allclose(got.numpy(), f(loom.tensor(xp), loom.tensor(w), None, 1, 0, d).numpy(), rtol=1e-12,
                                   atol=1e-12)
    a = loom.tensor(rng.standard_normal((1, 2) + (4,) * n), requires_grad=True)
    wt = loom.tensor(rng.standard_normal((1, 2) + (2,) * n), requires_grad=True)
    assert loom.autograd.gradcheck(lambda u, v: f(u, v, padding="same"), (a, wt))
    with pytest.raises(ValueError, match="strided"):
        f(loom.ones((1, 1) + (4,) * n), loom.ones((1, 1) + (2,) * n), padding="same", stride=2)
