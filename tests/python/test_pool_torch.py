"""adaptive_max_pool2d and the 1-D pools (max_pool1d, avg_pool1d, adaptive_avg_pool1d, adaptive_max_pool1d)
against PyTorch: tests/data/torch_pool.json holds PyTorch 2.15's values, indices and input gradients in float64
(made by tests/data/make_pool_fixtures.py), including inputs with many equal values (the first maximum wins) and
adaptive windows that overlap. Also CUDA against the CPU, the modules and the errors."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom import nn

from _helpers import arr, close, load_fixture, requires_cuda

FIXTURE = load_fixture("torch_pool.json")


def kwargs_of(case):
    kw = dict(case["kwargs"])
    for key in ("output_size", "output_ratio", "kernel_size"):
        if isinstance(kw.get(key), list):
            kw[key] = tuple(kw[key])
    if isinstance(kw.get("_random_samples"), dict):
        kw["_random_samples"] = loom.tensor(arr(kw["_random_samples"]))
    return kw


@pytest.mark.parametrize("case", FIXTURE["cases"],
                         ids=[f"{i}-{c['fn']}" for i, c in enumerate(FIXTURE["cases"])])
def test_matches_pytorch(case):
    x = loom.tensor(arr(case["input"]), requires_grad=True)
    out = getattr(F, case["fn"])(x, **kwargs_of(case))
    values = out[0] if case["indices"] is not None else out
    close(values, arr(case["values"]), rtol=1e-10, atol=1e-11)
    if case["indices"] is not None:
        assert out[1].dtype == loom.int64
        np.testing.assert_array_equal(out[1].numpy(), arr(case["indices"]))
    (values * loom.tensor(arr(case["out_weight"]))).sum().backward()
    close(x.grad, arr(case["grad"]), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", [c for c in FIXTURE["cases"] if c["fn"] == "max_pool1d"],
                         ids=lambda c: str(c["kwargs"]))
def test_max_pool1d_without_autograd_matches_pytorch(case):
    # Without autograd the CPU computes the maxima alone (no indices): the same values.
    kw = kwargs_of(case)
    kw.pop("return_indices", None)
    close(F.max_pool1d(loom.tensor(arr(case["input"])), **kw), arr(case["values"]), rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("dtype", [loom.float32, loom.float64])
def test_max_pool_values_path_equals_indices_path(dtype):
    rng = np.random.default_rng(3)
    x = rng.integers(-4, 5, size=(3, 5, 13, 37)).astype(np.float64) / 2  # many ties
    x[x == 2.0] = -np.inf
    x.flat[::41] = np.nan
    t = loom.tensor(x, dtype=dtype)
    for k, s, p, d, ceil in [(2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 1, False), ((2, 3), (1, 2), (1, 1), 1, False),
                             (3, 3, 1, 2, True), (5, 1, 2, 1, False), ((1, 4), (1, 3), 0, (1, 2), True)]:
        ref = F.max_pool2d(t, k, s, p, d, ceil, return_indices=True)[0].numpy()
        for inp in (t, t.transpose(2, 3).contiguous().transpose(2, 3), t[0]):  # non-contiguous, unbatched
            got = F.max_pool2d(inp, k, s, p, d, ceil).numpy()
            np.testing.assert_array_equal(got, ref if inp.dim() == 4 else ref[0])
    y = loom.tensor(x[:, :, 0], dtype=dtype)  # [3, 5, 37]
    for k, s, p in [(2, 2, 0), (3, 1, 1), (4, 3, 2)]:
        np.testing.assert_array_equal(F.max_pool1d(y, k, s, p).numpy(),
                                      F.max_pool1d(y, k, s, p, return_indices=True)[0].numpy())
    # with autograd the indices path runs, and the gradient reaches the maxima
    g = loom.tensor(x[:1, :1, :4, :4], dtype=dtype, requires_grad=True)
    F.max_pool2d(g, 2).sum().backward()
    assert g.grad is not None and g.grad.shape == (1, 1, 4, 4)


def test_nan_wins_and_gradcheck():
    x = loom.tensor([[[1.0, float("nan"), 3.0, 2.0, float("nan")]]])
    y, i = F.adaptive_max_pool1d(x, 2, return_indices=True)
    assert np.isnan(y.numpy()).all() and i.tolist() == [[[1, 4]]]
    a = loom.randn(2, 3, 5, 6, dtype=loom.float64, requires_grad=True)
    assert loom.autograd.gradcheck(lambda t: F.adaptive_max_pool2d(t, (4, 4)), (a,))
    assert loom.autograd.gradcheck(lambda t: F.adaptive_max_pool2d(t, (7, 9)), (a,))  # overlapping windows


def test_modules():
    x = loom.randn(2, 4, 12)
    close(nn.MaxPool1d(3, 2, 1)(x), F.max_pool1d(x, 3, 2, 1))
    y, i = nn.MaxPool1d(2, return_indices=True)(x)
    assert y.shape == (2, 4, 6) and i.dtype == loom.int64
    close(nn.AvgPool1d(3, count_include_pad=False, padding=1)(x), F.avg_pool1d(x, 3, padding=1, count_include_pad=False))
    close(nn.AdaptiveAvgPool1d(5)(x), F.adaptive_avg_pool1d(x, 5))
    close(nn.AdaptiveMaxPool1d(1)(x), x.amax(-1, keepdim=True))
    x2 = loom.randn(2, 4, 9, 7)
    close(nn.AdaptiveMaxPool2d((3, None))(x2), F.adaptive_max_pool2d(x2, (3, 7)))
    close(nn.AdaptiveMaxPool2d(1)(x2), x2.amax((2, 3), keepdim=True))
    assert len(nn.AdaptiveMaxPool2d(2, return_indices=True)(x2)) == 2
    assert "output_size=(3, None)" in repr(nn.AdaptiveMaxPool2d((3, None)))


def test_bad_inputs():
    with pytest.raises(RuntimeError, match="max_pool1d: expected 2D or 3D input"):
        F.max_pool1d(loom.randn(2, 3, 4, 5), 2)
    with pytest.raises(RuntimeError, match="output_size must be positive"):
        F.adaptive_max_pool2d(loom.randn(1, 2, 4, 4), (0, 2))
    with pytest.raises(RuntimeError, match="adaptive_max_pool2d: expected 3D or 4D input"):
        F.adaptive_max_pool2d(loom.randn(4, 4), 2)
    with pytest.raises(TypeError, match="floating point"):
        F.adaptive_max_pool2d(loom.ones(1, 2, 4, 4, dtype=loom.int64), 2)
    with pytest.raises(RuntimeError, match="1-element tuple"):
        F.avg_pool1d(loom.randn(2, 3, 8), (2, 2))
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        F.max_pool1d(loom.randn(2, 3, 8), 2.5)
    with pytest.raises(ValueError, match="output_size must be an int or a pair"):
        F.adaptive_max_pool2d(loom.randn(1, 2, 4, 4), (1, 2, 3))


@requires_cuda
def test_cuda_matches_cpu():
    rng = np.random.default_rng(0)
    for shape, size in (((2, 3, 7, 9), (3, 4)), ((2, 3, 7, 9), (10, 13)), ((1, 5, 33, 17), (1, 1)),
                        ((3, 2, 6, 6), (6, 6))):
        x = rng.integers(0, 4, shape).astype(np.float32)  # ties: the same argmax rule on both
        xc = loom.tensor(x, requires_grad=True)
        xg = loom.tensor(x).cuda().requires_grad_(True)
        yc, ic = F.adaptive_max_pool2d(xc, size, return_indices=True)
        yg, ig = F.adaptive_max_pool2d(xg, size, return_indices=True)
        np.testing.assert_array_equal(yg.cpu().numpy(), yc.numpy())
        np.testing.assert_array_equal(ig.cpu().numpy(), ic.numpy())
        w = rng.standard_normal(yc.shape).astype(np.float32)
        (yc * loom.tensor(w)).sum().backward()
        (yg * loom.tensor(w).cuda()).sum().backward()
        close(xg.grad.cpu(), xc.grad, rtol=1e-6, atol=1e-6)
