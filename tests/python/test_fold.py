"""F.unfold / F.fold and nn.Unfold / nn.Fold against PyTorch's values (computed once with PyTorch 1.13) and a
NumPy im2col: shapes, patch order, padding, stride, dilation, unbatched input, output sizes no patch fills,
fold(unfold(x)) = x times the patch counts, gradients and errors."""
import numpy as np
import pytest

import loom
import loom.nn as nn
import loom.nn.functional as F
from loom.autograd import gradcheck


def im2col(x, k, d, p, s):
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (H + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (W + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = np.zeros((N, C, k[0], k[1], oh, ow))
    for i in range(k[0]):
        for j in range(k[1]):
            cols[:, :, i, j] = xp[:, :, i * d[0]: i * d[0] + s[0] * oh: s[0], j * d[1]: j * d[1] + s[1] * ow: s[1]]
    return cols.reshape(N, C * k[0] * k[1], oh * ow)


def test_unfold_and_fold_match_pytorch():
    x = loom.arange(2 * 3 * 4 * 5, dtype=loom.float64).reshape(2, 3, 4, 5)
    u = F.unfold(x, (2, 3), padding=1, stride=(1, 2))
    assert u.shape == (2, 18, 15)
    np.testing.assert_array_equal(u.numpy()[0, :4, :6], [[0, 0, 0, 0, 1, 3], [0, 0, 0, 0, 2, 4], [0, 0, 0, 1, 3, 0],
                                                         [0, 1, 3, 0, 6, 8]])
    f = F.fold(u, (4, 5), (2, 3), padding=1, stride=(1, 2))
    np.testing.assert_array_equal(f.numpy()[0, 0], [[0, 4, 4, 12, 8], [10, 24, 14, 32, 18], [20, 44, 24, 52, 28],
                                                    [30, 64, 34, 72, 38]])
    g = F.fold(loom.arange(2 * 4 * 6, dtype=loom.float64).reshape(2, 4, 6), (4, 7), 2, stride=2)
    np.testing.assert_array_equal(g.numpy()[0, 0], [[0, 6, 1, 7, 2, 8, 0], [12, 18, 13, 19, 14, 20, 0],
                                                    [3, 9, 4, 10, 5, 11, 0], [15, 21, 16, 22, 17, 23, 0]])


@pytest.mark.parametrize("k,d,p,s", [((3, 3), (1, 1), (1, 1), (1, 1)), ((2, 4), (2, 1), (0, 2), (3, 2)),
                                     ((16, 16), (1, 1), (0, 0), (16, 16))])
def test_unfold_matches_im2col(rng, k, d, p, s):
    x = rng.standard_normal((2, 3, 32, 33)).astype(np.float32)
    np.testing.assert_allclose(F.unfold(loom.tensor(x), k, d, p, s).numpy(), im2col(x, k, d, p, s), atol=1e-6)
    u = nn.Unfold(k, d, p, s)(loom.tensor(x[0]))  # unbatched
    np.testing.assert_allclose(u.numpy(), im2col(x[:1], k, d, p, s)[0], atol=1e-6)
    ones = loom.ones(1, 3, 32, 33)
    counts = F.fold(F.unfold(ones, k, d, p, s), (32, 33), k, d, p, s)  # how many patches cover each pixel
    back = F.fold(F.unfold(loom.tensor(x), k, d, p, s), (32, 33), k, d, p, s)
    np.testing.assert_allclose(back.numpy(), x * counts.numpy(), atol=1e-4)


def test_fold_unfold_gradients_and_module(rng):
    x = loom.tensor(rng.standard_normal((2, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.unfold(t, 3, padding=1, stride=2), (x,))
    c = loom.tensor(rng.standard_normal((2, 8, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.fold(t, (5, 10), 2, stride=(2, 3)), (c,))
    m = nn.Fold((4, 5), (2, 3), padding=1, stride=(1, 2))
    assert m(loom.randn(18, 15)).shape == (3, 4, 5)
    assert "output_size=(4, 5)" in repr(m)


def test_fold_unfold_errors():
    with pytest.raises(RuntimeError, match="3D or 4D"):
        F.unfold(loom.zeros(4, 4), 2)
    with pytest.raises(RuntimeError, match="divisible"):
        F.fold(loom.zeros(1, 7, 4), (3, 3), 2)
    with pytest.raises(RuntimeError, match="sliding blocks"):
        F.fold(loom.zeros(1, 4, 5), (3, 3), 2)
    with pytest.raises(TypeError):
        F.unfold(loom.zeros(1, 1, 4, 4), "2")
    with pytest.raises(RuntimeError):
        F.unfold(loom.zeros(1, 1, 4, 4), 0)
