"""VonMises, InverseGamma, FisherSnedecor, GeneralizedPareto beyond PyTorch's values (torch_distributions.json):
sampling statistics, shapes, support and argument checks, the reparametrized GeneralizedPareto samples."""
import math

import numpy as np
import pytest

import loom
from loom import distributions as D


def test_von_mises_samples():
    loom.manual_seed(3)
    loc, k = loom.tensor([0.5, -2.9, 1.0]), loom.tensor([4.0, 1.0, 1e-6])
    d = D.VonMises(loc, k)
    s = d.sample((40000,))
    assert s.shape == (40000, 3) and s.dtype == loom.float32
    a = s.numpy().astype(np.float64)
    assert a.min() >= -math.pi and a.max() < math.pi
    z = np.exp(1j * a).mean(0)
    # the mean direction and the mean resultant length I1(k) / I0(k) = 1 - circular variance
    np.testing.assert_allclose(np.abs(z), 1 - d.variance.numpy(), atol=0.015)
    for i in (0, 1):
        assert abs(np.angle(z[i] * np.exp(-1j * loc.numpy()[i]))) < 0.03
    # k -> 0: uniform on the circle
    assert abs(a[:, 2].mean()) < 0.05 and abs(a[:, 2].var() - math.pi ** 2 / 3) < 0.1
    assert not d.has_rsample
    # the density integrates to one over a period, for any loc
    d64 = D.VonMises(loc.double(), k.double())
    x = loom.linspace(-math.pi, math.pi, 20001, dtype=loom.float64).unsqueeze(1)
    p = d64.log_prob(x).exp().numpy()
    np.testing.assert_allclose(np.trapezoid(p, dx=2 * math.pi / 20000, axis=0), 1.0, rtol=1e-6)


def test_inverse_gamma_and_fisher_snedecor_samples():
    loom.manual_seed(4)
    ig = D.InverseGamma(loom.tensor([3.5, 6.0]), loom.tensor([2.0, 1.0]))
    x = ig.sample((60000,))
    assert x.shape == (60000, 2) and bool(x.gt(0).all())
    np.testing.assert_allclose(x.numpy().mean(0), ig.mean.numpy(), rtol=0.03)
    # the empirical cdf at the mean
    np.testing.assert_allclose((x.numpy() <= ig.mean.numpy()).mean(0), ig.cdf(ig.mean).numpy(), atol=0.01)
    f = D.FisherSnedecor(loom.tensor([4.0, 10.0]), loom.tensor([12.0, 20.0]))
    y = f.sample((60000,))
    np.testing.assert_allclose(y.numpy().mean(0), f.mean.numpy(), rtol=0.03)
    np.testing.assert_allclose(y.numpy().var(0), f.variance.numpy(), rtol=0.15)


def test_generalized_pareto():
    loom.manual_seed(5)
    c = loom.tensor([-0.4, 0.0, 0.3], requires_grad=True)
    g = D.GeneralizedPareto(loom.tensor([1.0, 0.0, -1.0]), loom.tensor([2.0, 1.0, 0.5]), c)
    s = g.rsample((50000,))
    np.testing.assert_allclose(s.detach().numpy().mean(0), g.mean.detach().numpy(), rtol=0.03, atol=0.02)
    np.testing.assert_allclose(g.cdf(g.icdf(loom.tensor([0.3, 0.6, 0.9]))).detach().numpy(), [0.3, 0.6, 0.9],
                               rtol=1e-6)
    s.sum().backward()  # reparametrized: the gradient reaches the concentration
    assert c.grad is not None and np.isfinite(c.grad.numpy()).all()
    # support: [loc, loc - scale / xi] for xi < 0
    g2 = D.GeneralizedPareto(0.0, 1.0, -0.5, validate_args=False)
    assert g2.log_prob(loom.tensor([-0.1, 2.1])).tolist() == [-math.inf, -math.inf]
    assert g2.cdf(loom.tensor([-1.0, 3.0])).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="support"):
        D.GeneralizedPareto(0.0, 1.0, -0.5, validate_args=True).log_prob(loom.tensor([2.5]))


def test_argument_checks():
    with pytest.raises(ValueError, match="concentration"):
        D.VonMises(loom.tensor([0.0]), loom.tensor([-1.0]), validate_args=True)
    with pytest.raises(ValueError, match="rate"):
        D.InverseGamma(loom.tensor([1.0]), loom.tensor([0.0]), validate_args=True)
    with pytest.raises(ValueError, match="df2"):
        D.FisherSnedecor(loom.tensor([1.0]), loom.tensor([-2.0]), validate_args=True)
    with pytest.raises(ValueError, match="scale"):
        D.GeneralizedPareto(0.0, -1.0, 0.1, validate_args=True)
    assert D.VonMises(loom.zeros(2, 3), 1.0).batch_shape == (2, 3)
