"""F.group_norm and nn.GroupNorm against a NumPy reference (PyTorch's definition: biased variance over
each group's channels and spatial dims, then the per-channel affine): shapes, affine or not, gradients,
module state and errors; CUDA against the CPU."""
import numpy as np
import pytest

import loom
import loom.nn as nn
import loom.nn.functional as F
from loom.autograd import gradcheck

from _helpers import requires_cuda


def reference(x, G, w=None, b=None, eps=1e-5):
    N, C = x.shape[:2]
    g = x.reshape(N, G, -1)
    y = (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)
    y = y.reshape(x.shape)
    shape = (1, C) + (1,) * (x.ndim - 2)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


@pytest.mark.parametrize("shape,G", [((2, 6, 5, 4), 3), ((3, 4, 7), 4), ((2, 8), 2), ((1, 6, 3, 3, 2), 1)])
def test_group_norm_matches_reference(rng, shape, G):
    x = rng.standard_normal(shape) * 2 + 5
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    got = F.group_norm(loom.tensor(x), G, loom.tensor(w), loom.tensor(b), eps=1e-4)
    np.testing.assert_allclose(got.numpy(), reference(x, G, w, b, 1e-4), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(F.group_norm(loom.tensor(x), G).numpy(), reference(x, G), rtol=1e-9, atol=1e-9)
    x32 = loom.tensor(x.astype(np.float32))
    np.testing.assert_allclose(F.group_norm(x32, G).numpy(), reference(x, G), rtol=1e-4, atol=1e-4)


def test_group_norm_module_and_gradients(rng):
    m = nn.GroupNorm(2, 6)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert m.weight.tolist() == [1.0] * 6 and m.bias.tolist() == [0.0] * 6
    assert repr(m) == "GroupNorm(2, 6, eps=1e-05, affine=True)"
    x = rng.standard_normal((3, 6, 4))
    np.testing.assert_allclose(m(loom.tensor(x.astype(np.float32))).detach().numpy(), reference(x, 2), atol=1e-5)
    assert nn.GroupNorm(3, 6, affine=False).weight is None
    with pytest.raises(ValueError):
        nn.GroupNorm(4, 6)
    t = loom.tensor(x, requires_grad=True)
    w = loom.tensor(rng.standard_normal(6), requires_grad=True)
    b = loom.tensor(rng.standard_normal(6), requires_grad=True)
    assert gradcheck(lambda p, q, r: F.group_norm(p, 3, q, r), (t, w, b))


def test_group_norm_errors():
    x = loom.zeros(2, 6, 4)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(x, 4)
    with pytest.raises(RuntimeError, match="weight"):
        F.group_norm(x, 3, loom.ones(5))
    with pytest.raises(TypeError):
        F.group_norm(x.to(loom.int64), 3)
    with pytest.raises(TypeError):
        F.group_norm(x, "3")


@requires_cuda
def test_group_norm_cuda_matches_cpu(rng):
    x = loom.tensor(rng.standard_normal((4, 8, 9, 7)).astype(np.float32))
    w, b = loom.randn(8), loom.randn(8)
    np.testing.assert_allclose(F.group_norm(x.cuda(), 4, w.cuda(), b.cuda()).cpu().numpy(),
                               F.group_norm(x, 4, w, b).numpy(), rtol=1e-4, atol=1e-4)
