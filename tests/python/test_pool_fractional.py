"""Fractional max pooling beyond the PyTorch fixtures (test_pool_torch.py: values, indices and gradients for
given _random_samples): drawn windows, the modules, gradients, the errors PyTorch raises."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom import nn


def test_drawn_windows_cover_the_input_and_keep_their_maxima():
    loom.manual_seed(3)
    x = loom.randn(2, 3, 13, 11)
    y, idx = F.fractional_max_pool2d(x, 2, output_ratio=0.5, return_indices=True)
    assert y.shape == (2, 3, 6, 5) and idx.dtype == loom.int64
    flat = x.reshape(2, 3, -1).numpy()
    got = np.take_along_axis(flat, idx.reshape(2, 3, -1).numpy(), 2).reshape(y.shape)
    np.testing.assert_array_equal(got, y.numpy())
    # the last window of rows starts at 13 - 2 = 11: its maxima lie in rows 11 and 12
    rows = idx.numpy() // 11
    assert rows[..., -1, :].min() >= 11 and rows.max() <= 12
    z = F.fractional_max_pool3d(loom.randn(1, 2, 6, 7, 8), (2, 2, 3), output_size=(3, 3, 3))
    assert z.shape == (1, 2, 3, 3, 3)


def test_gradients():
    x = loom.randn(1, 2, 7, 6, dtype=loom.float64, requires_grad=True)
    s = loom.rand(1, 2, 2, dtype=loom.float64)
    assert loom.autograd.gradcheck(lambda t: F.fractional_max_pool2d(t, 3, output_size=(4, 3), _random_samples=s),
                                   (x,))
    v = loom.randn(2, 5, 4, 6, dtype=loom.float64, requires_grad=True)
    s3 = loom.rand(1, 2, 3, dtype=loom.float64)
    assert loom.autograd.gradcheck(lambda t: F.fractional_max_pool3d(t, 2, output_size=(3, 2, 4),
                                                                     _random_samples=s3), (v,))


def test_modules():
    s = loom.rand(2, 3, 2)
    m = nn.FractionalMaxPool2d(3, output_size=(4, 4), return_indices=True, _random_samples=s)
    x = loom.randn(2, 3, 9, 10)
    y, i = m(x)
    y2, i2 = F.fractional_max_pool2d(x, 3, (4, 4), return_indices=True, _random_samples=s)
    np.testing.assert_array_equal(y.numpy(), y2.numpy())
    np.testing.assert_array_equal(i.numpy(), i2.numpy())
    assert "_random_samples" in dict(m.named_buffers())
    m3 = nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0.5, 0.5))
    assert m3(loom.randn(1, 2, 6, 6, 6)).shape == (1, 2, 3, 3, 3)
    with pytest.raises(ValueError, match="requires specifying either an output size, or a pooling ratio"):
        nn.FractionalMaxPool2d(3)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        nn.FractionalMaxPool2d(3, output_size=2, output_ratio=0.5)
    with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 0\)"):
        nn.FractionalMaxPool2d(3, output_ratio=0)


def test_errors():
    x = loom.randn(2, 3, 10, 9)
    with pytest.raises(ValueError, match="requires specifying either an output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 3)
    with pytest.raises(RuntimeError, match="pool height 3 too large relative to input height 10"):
        F.fractional_max_pool2d(x, 3, output_size=(9, 5))
    with pytest.raises(RuntimeError, match="pool width 2 too large relative to input width 6"):
        F.fractional_max_pool3d(loom.randn(1, 1, 7, 8, 6), (1, 3, 2), output_size=(6, 2, 5))
    with pytest.raises(RuntimeError, match="Expected 3D or 4D tensor"):
        F.fractional_max_pool2d(loom.randn(2, 3, 4, 5, 6), 3, output_size=2)
    with pytest.raises(RuntimeError, match="kernel size should be greater than zero, but got 0x0"):
        F.fractional_max_pool2d(x, 0, output_size=4)
    with pytest.raises(RuntimeError, match="kernel_size must either be a single Int or tuple of Ints"):
        F.fractional_max_pool2d(x, (3, 3, 3), output_size=4)
    with pytest.raises(RuntimeError, match="with dimension 2 being empty"):
        F.fractional_max_pool2d(loom.zeros(2, 3, 0, 9), 3, output_size=4)
    with pytest.raises(RuntimeError, match="floating point"):
        F.fractional_max_pool2d(x.long(), 3, output_size=4)
    with pytest.raises(RuntimeError, match=r"_random_samples.size\(2\) equals to 2; got 3"):
        F.fractional_max_pool2d(x, 3, output_size=4, _random_samples=loom.rand(2, 3, 3))
    with pytest.raises(RuntimeError, match="same dtype as input"):
        F.fractional_max_pool2d(x, 3, output_size=4, _random_samples=loom.rand(2, 3, 2, dtype=loom.float64))
    with pytest.raises(RuntimeError, match="no less then input batch size"):
        F.fractional_max_pool2d(x, 3, output_size=4, _random_samples=loom.rand(1, 3, 2))
    y = F.fractional_max_pool2d(x, 3, output_size=(0, 1))
    assert y.shape == (2, 3, 0, 1)
