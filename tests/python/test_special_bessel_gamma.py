"""The modified Bessel functions (i0, i0e, i1, i1e), erfcx and the regularized incomplete gamma functions beyond
the PyTorch fixtures (tests/data/torch_functions.json): infinities (loom gives I0(+-inf) = +inf and
I1(+-inf) = +-inf where PyTorch 2.15 gives NaN), integer inputs, identities, gradients by central differences,
the missing derivative in `input`, and dtype errors."""
import math

import numpy as np
import pytest

import loom
from loom.autograd import gradcheck


def test_infinities_and_integer_inputs():
    x = loom.tensor([-math.inf, math.inf])
    assert loom.special.i0(x).tolist() == [math.inf, math.inf]
    assert loom.special.i1(x).tolist() == [-math.inf, math.inf]
    assert loom.special.i0e(x).tolist() == [0.0, 0.0]
    assert loom.i0(loom.tensor([1, 2])).dtype == loom.float32
    assert loom.special.i1e(loom.tensor([True])).dtype == loom.float32


def test_identities():
    x = loom.tensor(np.linspace(-40, 40, 161))
    ax = np.abs(x.numpy())
    np.testing.assert_allclose(loom.special.i0e(x).numpy(), loom.special.i0(x).numpy() * np.exp(-ax), rtol=1e-13)
    np.testing.assert_allclose(loom.special.i1e(x).numpy(), loom.special.i1(x).numpy() * np.exp(-ax), rtol=1e-13)
    a = loom.tensor(np.geomspace(0.01, 300, 23)).unsqueeze(1)
    z = loom.tensor(np.geomspace(1e-3, 500, 29))
    total = loom.special.gammainc(a, z) + loom.special.gammaincc(a, z)
    np.testing.assert_allclose(total.numpy(), 1.0, rtol=1e-13)
    # P(1, x) = 1 - exp(-x); P(1/2, x) = erf(sqrt(x))
    np.testing.assert_allclose(loom.special.gammainc(loom.ones(29, dtype=loom.float64), z).numpy(),
                               -np.expm1(-z.numpy()), rtol=1e-13)
    np.testing.assert_allclose(loom.special.gammainc(loom.full((29,), 0.5, dtype=loom.float64), z).numpy(),
                               loom.erf(z.sqrt()).numpy(), rtol=1e-13)
    # erfcx(x) = exp(x^2) erfc(x) where neither overflows
    w = loom.tensor(np.linspace(-5, 9, 57))
    np.testing.assert_allclose(loom.special.erfcx(w).numpy(), (w * w).exp().numpy() * loom.erfc(w).numpy(),
                               rtol=1e-12)


def test_gradients():
    for f in (loom.i0, loom.special.i0e, loom.special.i1, loom.special.i1e, loom.special.erfcx):
        x = loom.tensor([-7.5, -2.0, -0.3, 0.0, 0.4, 3.0, 33.0], dtype=loom.float64, requires_grad=True)
        assert gradcheck(f, (x,)), f
    a = loom.tensor([0.5, 1.0, 2.5, 40.0], dtype=loom.float64)
    x = loom.tensor([0.3, 2.0, 1.5, 45.0], dtype=loom.float64, requires_grad=True)
    assert gradcheck(lambda x: loom.special.gammainc(a, x), (x,))
    assert gradcheck(lambda x: loom.special.gammaincc(a, x), (x,))
    # at x = 0 with a = 1: the density exp(-x) is 1 (PyTorch's formula gives NaN there)
    z = loom.zeros(1, dtype=loom.float64, requires_grad=True)
    loom.special.gammainc(loom.ones(1, dtype=loom.float64), z).sum().backward()
    assert z.grad.tolist() == [1.0]


def test_errors():
    a = loom.tensor([2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="gammainc.*'input'"):
        loom.special.gammainc(a, loom.tensor([1.0])).backward()
    with pytest.raises(TypeError, match="gammaincc"):
        loom.special.gammaincc(loom.tensor([1, 2]), loom.tensor([1, 2]))
    with pytest.raises(TypeError):
        loom.special.i0([1.0])
