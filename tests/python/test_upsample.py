"""F.interpolate and the Upsample modules against PyTorch's values (computed once with PyTorch 1.13 on the
image x[h, w] = (4h + w) ** 1.5 of shape [1, 1, 3, 4]; bicubic with PyTorch 2.15): nearest, nearest-exact, bilinear and bicubic with and without
align_corners, scale_factor with and without recompute_scale_factor, linear on 3-D input, area; gradients;
argument errors; CUDA against the CPU."""
import numpy as np
import pytest

import loom
import loom.nn as nn
import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import requires_cuda

TORCH = {
    "nearest_5x7": ([5, 7], dict(size=(5, 7), mode="nearest"),
                    [0.0, 0.0, 1.0, 1.0, 2.8284271247, 2.8284271247, 5.1961524227]),
    "nearest_exact_5x7": ([5, 7], dict(size=(5, 7), mode="nearest-exact"),
                          [0.0, 0.0, 1.0, 2.8284271247, 2.8284271247, 5.1961524227, 5.1961524227]),
    "bilinear_5x7": ([5, 7], dict(size=(5, 7), mode="bilinear", align_corners=False),
                     [0.0, 0.3571428571, 0.9285714286, 1.9142135624, 2.9975503603, 4.3505362449, 5.1961524227,
                      3.2, 3.8686199839, 4.9384119582, 6.3239838063, 7.7865433337, 9.4722367435, 10.5257951246]),
    "bilinear_ac_5x7": ([5, 7], dict(size=(5, 7), mode="bilinear", align_corners=True),
                        [0.0, 0.5, 1.0, 1.9142135624, 2.8284271247, 4.0122897737, 5.1961524227]),
    "bilinear_sf_1_7": ([5, 6], dict(scale_factor=1.7, mode="bilinear", align_corners=False),
                        [0.0, 0.3823529412, 0.9705882353, 2.0217680991, 3.1766220215, 4.5694016085,
                         3.0588235294, 3.7599285822, 4.8385517403, 6.2749589097, 7.7964280001, 9.5165906407]),
    "bilinear_sf_1_7_rc": ([5, 6], dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
                           [0.0, 0.5, 1.3047378541, 2.5236892706, 4.0122897737, 5.1961524227]),
    "nearest_sf": ([6, 2], dict(scale_factor=(2.3, 0.6), mode="nearest"),
                   [0.0, 1.0, 0.0, 1.0, 8.0, 11.1803398875, 8.0, 11.1803398875, 22.627416998, 27.0]),
    "bilinear_down_2x2": ([2, 2], dict(size=(2, 2), mode="bilinear"),
                          [2.7725424859, 7.1613670346, 21.0078238602, 29.6917681901]),
    "bicubic_5x7": ([5, 7], dict(size=(5, 7), mode="bicubic", align_corners=False),
                    [-0.8464492116, -0.6010561254, -0.0995245043, 0.721121757, 1.8934981438, 3.2603434918,
                     4.1380912976, 1.8761920498]),
    "bicubic_down_2x2": ([2, 2], dict(size=(2, 2), mode="bicubic"),
                         [1.8206627509, 6.4564938266, 21.2687479648, 30.9589100902]),
    "bicubic_ac_sf_1_7": ([5, 6], dict(scale_factor=1.7, mode="bicubic", align_corners=True),
                          [0.0, 0.4145298705, 1.3609777668, 2.3033223222, 3.9445746698, 5.1961524227,
                           2.6286796564, 3.5620273784]),
    "area_2x3": ([2, 3], dict(size=(2, 3), mode="area"),
                 [5.0450849719, 7.4264263672, 10.3104442954, 17.2019392214, 21.1250137365, 25.3307117324]),
}


def image(dtype=loom.float64):
    return (loom.arange(12, dtype=loom.float64).reshape(1, 1, 3, 4) ** 1.5).to(dtype)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_interpolate_matches_pytorch(name):
    shape, kw, head = TORCH[name]
    y = F.interpolate(image(), **kw)
    assert list(y.shape) == [1, 1] + shape
    np.testing.assert_allclose(y.numpy().reshape(-1)[: len(head)], head, rtol=1e-9, atol=1e-9)
    y32 = F.interpolate(image(loom.float32), **kw)
    assert y32.dtype == loom.float32
    np.testing.assert_allclose(y32.numpy().reshape(-1)[: len(head)], head, rtol=2e-6, atol=2e-6)


def test_linear_on_3d_and_gradients():
    xl = loom.arange(5, dtype=loom.float64).reshape(1, 1, 5) ** 2
    np.testing.assert_allclose(F.interpolate(xl, size=8, mode="linear").numpy().reshape(-1),
                               [0.0, 0.4375, 1.1875, 3.0625, 5.5625, 8.6875, 12.9375, 16.0], atol=1e-12)
    assert F.interpolate(xl, scale_factor=2, mode="nearest").shape == (1, 1, 10)
    x = image().requires_grad_(True)
    w = loom.arange(35, dtype=loom.float64).reshape(1, 1, 5, 7)
    (F.interpolate(x, size=(5, 7), mode="bilinear") * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy().reshape(-1), [8.4571428571, 13.4428571429, 18.7, 22.4, 44.6142857143,
                                                            51.6857142857, 57.6, 60.3, 70.8571428571, 78.4428571429,
                                                            83.7, 84.8], atol=1e-9)
    x.grad = None
    (F.interpolate(x, size=(5, 7)) * w).sum().backward()
    assert x.grad.numpy().reshape(-1).tolist() == [16, 24, 32, 19, 72, 80, 88, 47, 57, 61, 65, 34]
    r = loom.tensor(np.random.default_rng(0).standard_normal((2, 2, 4, 5)), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear", align_corners=True), (r,))
    assert gradcheck(lambda t: F.interpolate(t, size=(3, 7), mode="nearest-exact"), (r,))


def test_modules_and_integer_images():
    up = nn.Upsample(scale_factor=2, mode="nearest")
    x = loom.tensor(np.arange(6, dtype=np.int64).reshape(1, 1, 2, 3))
    y = up(x)
    assert y.dtype == loom.int64 and y.shape == (1, 1, 4, 6)
    np.testing.assert_array_equal(y.numpy()[0, 0], np.repeat(np.repeat(np.arange(6).reshape(2, 3), 2, 0), 2, 1))
    assert "scale_factor=2.0" in repr(up)
    b = nn.UpsamplingBilinear2d(size=(5, 7))(image())
    np.testing.assert_allclose(b.numpy().reshape(-1)[:7], TORCH["bilinear_ac_5x7"][2], atol=1e-9)
    assert nn.UpsamplingNearest2d(scale_factor=3)(image()).shape == (1, 1, 9, 12)
    assert F.interpolate(image().reshape(1, 3, 4)[None], size=(6, 8)).shape == (1, 1, 6, 8)


def test_interpolate_errors():
    x = image()
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=4, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, size=4, align_corners=True)
    with pytest.raises(NotImplementedError):
        F.interpolate(x, size=4, mode="linear")
    with pytest.raises(NotImplementedError):
        F.interpolate(x.reshape(1, 1, 1, 3, 4), size=4)
    with pytest.raises(ValueError, match="unknown mode"):
        F.interpolate(x, size=4, mode="cubic")
    with pytest.raises(ValueError):
        F.interpolate(x, size=(4, 4, 4))
    with pytest.raises(RuntimeError, match="greater than 0"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(TypeError):
        F.interpolate(x.numpy(), size=4)
    with pytest.raises(TypeError):
        F.interpolate(x.to(loom.int64), size=4, mode="bilinear")


@requires_cuda
def test_cuda_matches_cpu():
    x = loom.tensor(np.random.default_rng(1).standard_normal((2, 3, 9, 13)).astype(np.float32))
    for kw in (dict(size=(17, 5)), dict(scale_factor=2.5, mode="bilinear"),
               dict(size=(4, 30), mode="bilinear", align_corners=True), dict(size=(10, 10), mode="nearest-exact"),
               dict(size=(20, 7), mode="bicubic"), dict(scale_factor=1.5, mode="bicubic", align_corners=True)):
        np.testing.assert_allclose(F.interpolate(x.cuda(), **kw).cpu().numpy(), F.interpolate(x, **kw).numpy(),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(scale_factor=2, mode="nearest"), dict(size=(3, 11), mode="nearest-exact"),
                                dict(size=(7, 3), mode="bilinear", align_corners=False),
                                dict(size=(6, 9), mode="bilinear", align_corners=True),
                                dict(size=(7, 3), mode="bicubic", align_corners=False),
                                dict(scale_factor=1.5, mode="bicubic", align_corners=True)])
def test_resizing_is_differentiable_twice(kw):
    # The backward is the adjoint of the resize and the adjoint's backward the resize: gradgradcheck,
    # and grad-of-grad of a linear map is zero in x but not in the outer gradient.
    from loom.autograd.gradcheck import gradgradcheck
    rng = np.random.default_rng(4)
    x = loom.tensor(rng.standard_normal((2, 3, 4, 5)), requires_grad=True)
    assert gradgradcheck(lambda t: F.interpolate(t, **kw), (x,))
    y = F.interpolate(x, **kw)
    g = loom.tensor(rng.standard_normal(tuple(y.shape)), requires_grad=True)
    (gx,) = loom.autograd.grad(y, x, g, create_graph=True)
    (gg,) = loom.autograd.grad((gx * x).sum(), g)
    assert np.allclose(gg.numpy(), y.detach().numpy())  # d/dg <U^T g, x> = U x

