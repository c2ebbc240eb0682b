"""loom.distributions beyond the PyTorch comparison: sample shapes and moments, reparametrized gradients,
register_kl, and errors."""
import math

import numpy as np
import pytest

import loom
from loom import distributions as D

F64 = loom.float64
N = 20000


def t(x):
    return loom.tensor(x, dtype=F64)


@pytest.mark.parametrize("make,mean,var", [
    (lambda: D.Normal(t([1.0, -2.0]), t([0.5, 2.0])), [1.0, -2.0], [0.25, 4.0]),
    (lambda: D.Uniform(t([0.0, 2.0]), t([1.0, 6.0])), [0.5, 4.0], [1 / 12, 16 / 12]),
    (lambda: D.Exponential(t([2.0, 0.5])), [0.5, 2.0], [0.25, 4.0]),
    (lambda: D.Laplace(t([0.0, 3.0]), t([1.0, 0.5])), [0.0, 3.0], [2.0, 0.5]),
    (lambda: D.Gamma(t([0.5, 3.0]), t([1.0, 2.0])), [0.5, 1.5], [0.5, 0.75]),
    (lambda: D.Beta(t([2.0, 0.5]), t([3.0, 0.5])), [0.4, 0.5], [0.04, 0.125]),
    (lambda: D.Bernoulli(probs=t([0.2, 0.7])), [0.2, 0.7], [0.16, 0.21]),
    (lambda: D.Poisson(t([0.5, 6.0])), [0.5, 6.0], [0.5, 6.0]),
    (lambda: D.LogNormal(t([0.0, 0.5]), t([0.25, 0.1])), [math.exp(0.03125), math.exp(0.505)],
     [(math.exp(0.0625) - 1) * math.exp(0.0625), (math.exp(0.01) - 1) * math.exp(1.01)]),
])
def test_sample_moments(make, mean, var):
    loom.manual_seed(1)
    d = make()
    s = d.sample((N,))
    assert s.shape == (N, 2) and not s.requires_grad
    np.testing.assert_allclose(s.mean(0).numpy(), mean, rtol=0.05, atol=0.04)
    np.testing.assert_allclose(s.var(0).numpy(), var, rtol=0.1, atol=0.01)
    np.testing.assert_allclose(d.mean.numpy(), mean, rtol=1e-9)
    np.testing.assert_allclose(d.variance.numpy(), var, rtol=1e-9)


def test_categorical_dirichlet_mvn_samples():
    loom.manual_seed(2)
    c = D.Categorical(probs=t([[0.1, 0.6, 0.3]]))
    s = c.sample((N,))
    assert s.shape == (N, 1) and s.dtype == loom.int64
    np.testing.assert_allclose(np.bincount(s.numpy().ravel(), minlength=3) / N, [0.1, 0.6, 0.3], atol=0.02)
    oh = D.OneHotCategorical(probs=t([0.5, 0.5])).sample((7,))
    assert oh.shape == (7, 2) and bool((oh.sum(-1) == 1).all())
    dr = D.Dirichlet(t([1.0, 2.0, 3.0])).sample((N,))
    np.testing.assert_allclose(dr.sum(-1).numpy(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(dr.mean(0).numpy(), [1 / 6, 2 / 6, 3 / 6], atol=0.01)
    cov = t([[2.0, 0.5], [0.5, 1.0]])
    mvn = D.MultivariateNormal(t([1.0, -1.0]), covariance_matrix=cov)
    x = mvn.sample((N,))
    assert mvn.batch_shape == () and mvn.event_shape == (2,) and x.shape == (N, 2)
    np.testing.assert_allclose(np.cov(x.numpy().T), cov.numpy(), atol=0.08)


def test_rsample_gradients_and_shapes():
    loc = t([0.5, 1.0]).requires_grad_(True)
    scale = t([1.0, 2.0]).requires_grad_(True)
    d = D.Normal(loc, scale)
    assert d.batch_shape == (2,) and d.event_shape == ()
    z = d.rsample((3, 4))
    assert z.shape == (3, 4, 2) and z.requires_grad
    z.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [12.0, 12.0])
    with pytest.raises(NotImplementedError, match="rsample"):
        D.Bernoulli(probs=t([0.5])).rsample()
    ind = D.Independent(D.Normal(loom.zeros(3, 2), loom.ones(3, 2)), 1)
    assert ind.batch_shape == (3,) and ind.event_shape == (2,)
    assert ind.log_prob(loom.zeros(3, 2)).shape == (3,)
    assert D.Bernoulli(probs=t([0.3, 0.6])).enumerate_support().shape == (2, 2)


def test_register_kl_and_errors():
    class MyNormal(D.Normal):
        pass

    p, q = MyNormal(t(0.0), t(1.0)), D.Normal(t(1.0), t(1.0))
    assert D.kl_divergence(p, q).item() == pytest.approx(0.5)  # through Normal's entry
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Normal(t(0.0), t(1.0)), D.Gamma(t(1.0), t(1.0)))

    @D.register_kl(MyNormal, D.Gamma)
    def _mine(p, q):
        return p.loc * 0 + 42.0

    assert D.kl_divergence(p, D.Gamma(t(1.0), t(1.0))).item() == 42.0
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Categorical()
    with pytest.raises(ValueError, match="Exactly one of"):
        D.MultivariateNormal(t([0.0]), covariance_matrix=t([[1.0]]), scale_tril=t([[1.0]]))
    with pytest.raises(ValueError, match="positive"):
        D.Normal(t(0.0), t(-1.0), validate_args=True)
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Normal(t(0.0), t(1.0)).log_prob(0.5)
    assert "Normal(loc" in repr(D.Normal(t(0.0), t(1.0)))


def test_special_functions_edges():
    x = loom.tensor([0.0, -0.0, -1.0, 1.0, 2.0], dtype=F64)
    dg = loom.digamma(x).numpy()
    assert dg[0] == -math.inf and dg[1] == math.inf and math.isnan(dg[2])
    np.testing.assert_allclose(dg[3:], [-0.5772156649015329, 0.42278433509846713], rtol=1e-14)
    np.testing.assert_allclose(loom.lgamma(t([0.5, 10.0])).numpy(), [math.log(math.sqrt(math.pi)), math.lgamma(10.0)],
                               rtol=1e-14)
    np.testing.assert_allclose(loom.polygamma(1, t([1.0])).numpy(), [math.pi ** 2 / 6], rtol=1e-14)
    e = loom.erfinv(t([0.0, 0.5, -0.999999999, 1.0]))
    np.testing.assert_allclose(np.asarray([math.erf(v) for v in e.numpy()[:3]]), [0.0, 0.5, -0.999999999], rtol=1e-14)
    assert e[3].item() == math.inf
    assert loom.erfinv(loom.tensor([0.5])).dtype == loom.float32
    # higher orders through the Hurwitz zeta function; PyTorch 2.15's values, poles and negative arguments
    q = t([0.3, 1.0, 2.5, 10.0, 0.0, -1.0, -1.5, -2.7, 50.0])
    want = {2: [-75.27253658872601, -2.404113806319188, -0.23620405164172736, -0.011049834970802069, -math.inf,
                -math.inf, -0.23620405164172825, -68.93293902326377, -0.000408079989337597],
            5: [164634.846099223, 122.08116743813383, 0.5785691785671833, 0.00030594516211726814, math.inf,
                math.inf, 15381.648528026304, 165660.1105136131, 8.071677135254361e-08]}
    for n, w in want.items():
        np.testing.assert_allclose(loom.special.polygamma(n, q).numpy(), w, rtol=1e-13)
    z = loom.special.zeta(t([2.0, 3.5, 1.0, 0.5, 2.0, 2.0, 2.5]), t([1.0, 2.0, 1.0, 1.0, -1.5, 0.0, -0.5])).numpy()
    np.testing.assert_allclose(z[[0, 1, 4]], [1.6449340668482266, 0.12673386731705663, 9.379246644989124],
                               rtol=1e-13)
    assert z[2] == math.inf and z[5] == math.inf and math.isnan(z[3]) and math.isnan(z[6])
    assert loom.autograd.gradcheck(lambda v: loom.special.polygamma(3, v), (t([0.7, 2.0]).requires_grad_(True),))
    y = t([1.5]).requires_grad_(True)
    (g,) = loom.autograd.grad(loom.digamma(y), [y], create_graph=True)
    with pytest.raises(NotImplementedError, match="differentiable once only"):
        g.backward()
