"""Lazy modules: the first input sets the size, the placeholders become the module's parameters in place,
and checkpoints load into a lazy module (test_module_harness.py runs the common checks on each)."""
import numpy as np
import pytest

import loom
from loom import nn


def test_lazy_linear_becomes_linear_in_place():
    m = nn.LazyLinear(4)
    assert isinstance(m.weight, nn.UninitializedParameter) and m.has_uninitialized_params()
    assert repr(m.weight) == "<UninitializedParameter>"
    opt = loom.optim.SGD(m.parameters(), lr=0.5)  # before the first call, as PyTorch allows
    w = m.weight
    y = m(loom.randn(2, 3))
    assert type(m) is nn.Linear and m.in_features == 3 and m.weight is w and type(w) is nn.Parameter
    assert y.shape == (2, 4)
    before = w.detach().clone()
    y.sum().backward()
    opt.step()
    assert not np.allclose(w.detach().numpy(), before.numpy())  # the optimizer held the same object


def test_state_dict_placeholders_and_loading():
    lazy = nn.LazyLinear(2)
    sd = lazy.state_dict()
    assert isinstance(sd["weight"], nn.UninitializedParameter)
    trained = nn.Sequential(nn.LazyConv2d(4, 3), nn.ReLU(), nn.LazyBatchNorm2d())
    x = loom.randn(2, 3, 6, 6)
    trained(x)
    fresh = nn.Sequential(nn.LazyConv2d(4, 3), nn.ReLU(), nn.LazyBatchNorm2d())
    fresh.load_state_dict(trained.state_dict())
    assert fresh[0].weight.shape == (4, 3, 3, 3) and fresh[2].running_mean.shape == (4,)
    trained.eval()
    fresh.eval()
    np.testing.assert_allclose(fresh(x).detach().numpy(), trained(x).detach().numpy(), rtol=1e-6)
    assert type(fresh[0]) is nn.Conv2d and fresh[0].in_channels == 3 and type(fresh[2]) is nn.BatchNorm2d


def test_unbatched_and_errors():
    c = nn.LazyConv1d(5, 3)
    assert c(loom.randn(2, 7)).shape == (5, 5) and c.in_channels == 2  # unbatched [C, L]
    g = nn.LazyConv2d(6, 1, groups=3)
    assert g(loom.randn(1, 3, 2, 2)).shape == (1, 6, 2, 2) and g.weight.shape == (6, 1, 1, 1)
    with pytest.raises(TypeError, match="multiple values"):
        nn.LazyLinear(3, out_features=4)
    m = nn.LazyLinear(2)
    with pytest.raises(TypeError, match="must be a Tensor"):
        m([1.0, 2.0])
