"""F.conv_transpose1d / conv_transpose2d and nn.ConvTranspose1d / ConvTranspose2d: PyTorch's values on a
small case, the identity with conv2d's input gradient, output_size in the modules, the default
initialisation's shapes, gradients and errors; double backward through conv2d and conv_transpose2d
(gradgradcheck, a gradient penalty); CUDA against the CPU."""
import numpy as np
import pytest

import loom
import loom.nn as nn
import loom.nn.functional as F
from loom.autograd import gradcheck
from loom.autograd.gradcheck import gradgradcheck

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


@pytest.mark.parametrize("stride,pad,dil,groups,H", [(1, 1, 1, 1, 6), (2, 1, 1, 1, 7), (2, 0, 2, 2, 9),
                                                     (3, 2, 1, 1, 8)])
def test_conv2d_and_conv_transpose2d_are_differentiable_twice(rng, stride, pad, dil, groups, H):
    def t(*s):
        return loom.tensor(rng.standard_normal(s), requires_grad=True)
    C, K = 2 * groups, 3 * groups
    x, w, b = t(2, C, H, H - 1), t(K, C // groups, 3, 2), t(K)
    f = lambda x, w, b: F.conv2d(x, w, b, stride, pad, dil, groups)  # noqa: E731
    assert gradgradcheck(f, (x, w, b))
    out_pad = (stride - 1) if stride > 1 else 0
    xt, wt, bt = t(2, K, 4, 3), t(K, C // groups, 3, 2), t(C)
    ft = lambda x, w, b: F.conv_transpose2d(x, w, b, stride, pad, out_pad, groups, dil)  # noqa: E731
    assert gradgradcheck(ft, (xt, wt, bt))


def test_gradient_penalty_through_a_convolution(rng):
    # WGAN-GP's penalty: (|d D(x) / dx| - 1)^2 with D a convolution; its gradient in the weight
    # against central differences.
    x = loom.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    w0 = rng.standard_normal((3, 2, 3, 3))

    def penalty(wv):
        w = loom.tensor(wv, requires_grad=True)
        y = F.conv2d(x, w, stride=2, padding=1).relu().sum()
        (gx,) = loom.autograd.grad(y, x, create_graph=True)
        p = ((gx.reshape(2, -1).norm(dim=1) - 1.0) ** 2).mean()
        return p, w

    p, w = penalty(w0)
    p.backward()
    eps, num = 1e-6, np.zeros_like(w0)
    for i in np.ndindex(*w0.shape):
        d = np.zeros_like(w0)
        d[i] = eps
        num[i] = (penalty(w0 + d)[0].item() - penalty(w0 - d)[0].item()) / (2 * eps)
    assert np.allclose(w.grad.numpy(), num, rtol=1e-5, atol=1e-6)


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
