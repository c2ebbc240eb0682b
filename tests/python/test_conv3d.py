"""F.conv3d / F.conv_transpose3d (loom's own CPU kernels with a depth; on CUDA 2-D convolutions per depth
tap): double backward (gradgradcheck) with stride, padding, dilation and groups, padding="same" with even
kernels (asymmetric, as PyTorch pads), argument errors from the C++ checks, CUDA against the CPU. Values
and gradients against PyTorch are in the layer fixtures (tests/data/torch_layers.json)."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F
from loom.autograd.gradcheck import gradgradcheck

from _helpers import requires_cuda


@pytest.mark.parametrize("stride,pad,dil,groups", [(1, 1, 1, 1), ((2, 1, 1), (1, 0, 1), 1, 1),
                                                   (1, 0, (2, 1, 1), 2)])
def test_conv3d_and_conv_transpose3d_are_differentiable_twice(rng, stride, pad, dil, groups):
    def t(*s):
        return loom.tensor(rng.standard_normal(s), requires_grad=True)
    C, K = 2 * groups, 2 * groups
    x, w, b = t(1, C, 5, 4, 4), t(K, C // groups, 2, 2, 3), t(K)
    assert gradgradcheck(lambda x, w, b: F.conv3d(x, w, b, stride, pad, dil, groups), (x, w, b))
    xt, wt, bt = t(1, K, 2, 3, 2), t(K, C // groups, 2, 2, 2), t(C)
    assert gradgradcheck(lambda x, w, b: F.conv_transpose3d(x, w, b, stride, pad, 0, groups, dil), (xt, wt, bt))


def test_conv3d_same_padding_with_even_kernels(rng):
    x = loom.tensor(rng.standard_normal((2, 3, 5, 6, 7)))
    w = loom.tensor(rng.standard_normal((4, 3, 2, 3, 4)))
    y = F.conv3d(x, w, padding="same")
    assert y.shape == (2, 4, 5, 6, 7)
    # PyTorch puts the odd padding at the end: the same as padding (0, 1, 1) and one more at the end of W
    # and D.
    want = F.conv3d(F.pad(x, (1, 2, 1, 1, 0, 1)), w)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
    assert F.conv3d(x, w, padding="valid").shape == (2, 4, 4, 4, 4)
    with pytest.raises(ValueError, match="strided"):
        F.conv3d(x, w, stride=2, padding="same")


def test_conv3d_errors():
    x, w = loom.zeros(1, 4, 3, 3, 3), loom.zeros(4, 2, 2, 2, 2)
    with pytest.raises(RuntimeError, match="conv3d.*channels"):
        F.conv3d(x, w)
    with pytest.raises(RuntimeError, match="conv3d.*5D weight"):
        F.conv3d(x, loom.zeros(4, 4, 2, 2))
    with pytest.raises(ValueError, match="conv3d.*stride"):
        F.conv3d(x, loom.zeros(4, 4, 2, 2, 2), stride=(1, 1))
    with pytest.raises(RuntimeError, match="conv_transpose3d.*output padding"):
        F.conv_transpose3d(x, w, stride=2, output_padding=2)
    with pytest.raises(TypeError):
        F.conv3d(x, loom.zeros(4, 4, 2, 2, 2), stride="2")


@requires_cuda
def test_conv3d_cuda_matches_cpu(rng):
    x = loom.tensor(rng.standard_normal((2, 4, 5, 6, 7)).astype(np.float32), requires_grad=True)
    w = loom.tensor(rng.standard_normal((6, 2, 3, 2, 3)).astype(np.float32), requires_grad=True)
    xc, wc = x.detach().cuda().requires_grad_(), w.detach().cuda().requires_grad_()
    y = F.conv3d(x, w, stride=(2, 1, 1), padding=1, groups=2)
    yc = F.conv3d(xc, wc, stride=(2, 1, 1), padding=1, groups=2)
    np.testing.assert_allclose(yc.cpu().numpy(), y.detach().numpy(), rtol=1e-3, atol=1e-3)
    (y * y).sum().backward()
    (yc * yc).sum().backward()
    np.testing.assert_allclose(xc.grad.cpu().numpy(), x.grad.numpy(), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(wc.grad.cpu().numpy(), w.grad.numpy(), rtol=1e-3, atol=1e-3)
    wt = loom.tensor(rng.standard_normal((6, 3, 2, 2, 2)).astype(np.float32))
    yd = y.detach()
    np.testing.assert_allclose(F.conv_transpose3d(yd.cuda(), wt.cuda(), stride=2, padding=1).cpu().numpy(),
                               F.conv_transpose3d(yd, wt, stride=2, padding=1).numpy(), rtol=1e-3, atol=1e-3)
