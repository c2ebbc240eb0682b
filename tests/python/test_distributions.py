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


# ---------------------------------------------------------------------------------------------------------------
# The families of families_more.py, families_discrete.py and families_joint.py


def _kumaraswamy_moment(a, b, n):
    return b * math.exp(math.lgamma(1 + n / a) + math.lgamma(b) - math.lgamma(1 + n / a + b))


def _weibull(lam, k, n):
    return lam ** n * math.gamma(1 + n / k)


def _cb_moments(p):
    lo = math.log1p(-p) - math.log(p)
    return p / (2 * p - 1) + 1 / lo, p * (p - 1) / (1 - 2 * p) ** 2 + 1 / lo ** 2


_K = [_kumaraswamy_moment(a, b, 1) for a, b in ((2.0, 3.0), (0.5, 0.7))]
_W = [_weibull(lam, k, 1) for lam, k in ((1.0, 1.5), (2.0, 3.0))]
_CB = _cb_moments(0.2)
_EG = 0.5772156649015329


@pytest.mark.parametrize("make,mean,var", [
    (lambda: D.Gumbel(t([0.0, 1.0]), t([1.0, 2.0])), [_EG, 1 + 2 * _EG], [math.pi ** 2 / 6, 4 * math.pi ** 2 / 6]),
    (lambda: D.HalfNormal(t([1.0, 2.0])), [math.sqrt(2 / math.pi), 2 * math.sqrt(2 / math.pi)],
     [1 - 2 / math.pi, 4 * (1 - 2 / math.pi)]),
    (lambda: D.StudentT(t([6.0, 10.0]), t([0.0, 1.0]), t([1.0, 2.0])), [0.0, 1.0], [1.5, 5.0]),
    (lambda: D.Chi2(t([1.0, 4.0])), [1.0, 4.0], [2.0, 8.0]),
    (lambda: D.Geometric(probs=t([0.3, 0.8])), [7 / 3, 0.25], [7 / 0.9, 0.3125]),
    (lambda: D.Binomial(t([10.0, 3.0]), probs=t([0.3, 0.6])), [3.0, 1.8], [2.1, 0.72]),
    (lambda: D.NegativeBinomial(t([3.0, 5.0]), probs=t([0.4, 0.2])), [2.0, 1.25], [10 / 3, 1.5625]),
    (lambda: D.Weibull(t([1.0, 2.0]), t([1.5, 3.0])), _W,
     [_weibull(1.0, 1.5, 2) - _W[0] ** 2, _weibull(2.0, 3.0, 2) - _W[1] ** 2]),
    (lambda: D.Pareto(t([1.0, 2.0]), t([8.0, 10.0])), [8 / 7, 20 / 9], [8 / (49 * 6), 4 * 10 / (81 * 8)]),
    (lambda: D.Kumaraswamy(t([2.0, 0.5]), t([3.0, 0.7])), _K,
     [_kumaraswamy_moment(2.0, 3.0, 2) - _K[0] ** 2, _kumaraswamy_moment(0.5, 0.7, 2) - _K[1] ** 2]),
    (lambda: D.ContinuousBernoulli(probs=t([0.2, 0.5])), [_CB[0], 0.5], [_CB[1], 1 / 12]),
    (lambda: D.MixtureSameFamily(D.Categorical(probs=t([[0.3, 0.7], [0.5, 0.5]])),
                                 D.Normal(t([[-2.0, 3.0], [0.0, 1.0]]), t([[0.5, 1.0], [1.0, 1.0]]))),
     [1.5, 0.5], [6.025, 1.25]),
    (lambda: D.TransformedDistribution(D.Normal(t(0.0), 1.0), D.AffineTransform(t([1.0, -2.0]), t([0.5, 2.0]))),
     [1.0, -2.0], [0.25, 4.0]),
])
def test_more_sample_moments(make, mean, var):
    loom.manual_seed(3)
    d = make()
    s = d.sample((N,))
    assert s.shape == (N, 2) and not s.requires_grad and s.dtype == F64
    np.testing.assert_allclose(s.mean(0).numpy(), mean, rtol=0.05, atol=0.04)
    np.testing.assert_allclose(s.var(0).numpy(), var, rtol=0.1, atol=0.01)
    if type(d) is not D.TransformedDistribution:  # which has no moments (as in PyTorch)
        np.testing.assert_allclose(d.mean.numpy(), mean, rtol=1e-9)
        np.testing.assert_allclose(d.variance.numpy(), var, rtol=1e-9)


def test_more_samples_heavy_tails_counts_and_relaxed():
    loom.manual_seed(4)
    c = D.Cauchy(t([1.0, -2.0]), t([0.5, 3.0])).sample((N,)).numpy()
    np.testing.assert_allclose(np.median(c, 0), [1.0, -2.0], atol=0.15)
    np.testing.assert_allclose((np.abs(c - [1.0, -2.0]) < [0.5, 3.0]).mean(0), 0.5, atol=0.02)  # quartiles
    hc = D.HalfCauchy(t([2.0])).sample((N,)).numpy()
    assert hc.min() >= 0 and abs(np.median(hc) - 2.0) < 0.15
    m = D.Multinomial(10, probs=t([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]]))
    x = m.sample((N,))
    assert x.shape == (N, 2, 3) and bool((x.sum(-1) == 10).all())
    np.testing.assert_allclose(x.mean(0).numpy(), m.mean.numpy(), atol=0.05)
    np.testing.assert_allclose(x.var(0).numpy(), m.variance.numpy(), rtol=0.1)
    # P(RelaxedBernoulli > 1/2) = probs and argmax of a RelaxedOneHotCategorical ~ probs, at any temperature
    rb = D.RelaxedBernoulli(t(0.3), probs=t([0.2, 0.7])).sample((N,)).numpy()
    assert rb.min() > 0 and rb.max() < 1
    np.testing.assert_allclose((rb > 0.5).mean(0), [0.2, 0.7], atol=0.02)
    ro = D.RelaxedOneHotCategorical(t(2.0), probs=t([0.1, 0.6, 0.3])).sample((N,))
    np.testing.assert_allclose(ro.sum(-1).numpy(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.bincount(ro.argmax(-1).numpy(), minlength=3) / N, [0.1, 0.6, 0.3], atol=0.02)
    W, d = t([[1.0, 0.0], [0.5, 1.0], [0.0, -1.0]]), t([0.5, 0.2, 1.0])
    lr = D.LowRankMultivariateNormal(t([1.0, 0.0, -1.0]), W, d)
    y = lr.sample((N,)).numpy()
    np.testing.assert_allclose(y.mean(0), [1.0, 0.0, -1.0], atol=0.05)
    np.testing.assert_allclose(np.cov(y.T), lr.covariance_matrix.numpy(), atol=0.08)
    mix = D.MixtureSameFamily(D.Categorical(probs=t([0.5, 0.5])), D.Independent(D.Normal(t([[-5.0, 0.0], [5.0, 1.0]]),
                                                                                     t([[1.0, 1.0], [1.0, 1.0]])), 1))
    z = mix.sample((N,)).numpy()
    assert z.shape == (N, 2)
    np.testing.assert_allclose(z.mean(0), mix.mean.numpy(), atol=0.15)
    assert abs((z[:, 0] > 0).mean() - 0.5) < 0.02 and abs(z[z[:, 0] > 0, 1].mean() - 1.0) < 0.05


@pytest.mark.parametrize("make,shape", [
    (lambda p: D.Cauchy(p, 1.0), (3, 2)),
    (lambda p: D.HalfNormal(p + 1), (3, 2)),
    (lambda p: D.HalfCauchy(p + 1), (3, 2)),
    (lambda p: D.Gumbel(p, 2.0), (3, 2)),
    (lambda p: D.Weibull(p + 1, 2.0), (3, 2)),
    (lambda p: D.Pareto(p + 1, 3.0), (3, 2)),
    (lambda p: D.Kumaraswamy(p + 1, 2.0), (3, 2)),
    (lambda p: D.ContinuousBernoulli(probs=p * 0.5 + 0.2), (3, 2)),
    (lambda p: D.RelaxedBernoulli(t(0.5), logits=p), (3, 2)),
    (lambda p: D.RelaxedOneHotCategorical(t(0.5), logits=p), (3, 2)),
    (lambda p: D.LowRankMultivariateNormal(p, p.unsqueeze(-1), p * 0 + 1), (3, 2)),
    (lambda p: D.TransformedDistribution(D.Normal(p, 1.0), [D.AffineTransform(1.0, p + 1), D.ExpTransform()]), (3, 2)),
    (lambda p: D.TransformedDistribution(D.Normal(t(0.0), 1.0), D.AffineTransform(p, 2.0)), (3, 2)),
    (lambda p: D.TransformedDistribution(D.Normal(p, 1.0), D.TanhTransform(cache_size=1)), (3, 2)),
])
def test_more_rsample_gradients(make, shape):
    p = (loom.rand(3, 2, dtype=F64) * 0.5 + 0.25).requires_grad_(True)
    d = make(p)
    z = d.rsample((5,))
    assert d.has_rsample and z.shape == (5,) + shape and z.requires_grad
    (g,) = loom.autograd.grad((z * z).sum() + d.log_prob(z.detach()).sum(), [p])
    assert g.shape == (3, 2) and np.all(np.isfinite(g.numpy())) and np.any(g.numpy() != 0)
    assert not d.sample((4,)).requires_grad


def test_more_rsample_exact_gradients():
    loc, scale = t([0.5, -1.0]).requires_grad_(True), t([1.0, 2.0]).requires_grad_(True)
    z = D.Gumbel(loc, scale).rsample((7,))
    gl, gs = loom.autograd.grad(z.sum(), [loc, scale])
    np.testing.assert_allclose(gl.numpy(), [7.0, 7.0])
    np.testing.assert_allclose(gs.numpy(), ((z.detach() - loc.detach()) / scale.detach()).sum(0).numpy(), rtol=1e-12)
    s = t([0.5, 3.0]).requires_grad_(True)
    h = D.HalfNormal(s).rsample((6,))
    (g,) = loom.autograd.grad(h.sum(), [s])
    np.testing.assert_allclose(g.numpy(), (h.detach() / s.detach()).sum(0).numpy(), rtol=1e-12)
    for d in (D.Geometric(probs=t(0.5)), D.Binomial(3, probs=t(0.5)),
              D.NegativeBinomial(t(2.0), probs=t(0.5)), D.Multinomial(2, probs=t([0.5, 0.5])),
              D.MixtureSameFamily(D.Categorical(probs=t([0.5, 0.5])), D.Normal(t([0.0, 1.0]), 1.0))):
        assert not d.has_rsample
        with pytest.raises(NotImplementedError, match="rsample"):
            d.rsample()
        assert d.sample((3,)).shape == (3,) + tuple(d.batch_shape + d.event_shape)


def test_more_shapes():
    p = loom.rand(3, 4, dtype=F64) + 0.1
    cases = [
        (D.Multinomial(5, probs=p), (3,), (4,)),
        (D.RelaxedOneHotCategorical(t(0.5), probs=p), (3,), (4,)),
        (D.LowRankMultivariateNormal(loom.zeros(2, 1, 4, dtype=F64), loom.ones(3, 4, 2, dtype=F64),
                                     loom.ones(4, dtype=F64)), (2, 3), (4,)),
        (D.MixtureSameFamily(D.Categorical(probs=p), D.Normal(p, p)), (3,), ()),
        (D.MixtureSameFamily(D.Categorical(probs=p[0]), D.Independent(D.Normal(p.t(), 1.0), 1)), (), (3,)),
        (D.TransformedDistribution(D.Independent(D.Normal(p, 1.0), 1), D.AffineTransform(1.0, p, event_dim=1)),
         (3,), (4,)),
        (D.TransformedDistribution(D.Normal(p, 1.0), D.AffineTransform(1.0, p, event_dim=1)), (3,), (4,)),
        (D.Binomial(loom.full((3, 1), 4.0, dtype=F64), probs=p / 2), (3, 4), ()),
    ]
    for d, batch, event in cases:
        assert d.batch_shape == batch and d.event_shape == event, d
        x = d.sample((2,))
        assert x.shape == (2,) + batch + event, d
        assert d.log_prob(x).shape == (2,) + batch, d
    assert D.Binomial(3, probs=t([0.2, 0.5])).enumerate_support().shape == (4, 2)
    assert D.Gumbel(0.0, 1.0).sample().shape == ()
    assert D.Chi2(t([1.0, 2.0])).df.tolist() == [1.0, 2.0]
    assert isinstance(D.HalfNormal(t(1.0)), D.TransformedDistribution) and "HalfNormal(scale" in repr(D.HalfNormal(
        t(1.0)))


def test_transforms():
    x = t([-1.5, 0.2, 2.0])
    for tr in (D.ExpTransform(), D.AffineTransform(1.0, -2.0), D.AffineTransform(t([1.0, 0.0, 2.0]), t(3.0)),
               D.SigmoidTransform(), D.TanhTransform(), D.SoftplusTransform(),
               D.ComposeTransform([D.AffineTransform(0.5, 2.0), D.ExpTransform()]), D.ExpTransform().inv.inv):
        y = tr(x)
        np.testing.assert_allclose(tr.inv(y).numpy(), x.numpy(), rtol=1e-10, atol=1e-12)
        assert tr.inv.inv is tr or tr.inv.inv == tr
        # log |dy/dx| against a central difference
        h = 1e-6
        num = np.log(np.abs((tr(x + h) - tr(x - h)).numpy() / (2 * h)))
        np.testing.assert_allclose(tr.log_abs_det_jacobian(x, y).numpy(), num, rtol=1e-6, atol=1e-6)
    pw = D.PowerTransform(t(2.5))
    np.testing.assert_allclose(pw.inv(pw(t([0.5, 2.0]))).numpy(), [0.5, 2.0], rtol=1e-12)
    c = D.TanhTransform(cache_size=1)
    y = c(x)
    assert c.inv(y) is x
    assert D.AffineTransform(0.0, t([1.0, 2.0])) == D.AffineTransform(0.0, t([1.0, 2.0]))
    assert D.AffineTransform(0.0, 1.0) != D.AffineTransform(0.0, 2.0) and D.ExpTransform() == D.ExpTransform()
    assert D.AffineTransform(0.0, -2.0).sign == -1 and D.ComposeTransform([D.ExpTransform()]).codomain.event_dim == 0
    sm = D.SoftmaxTransform()(t([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(sm.sum(-1).numpy(), [1.0])
    assert D.SoftmaxTransform().domain.event_dim == 1 and D.identity_transform(x) is x
    with pytest.raises(ValueError, match="cache_size"):
        D.ExpTransform(cache_size=2)


def test_more_kl():
    class MyGumbel(D.Gumbel):
        pass

    a, b = D.Gumbel(t(0.0), t(1.0)), MyGumbel(t(1.0), t(2.0))
    assert D.kl_divergence(a, b).item() > 0 and D.kl_divergence(b, b).item() == pytest.approx(0.0, abs=1e-12)
    assert D.kl_divergence(D.Gumbel(t(0.0), t(1.0)), D.Uniform(t(0.0), t(1.0))).item() == math.inf
    with pytest.raises(NotImplementedError, match="total_count"):
        D.kl_divergence(D.Binomial(2, probs=t(0.5)), D.Binomial(3, probs=t(0.5)))
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Weibull(t(1.0), t(2.0)), D.Weibull(t(1.0), t(3.0)))  # different transforms
    # Weibulls of the same concentration share their transforms' exponent, not their scale
    p, q = D.HalfNormal(t([1.0, 2.0])), D.HalfNormal(t([2.0, 2.0]))
    np.testing.assert_allclose(D.kl_divergence(p, q).numpy(), D.kl_divergence(D.Normal(0.0, t([1.0, 2.0])),
                                                                               D.Normal(0.0, t([2.0, 2.0]))).numpy())
    # an expanded base: KL of TransformedDistributions goes through the unexpanded bases
    tr = D.AffineTransform(t([0.0, 1.0]), 2.0)
    kl = D.kl_divergence(D.TransformedDistribution(D.Normal(t(0.0), 1.0), tr),
                         D.TransformedDistribution(D.Normal(t(1.0), 1.0), tr))
    np.testing.assert_allclose(kl.numpy(), [0.5, 0.5])
    # Monte Carlo check of one cross pair
    loom.manual_seed(5)
    pg, qn = D.Gumbel(t(0.3), t(1.2)), D.Normal(t(-0.5), t(2.0))
    s = pg.sample((N,))
    assert abs((pg.log_prob(s) - qn.log_prob(s)).mean().item() - D.kl_divergence(pg, qn).item()) < 0.03


def test_more_errors():
    bad = [
        lambda: D.Cauchy(t(0.0), t(-1.0), validate_args=True),
        lambda: D.HalfNormal(t(-1.0), validate_args=True),
        lambda: D.HalfCauchy(t(0.0), validate_args=True),
        lambda: D.Gumbel(t(0.0), t(-1.0), validate_args=True),
        lambda: D.StudentT(t(-1.0), validate_args=True),
        lambda: D.Chi2(t(-2.0), validate_args=True),
        lambda: D.Geometric(probs=t(0.0), validate_args=True),
        lambda: D.Binomial(t(2.5), probs=t(0.5), validate_args=True),
        lambda: D.Binomial(3, probs=t(1.5), validate_args=True),
        lambda: D.NegativeBinomial(t(2.0), probs=t(1.0), validate_args=True),
        lambda: D.Weibull(t(1.0), t(0.0), validate_args=True),
        lambda: D.Pareto(t(-1.0), t(1.0), validate_args=True),
        lambda: D.Kumaraswamy(t(1.0), t(-1.0), validate_args=True),
        lambda: D.ContinuousBernoulli(probs=t(1.5), validate_args=True),
        lambda: D.RelaxedBernoulli(t(0.5), probs=t(-0.1), validate_args=True),
        lambda: D.LowRankMultivariateNormal(t([0.0, 0.0]), t([[1.0], [1.0]]), t([1.0, -1.0]), validate_args=True),
    ]
    for make in bad:
        with pytest.raises(ValueError):
            make()
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Geometric(probs=t(0.5), logits=t(0.0))
    with pytest.raises(ValueError, match="either `probs` or `logits`"):
        D.Binomial(3)
    with pytest.raises(NotImplementedError, match="inhomogeneous"):
        D.Multinomial(t(3.0), probs=t([0.5, 0.5]))
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        D.Binomial(t([2.0, 3.0]), probs=t([0.5, 0.5])).entropy()
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices"):
        D.LowRankMultivariateNormal(t([0.0, 0.0]), t([[1.0], [1.0], [1.0]]), t([1.0, 1.0]))
    with pytest.raises(ValueError, match="cov_diag"):
        D.LowRankMultivariateNormal(t([0.0, 0.0]), t([[1.0], [1.0]]), t([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(t([0.0]), 1.0), D.Normal(t([0.0]), 1.0))
    with pytest.raises(ValueError, match="does not equal"):
        D.MixtureSameFamily(D.Categorical(probs=t([0.5, 0.5])), D.Normal(t([0.0, 1.0, 2.0]), 1.0))
    with pytest.raises(ValueError, match="transforms must be"):
        D.TransformedDistribution(D.Normal(t(0.0), 1.0), "exp")
    with pytest.raises(ValueError, match="within the support"):
        D.Geometric(probs=t(0.5), validate_args=True).log_prob(t(-1.0))
    with pytest.raises(ValueError, match="within the support"):
        D.HalfNormal(t(1.0), validate_args=True).log_prob(t(-1.0))
    with pytest.raises(ValueError, match="within the support"):
        D.Binomial(3, probs=t(0.5), validate_args=True).log_prob(t(4.0))
    assert D.HalfNormal(t(1.0)).log_prob(t(-1.0)).item() == -math.inf  # validation is off by default
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Cauchy(t(0.0), t(1.0)).log_prob(0.5)
