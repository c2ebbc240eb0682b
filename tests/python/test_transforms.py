"""loom.multimodal.transforms and its functional module against NumPy references: quarter turns as
np.rot90, affine warps sampled by hand from the inverted forward matrix, whole-pixel shifts, flips,
crops, resizes, the colour adjustments (hue through colorsys), the random classes' ranges, Compose,
generator determinism, and [C, H, W] / [N, C, H, W] inputs."""
import colorsys
import math
import threading

import numpy as np
import pytest

import loom
from loom.multimodal import transforms as T
from loom.multimodal.transforms import functional as F


def image(rng, *shape):
    return loom.tensor(rng.random(shape)).to(loom.float64)


def np_of(t):
    return t.detach().numpy()


def warp_ref(x, angle=0.0, translate=(0.0, 0.0), scale=1.0, shear=(0.0, 0.0), fill=0.0):
    """The documented forward map p -> t + scale R(angle) ShearY ShearX p (centre-relative, y down),
    inverted with NumPy, sampled bilinearly at pixel centres; fill for taps outside."""
    a = math.radians(angle)
    r = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    shx = np.array([[1.0, math.tan(math.radians(shear[0]))], [0.0, 1.0]])
    shy = np.array([[1.0, 0.0], [math.tan(math.radians(shear[1])), 1.0]])
    m = np.linalg.inv(scale * r @ shy @ shx)
    c, h, w = x.shape
    i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    ox, oy = j + 0.5 - w / 2 - translate[0], i + 0.5 - h / 2 - translate[1]
    sx = m[0, 0] * ox + m[0, 1] * oy + w / 2 - 0.5
    sy = m[1, 0] * ox + m[1, 1] * oy + h / 2 - 0.5
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    ax, ay = sx - x0, sy - y0
    out = np.zeros_like(x)
    for dy, wy in ((0, 1 - ay), (1, ay)):
        for dx, wx in ((0, 1 - ax), (1, ax)):
            yy, xx = y0 + dy, x0 + dx
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            v = np.where(inside, x[:, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)], fill)
            out += wy * wx * v
    return out


def bilinear_up_ref(x, h, w):
    """F.interpolate(mode="bilinear", align_corners=False) for enlarging (no antialiasing involved)."""
    def axis(n_in, n_out):
        src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, src - lo
    ylo, yhi, fy = axis(x.shape[-2], h)
    xlo, xhi, fx = axis(x.shape[-1], w)
    rows = x[..., ylo, :] * (1 - fy)[:, None] + x[..., yhi, :] * fy[:, None]
    return rows[..., xlo] * (1 - fx) + rows[..., xhi] * fx


# ---------------------------------------------------------------- functional geometry


@pytest.mark.parametrize("shape", [(2, 5, 5), (3, 2, 6, 6)])
def test_quarter_turns_are_rot90(rng, shape):
    x = image(rng, *shape)
    for k in range(-1, 5):
        for mode in ("bilinear", "nearest"):
            out = np_of(F.rotate(x, 90 * k, interpolation=mode))
            np.testing.assert_array_equal(out, np.rot90(np_of(x), k, axes=(-2, -1)))


def test_rotate_and_affine_match_the_reference(rng):
    x = image(rng, 2, 7, 9)
    np.testing.assert_allclose(np_of(F.rotate(x, 30)), warp_ref(np_of(x), angle=30), atol=1e-12)
    fill = np.array([0.5, -1.0])[:, None, None]
    np.testing.assert_allclose(np_of(F.rotate(x, -47, fill=[0.5, -1.0])), warp_ref(np_of(x), angle=-47, fill=fill),
                               atol=1e-12)
    for angle, translate, scale, shear in [(0, (0, 0), 1.7, (0, 0)), (25, (1.5, -2), 0.8, (10, 0)),
                                           (-60, (3, 1), 1.2, (-15, 20))]:
        out = np_of(F.affine(x, angle, list(translate), scale, list(shear)))
        np.testing.assert_allclose(out, warp_ref(np_of(x), angle, translate, scale, shear), atol=1e-12)
    # A single shear number is along x.
    np.testing.assert_allclose(np_of(F.affine(x, 0, [0, 0], 1.0, 12)), warp_ref(np_of(x), shear=(12, 0)),
                               atol=1e-12)


def test_identity_affine_and_whole_pixel_shifts_are_exact(rng):
    for dtype in (loom.float32, loom.float64):
        x = loom.rand(2, 3, 6, 7).to(dtype)
        for mode in ("bilinear", "nearest"):
            np.testing.assert_array_equal(np_of(F.affine(x, 0, [0, 0], 1.0, 0, interpolation=mode)), np_of(x))
    x = np_of(image(rng, 2, 5, 6))
    out = np_of(F.affine(loom.tensor(x), 0, [2, -1], 1.0, 0, fill=-7.0))
    ref = np.full_like(x, -7.0)
    ref[:, :4, 2:] = x[:, 1:, :4]  # out[r][c] = in[r + 1][c - 2]
    np.testing.assert_array_equal(out, ref)


def test_flips_crops_and_normalize(rng):
    x = image(rng, 2, 3, 4, 5)
    xn = np_of(x)
    np.testing.assert_array_equal(np_of(F.hflip(x)), xn[..., ::-1])
    np.testing.assert_array_equal(np_of(F.vflip(x)), xn[..., ::-1, :])
    np.testing.assert_array_equal(np_of(F.crop(x, 1, 2, 2, 3)), xn[..., 1:3, 2:5])
    padded = np.zeros((2, 3, 3, 4))
    padded[..., 1:, :3] = xn[..., :2, 2:]
    np.testing.assert_array_equal(np_of(F.crop(x, -1, 2, 3, 4)), padded)
    np.testing.assert_array_equal(np_of(F.center_crop(x, 2)), xn[..., 1:3, 1:3])
    np.testing.assert_array_equal(np_of(F.center_crop(x, (3, 4))), xn[..., 0:3, 0:4])
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    ref = (xn - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(np_of(F.normalize(x, mean, std)), ref, rtol=1e-15)
    y = x.clone()
    assert F.normalize(y, mean, std, inplace=True) is y
    np.testing.assert_allclose(np_of(y), ref, rtol=1e-15)


def test_resize(rng):
    x = image(rng, 2, 4, 5)
    np.testing.assert_allclose(np_of(F.resize(x, (7, 11))), bilinear_up_ref(np_of(x), 7, 11), atol=1e-12)
    assert F.resize(loom.rand(3, 20, 30), 10).shape == (3, 10, 15)
    assert F.resize(loom.rand(2, 3, 30, 20), [10]).shape == (2, 3, 15, 10)
    idx_h = np.floor(np.arange(3) * np.float32(4 / 3)).astype(int)
    idx_w = np.floor(np.arange(2) * np.float32(5 / 2)).astype(int)
    np.testing.assert_array_equal(np_of(F.resize(x, (3, 2), interpolation=T.InterpolationMode.NEAREST)),
                                  np_of(x)[:, idx_h][:, :, idx_w])
    np.testing.assert_array_equal(np_of(F.resized_crop(x, 1, 1, 2, 3, (2, 3))), np_of(x)[:, 1:3, 1:4])
    # Shrinking antialiases: a 1-pixel checkerboard averages to about 0.5.
    board = loom.tensor(np.indices((1, 64, 64)).sum(axis=0) % 2 * 1.0)
    np.testing.assert_allclose(np_of(F.resize(board, 8)), 0.5, atol=0.02)


# ---------------------------------------------------------------- colour


def grey(x):
    return 0.2989 * x[0] + 0.587 * x[1] + 0.114 * x[2]


def test_colour_adjustments(rng):
    x = image(rng, 3, 4, 5)
    xn = np_of(x)
    np.testing.assert_array_equal(np_of(F.adjust_brightness(x, 1.5)), np.minimum(1.5 * xn, 1.0))
    np.testing.assert_allclose(np_of(F.adjust_contrast(x, 0.3)), np.clip(0.3 * xn + 0.7 * grey(xn).mean(), 0, 1),
                               atol=1e-12)
    np.testing.assert_allclose(np_of(F.adjust_saturation(x, 1.6)), np.clip(1.6 * xn - 0.6 * grey(xn), 0, 1),
                               atol=1e-12)
    ref = np.empty_like(xn)
    for r in range(4):
        for c in range(5):
            h, s, v = colorsys.rgb_to_hsv(*xn[:, r, c])
            ref[:, r, c] = colorsys.hsv_to_rgb((h + 0.2) % 1.0, s, v)
    np.testing.assert_allclose(np_of(F.adjust_hue(x, 0.2)), ref, atol=1e-12)
    g = image(rng, 1, 3, 3)
    np.testing.assert_array_equal(np_of(F.adjust_saturation(g, 0.0)), np_of(g))
    np.testing.assert_allclose(np_of(F.adjust_contrast(g, 0.0)), np.full((1, 3, 3), np_of(g).mean()), atol=1e-12)


def test_color_jitter_stays_in_its_ranges(rng):
    x = loom.tensor(rng.random((32, 3, 4, 4)) * 0.5 + 0.01)
    out = np_of(T.ColorJitter(brightness=0.3)(x))
    ratio = out / np_of(x)
    per_image = ratio.reshape(32, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1].repeat(48, axis=1), rtol=1e-12)
    assert per_image.min() >= 0.7 and per_image.max() <= 1.3
    assert per_image.max() - per_image.min() > 0.2
    ranged = np_of(T.ColorJitter(brightness=(1.1, 1.2))(x)) / np_of(x)
    assert ranged.min() >= 1.1 - 1e-12 and ranged.max() <= 1.2 + 1e-12
    full = np_of(T.ColorJitter(0.5, 0.5, 0.5, 0.1)(loom.rand(4, 3, 6, 6)))
    assert full.min() >= 0.0 and full.max() <= 1.0


# ---------------------------------------------------------------- random classes


def test_random_classes_take_both_shapes_and_draw_per_image():
    x = loom.rand(5, 3, 12, 12)
    transforms = [
        T.RandomRotation(20),
        T.RandomRotation((-5, 40), interpolation="nearest", fill=(0.1, 0.2, 0.3)),
        T.RandomAffine(10, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=5),
        T.RandomAffine(0, shear=(-5, 5, -10, 10)),
        T.RandomHorizontalFlip(),
        T.RandomVerticalFlip(0.3),
        T.RandomResizedCrop(8),
        T.RandomResizedCrop((6, 9), scale=(0.3, 0.9), ratio=(0.5, 2.0)),
        T.RandomCrop(10, padding=2),
        T.CenterCrop((7, 8)),
        T.Resize(6),
        T.ColorJitter(0.2, 0.3, 0.4, 0.1),
        T.Normalize([0.5, 0.4, 0.3], [0.2, 0.2, 0.2]),
    ]
    for t in transforms:
        t.generator = loom.Generator().manual_seed(7)
        batch = t(x)
        t.generator = loom.Generator().manual_seed(7)
        single = t(x[0])
        assert batch.shape[0] == 5 and batch.shape[1:] == single.shape, repr(t)
        # The first image of a batch consumes the same draws as the image alone.
        np.testing.assert_array_equal(np_of(batch[0]), np_of(single), err_msg=repr(t))
    assert T.RandomResizedCrop(8)(x).shape == (5, 3, 8, 8)
    assert T.Resize(6)(loom.rand(3, 12, 24)).shape == (3, 6, 12)
    assert T.CenterCrop(4)(loom.rand(3, 12, 24)).shape == (3, 4, 4)


def test_random_affine_shifts_whole_pixels_within_translate():
    ramp = loom.tensor((100.0 * np.arange(10)[:, None] + np.arange(10)[None, :])[None])
    t = T.RandomAffine(0, translate=(0.2, 0.3))
    seen = set()
    for _ in range(40):
        v = np_of(t(ramp))[0, 5, 5]
        dy, dx = 5 - v // 100, 5 - v % 100
        assert abs(dx) <= 2 and abs(dy) <= 3 and dx == round(dx)
        seen.add((dx, dy))
    assert len(seen) > 5


def test_random_resized_crop_full_image_is_a_resize(rng):
    x = image(rng, 2, 3, 10, 15)
    out = T.RandomResizedCrop((4, 6), scale=(1.0, 1.0), ratio=(1.5, 1.5))(x)
    np.testing.assert_array_equal(np_of(out), np_of(F.resize(x, (4, 6))))


def test_compose_applies_in_order_and_takes_python_callables():
    x = loom.rand(3, 8, 8)
    flip = T.RandomHorizontalFlip(1.0)
    crop = T.CenterCrop(4)
    seq = T.Compose([flip, crop, T.Lambda(lambda t: t * 2), lambda t: t + 1])
    np.testing.assert_array_equal(np_of(seq(x)), np_of(crop(flip(x))) * 2 + 1)
    assert "CenterCrop(size=(4, 4))" in repr(seq)
    with pytest.raises(TypeError, match="Compose: transform 1"):
        T.Compose([flip, 3])


def test_generators_make_augmentation_repeatable():
    x = loom.rand(4, 3, 10, 10)

    def pipeline(generator=None):
        return T.Compose([T.RandomRotation(30, generator=generator),
                          T.RandomAffine(5, translate=(0.1, 0.1), scale=(0.9, 1.1), generator=generator),
                          T.RandomHorizontalFlip(generator=generator),
                          T.ColorJitter(0.3, 0.3, 0.3, 0.05, generator=generator),
                          T.RandomResizedCrop(6, generator=generator)])

    loom.manual_seed(3)
    a = np_of(pipeline()(x))
    loom.manual_seed(3)
    b = np_of(pipeline()(x))
    c = np_of(pipeline()(x))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)

    # A loom.Generator repeats with its seed and leaves the global stream alone.
    loom.manual_seed(5)
    expected = loom.rand(3)
    loom.manual_seed(5)
    g = np_of(pipeline(loom.Generator().manual_seed(11))(x))
    np.testing.assert_array_equal(np_of(loom.rand(3)), np_of(expected))
    np.testing.assert_array_equal(np_of(pipeline(loom.Generator().manual_seed(11))(x)), g)
    assert not np.array_equal(np_of(pipeline(loom.Generator().manual_seed(12))(x)), g)


def test_threads_get_the_same_results():
    x = loom.rand(8, 3, 32, 32)
    t = T.Compose([T.RandomRotation(30), T.ColorJitter(0.3, 0.3, 0.3, 0.1)])
    seeds = list(range(8))
    expected = [np_of(T.RandomRotation(30, generator=loom.Generator().manual_seed(s))(x)) for s in seeds]
    got = [None] * len(seeds)

    def work(k):
        got[k] = np_of(T.RandomRotation(30, generator=loom.Generator().manual_seed(seeds[k]))(x))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(seeds))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)
    assert t(x).shape == x.shape


# ---------------------------------------------------------------- errors


def test_bad_arguments_raise_naming_the_transform():
    with pytest.raises(ValueError, match="RandomRotation.*-3"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="RandomRotation.*10, -10"):
        T.RandomRotation((10, -10))
    with pytest.raises(ValueError, match="RandomAffine.*translate.*1.5"):
        T.RandomAffine(0, translate=(1.5, 0))
    with pytest.raises(ValueError, match="RandomAffine.*scale"):
        T.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ValueError, match="RandomAffine.*shear"):
        T.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(ValueError, match="RandomHorizontalFlip.*1.5"):
        T.RandomHorizontalFlip(1.5)
    with pytest.raises(ValueError, match="ColorJitter.*brightness.*-0.1"):
        T.ColorJitter(brightness=-0.1)
    with pytest.raises(ValueError, match="ColorJitter.*hue"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match="RandomResizedCrop.*scale"):
        T.RandomResizedCrop(8, scale=(0.9, 0.1))
    with pytest.raises(ValueError, match="Normalize.*non-zero"):
        T.Normalize([0.5], [0.0])
    with pytest.raises(ValueError, match="Resize.*antialias"):
        T.Resize(8, antialias=False)
    with pytest.raises(ValueError, match="RandomCrop.*padding"):
        T.RandomCrop(8, padding=(1, 2))
    with pytest.raises(ValueError, match="interpolation"):
        T.RandomRotation(5, interpolation="bicubic")
    with pytest.raises(ValueError, match="rotate.*expand"):
        F.rotate(loom.rand(3, 4, 4), 10, expand=True)
    with pytest.raises(ValueError, match="transforms::rotate.*fill"):
        F.rotate(loom.rand(3, 4, 4), 10, fill=[0, 1])
    with pytest.raises(RuntimeError, match=r"transforms::center_crop.*\[3, 4, 4\]"):
        T.CenterCrop(5)(loom.rand(3, 4, 4))
    with pytest.raises(RuntimeError, match=r"transforms::random_rotation.*\[4, 4\]"):
        T.RandomRotation(5)(loom.rand(4, 4))
    with pytest.raises(TypeError, match="float32 or float64"):
        F.hflip(loom.ones(3, 4, 4, dtype=loom.int64))
    with pytest.raises(TypeError):
        T.RandomRotation(5)([[1.0]])
    with pytest.raises(TypeError, match="generator"):
        T.RandomRotation(5, generator=3)(loom.rand(3, 4, 4))
