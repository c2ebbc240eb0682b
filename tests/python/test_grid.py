"""F.grid_sample and F.affine_grid against a NumPy reference: bilinear and nearest, zeros / border /
reflection padding, align_corners, points beyond [-1, 1]; gradients of the input, the grid and theta;
a spatial transformer learning a shift; errors; CUDA against the CPU."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom.autograd import gradcheck


def T(a, **kw):
    return loom.tensor(np.ascontiguousarray(a), **kw)


def source(g, size, padding, align):
    x = (g + 1) / 2 * (size - 1) if align else ((g + 1) * size - 1) / 2
    if padding == "reflection":
        lo2, hi2 = (0, 2 * (size - 1)) if align else (-1, 2 * size - 1)
        if lo2 == hi2:
            x = np.zeros_like(x)
        else:
            lo, span = lo2 / 2, (hi2 - lo2) / 2
            d = np.abs(x - lo)
            flips = np.floor(d / span)
            extra = d - flips * span
            x = np.where(flips % 2 == 0, extra + lo, span - extra + lo)
    if padding in ("border", "reflection"):
        x = np.clip(x, 0, size - 1)
    return x


def reference(x, grid, mode, padding, align):
    N, C, H, W = x.shape
    ix = source(grid[..., 0], W, padding, align)
    iy = source(grid[..., 1], H, padding, align)

    def at(yy, xx):
        ok = (xx >= 0) & (xx < W) & (yy >= 0) & (yy < H)
        v = x[np.arange(N)[:, None, None], :, np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]  # [N, OH, OW, C]
        return np.where(ok[..., None], v, 0.0)

    if mode == "nearest":
        out = at(np.rint(iy).astype(np.int64), np.rint(ix).astype(np.int64))
    else:
        x0, y0 = np.floor(ix).astype(np.int64), np.floor(iy).astype(np.int64)
        fx, fy = (ix - x0)[..., None], (iy - y0)[..., None]
        out = (at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x0 + 1) * fx * (1 - fy) + at(y0 + 1, x0) * (1 - fx) * fy
               + at(y0 + 1, x0 + 1) * fx * fy)
    return out.transpose(0, 3, 1, 2)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_matches_reference(rng, mode, padding, align):
    for shape, gshape in [((2, 3, 5, 7), (2, 4, 6, 2)), ((1, 1, 1, 4), (1, 3, 2, 2)), ((3, 2, 8, 3), (3, 1, 9, 2))]:
        x = rng.standard_normal(shape)
        grid = rng.uniform(-1.6, 1.6, gshape)
        want = reference(x, grid, mode, padding, align)
        got = F.grid_sample(T(x), T(grid), mode=mode, padding_mode=padding, align_corners=align)
        np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
        got32 = F.grid_sample(T(x.astype(np.float32)), T(grid.astype(np.float32)), mode=mode, padding_mode=padding,
                              align_corners=align)
        assert got32.dtype == loom.float32
        np.testing.assert_allclose(got32.numpy(), want, atol=1e-4)


@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_gradcheck(rng, padding, align):
    x = T(rng.standard_normal((2, 2, 4, 5)), requires_grad=True)
    grid = T(rng.uniform(-1.4, 1.4, (2, 3, 3, 2)), requires_grad=True)
    assert gradcheck(lambda a, g: F.grid_sample(a, g, padding_mode=padding, align_corners=align), (x, grid))
    assert gradcheck(lambda a: F.grid_sample(a, grid.detach(), mode="nearest", padding_mode=padding,
                                             align_corners=align), (x,))


def test_affine_grid_identity_and_gradients(rng):
    theta = T(np.tile(np.array([[1.0, 0, 0], [0, 1, 0]]), (2, 1, 1)))
    x = rng.standard_normal((2, 3, 4, 6))
    for align in (False, True):
        grid = F.affine_grid(theta, [2, 3, 4, 6], align_corners=align)
        assert tuple(grid.shape) == (2, 4, 6, 2)
        np.testing.assert_allclose(F.grid_sample(T(x), grid, align_corners=align).numpy(), x, atol=1e-12)
    # The pixel centers of a 2 x 3 image.
    g = F.affine_grid(theta[:1], (1, 1, 2, 3)).numpy()
    np.testing.assert_allclose(g[0, :, :, 0], [[-2 / 3, 0, 2 / 3]] * 2)
    np.testing.assert_allclose(g[0, :, :, 1], [[-0.5] * 3, [0.5] * 3])
    th = T(rng.standard_normal((2, 2, 3)), requires_grad=True)
    assert gradcheck(lambda t: F.affine_grid(t, [2, 1, 3, 4]), (th,))
    assert gradcheck(lambda t: F.grid_sample(T(x), F.affine_grid(t, [2, 3, 4, 4])), (th,))


def test_spatial_transformer_learns_a_shift(rng):
    # Recover a horizontal shift of a smooth image by gradient descent on theta's translation.
    yy, xx = np.meshgrid(np.linspace(-1, 1, 16), np.linspace(-1, 1, 16), indexing="ij")
    img = np.exp(-((xx - 0.2) ** 2 + yy ** 2) * 4)[None, None]
    true = np.array([[[1.0, 0, 0.3], [0, 1, 0]]])
    target = F.grid_sample(T(img), F.affine_grid(T(true), [1, 1, 16, 16], align_corners=False), align_corners=False)
    t = T(np.array([[[1.0, 0, 0.0], [0, 1, 0]]]), requires_grad=True)
    opt = loom.optim.SGD([t], lr=0.5)
    for _ in range(200):
        opt.zero_grad()
        out = F.grid_sample(T(img), F.affine_grid(t, [1, 1, 16, 16], align_corners=False), align_corners=False)
        loss = ((out - target) ** 2).mean()
        loss.backward()
        opt.step()
    assert abs(t.detach().numpy()[0, 0, 2] - 0.3) < 0.02
    assert loss.item() < 1e-4


def test_errors():
    x, g = loom.zeros(2, 3, 4, 5), loom.zeros(2, 6, 7, 2)
    with pytest.raises(RuntimeError, match="size 2 in last dimension"):
        F.grid_sample(x, g[..., :1])
    with pytest.raises(RuntimeError, match="same batch size"):
        F.grid_sample(x[:1], g)
    with pytest.raises(ValueError, match="expected mode"):
        F.grid_sample(x, g, mode="linear")
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(x, g, padding_mode="circular")
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.grid_sample(x, g, mode="bicubic")
    with pytest.raises(TypeError, match="same dtype"):
        F.grid_sample(x, g.double())
    with pytest.raises(RuntimeError, match="Nx2x3"):
        F.affine_grid(loom.zeros(2, 3, 3), [2, 3, 4, 4])
    with pytest.raises(RuntimeError, match="4-D sizes"):
        F.affine_grid(loom.zeros(2, 2, 3), [2, 3, 4])
    xl = loom.rand(1, 1, 3, 3, dtype=loom.float64, requires_grad=True)
    y = F.grid_sample(xl, loom.zeros(1, 2, 2, 2, dtype=loom.float64, requires_grad=True)).pow(2).sum()
    with pytest.raises(NotImplementedError, match="double backward"):
        loom.autograd.grad([y], [xl], create_graph=True)


@pytest.mark.skipif(not loom.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_cuda_matches_cpu(rng, mode, padding):
    x = rng.standard_normal((2, 5, 9, 11)).astype(np.float32)
    grid = rng.uniform(-1.3, 1.3, (2, 7, 13, 2)).astype(np.float32)
    w = rng.standard_normal((2, 5, 7, 13)).astype(np.float32)
    res = []
    for dev in ("cpu", "cuda"):
        a = loom.tensor(x, device=dev, requires_grad=True)
        g = loom.tensor(grid, device=dev, requires_grad=True)
        y = F.grid_sample(a, g, mode=mode, padding_mode=padding, align_corners=True)
        (y * loom.tensor(w, device=dev)).sum().backward()
        res.append([y.detach().cpu().numpy(), a.grad.cpu().numpy(), g.grad.cpu().numpy()])
    for c, d in zip(*res):
        np.testing.assert_allclose(d, c, rtol=1e-4, atol=1e-4)
