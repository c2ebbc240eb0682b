"""Reparametrized samples of the Gamma family (Gamma, Chi2, Beta, Dirichlet, StudentT, InverseGamma,
FisherSnedecor): the implicit derivative of a Gamma(alpha, 1) sample in alpha against exact values (mpmath,
tests/data/torch_distributions.json, where PyTorch's approximation is stored too), and Monte Carlo checks of
d/dtheta E[f(X)] through rsample against closed forms."""
import numpy as np

import loom
from loom import distributions as D
from loom.distributions.families import _standard_gamma_grad

from _helpers import load_fixture

FIXTURE = load_fixture("torch_distributions.json")["standard_gamma_grad"]


def test_standard_gamma_grad_is_exact():
    alpha = loom.tensor(FIXTURE["alpha"], dtype=loom.float64)
    x = loom.tensor(FIXTURE["x"], dtype=loom.float64)
    got = _standard_gamma_grad(alpha, x).numpy()
    exact = np.array(FIXTURE["exact"])
    np.testing.assert_allclose(got, exact, rtol=2e-6)
    # PyTorch's approximation is within 2 % of the same values (loom: 1e-6 or better)
    np.testing.assert_allclose(np.array(FIXTURE["torch"]), exact, rtol=0.02)


def _mc_grad(make, f, theta, n=200000):
    """d/dtheta of the Monte Carlo estimate of E[f(X)], X = make(theta).rsample((n,))."""
    t = loom.tensor(theta, dtype=loom.float64, requires_grad=True)
    f(make(t).rsample((n,))).mean().backward()
    return t.grad.numpy()


def test_monte_carlo_gradients():
    loom.manual_seed(11)
    # Gamma(a, b): E[X] = a / b, E[X^2] = a (a + 1) / b^2
    a, b = 2.5, 1.5
    g = _mc_grad(lambda t: D.Gamma(t, b), lambda x: x, [a])
    np.testing.assert_allclose(g, [1 / b], rtol=0.02)
    g = _mc_grad(lambda t: D.Gamma(t, b), lambda x: x * x, [0.4])
    np.testing.assert_allclose(g, [(2 * 0.4 + 1) / b ** 2], rtol=0.03)
    # Beta(a, c): E[X] = a / (a + c)
    g = _mc_grad(lambda t: D.Beta(t[0], t[1]), lambda x: x, [1.5, 3.0])
    np.testing.assert_allclose(g, [3.0 / 4.5 ** 2, -1.5 / 4.5 ** 2], rtol=0.05, atol=2e-3)
    # Dirichlet: E[X_0] = a_0 / sum(a)
    g = _mc_grad(lambda t: D.Dirichlet(t), lambda x: x[:, 0], [0.7, 1.2, 2.1])
    s = 4.0
    np.testing.assert_allclose(g, [(s - 0.7) / s ** 2, -0.7 / s ** 2, -0.7 / s ** 2], rtol=0.05, atol=2e-3)
    # Chi2(k): E[X] = k
    g = _mc_grad(lambda t: D.Chi2(t), lambda x: x, [3.0])
    np.testing.assert_allclose(g, [1.0], rtol=0.02)
    # InverseGamma(a, b): E[X] = b / (a - 1)
    g = _mc_grad(lambda t: D.InverseGamma(t, 2.0), lambda x: x, [4.0])
    np.testing.assert_allclose(g, [-2.0 / 9.0], rtol=0.05)


def test_rsample_flags_and_shapes():
    for d in (D.Gamma(loom.ones(2), 1.0), D.Beta(loom.ones(2), loom.ones(2)), D.Dirichlet(loom.ones(2, 3)),
              D.Chi2(loom.ones(2)), D.StudentT(loom.full((2,), 3.0)), D.InverseGamma(loom.ones(2), 1.0),
              D.FisherSnedecor(loom.ones(2), loom.ones(2))):
        assert d.has_rsample, type(d).__name__
        s = d.rsample((5,))
        assert s.shape == (5,) + tuple(d.batch_shape) + tuple(d.event_shape)
    df = loom.tensor([4.0], requires_grad=True)
    loom.manual_seed(2)
    D.StudentT(df).rsample((1000,)).abs().mean().backward()
    assert df.grad is not None and np.isfinite(df.grad.numpy()).all()
