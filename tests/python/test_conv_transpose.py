"""F.conv_transpose1d / conv_transpose2d and nn.ConvTranspose1d / ConvTranspose2d: PyTorch's values on a
small case, the identity with conv2d's input gradient, output_size in the modules, the default
initialisation's shapes, gradients and errors; CUDA against the CPU."""
import numpy as np
import pytest

import loom
import loom.nn as nn
import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import requires_cuda


def test_conv_transpose2d_matches_pytorch():
    x = loom.arange(8, dtype=loom.float64).reshape(1, 2, 2, 2)
    w = loom.arange(24, dtype=loom.float64).reshape(2, 3, 2, 2) * 0.1
    b = loom.tensor([1.0, -1.0, 0.5], dtype=loom.float64)
    y = F.conv_transpose2d(x, w, b, stride=2)
    assert y.shape == (1, 3, 4, 4)
    np.testing.assert_allclose(y.numpy().reshape(-1)[:8], [5.8, 6.2, 7.0, 7.6, 6.6, 7.0, 8.2, 8.8], atol=1e-12)
    y2 = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    np.testing.assert_allclose(y2.numpy().reshape(-1)[:9], [6.0, 7.2, 7.8, 8.0, 8.4, 9.4, 9.6, 10.4, 11.4],
                               atol=1e-12)


def test_conv_transpose_is_the_input_gradient_of_conv(rng):
    x = loom.tensor(rng.standard_normal((2, 4, 5, 3)))
    w = loom.tensor(rng.standard_normal((4, 3, 3, 2)))
    y = F.conv_transpose2d(x, w, stride=(2, 1), padding=(1, 0), groups=2, dilation=(1, 2))
    z = loom.zeros(*y.shape, dtype=loom.float64, requires_grad=True)
    (gz,) = loom.autograd.grad(F.conv2d(z, w, stride=(2, 1), padding=(1, 0), groups=2, dilation=(1, 2)), (z,), x)
    np.testing.assert_allclose(y.numpy(), gz.numpy(), atol=1e-12)
    x1 = loom.tensor(rng.standard_normal((2, 4, 6)), requires_grad=True)
    w1 = loom.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    assert F.conv_transpose1d(x1, w1, stride=2).shape == (2, 2, 13)
    assert gradcheck(lambda p, q: F.conv_transpose1d(p, q, stride=2, padding=1, output_padding=1), (x1, w1))


def test_conv_transpose_modules():
    m = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)
    assert m.weight.shape == (4, 3, 3, 3) and m.bias.shape == (6,)
    bound = 1 / np.sqrt(3 * 3 * 3)  # fan_in of the transposed weight: out_channels / groups * kH * kW
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    x = loom.randn(2, 4, 5, 5)
    assert m(x).shape == (2, 6, 9, 9)
    assert m(x, output_size=[10, 10]).shape == (2, 6, 10, 10)
    assert m(x, output_size=(2, 6, 9, 10)).shape == (2, 6, 9, 10)
    with pytest.raises(ValueError, match="output size"):
        m(x, output_size=[12, 12])
    assert "output_padding" not in repr(m) and "groups=2" in repr(m)
    m1 = nn.ConvTranspose1d(3, 5, 4, stride=3, bias=False)
    assert m1.bias is None and m1(loom.randn(2, 3, 7)).shape == (2, 5, 22)
    with pytest.raises(ValueError):
        nn.ConvTranspose2d(3, 4, 3, groups=2)


def test_conv_transpose_errors():
    x, w = loom.zeros(1, 4, 3, 3), loom.zeros(4, 2, 3, 3)
    with pytest.raises(RuntimeError, match="output padding"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="channels"):
        F.conv_transpose2d(x, loom.zeros(3, 2, 3, 3))
    with pytest.raises(TypeError):
        F.conv_transpose2d(x, w, stride="2")


@requires_cuda
def test_conv_transpose_cuda_matches_cpu(rng):
    x = loom.tensor(rng.standard_normal((2, 8, 9, 7)).astype(np.float32))
    w = loom.tensor(rng.standard_normal((8, 4, 4, 4)).astype(np.float32))
    np.testing.assert_allclose(F.conv_transpose2d(x.cuda(), w.cuda(), stride=2, padding=1).cpu().numpy(),
                               F.conv_transpose2d(x, w, stride=2, padding=1).numpy(), rtol=1e-3, atol=1e-3)
