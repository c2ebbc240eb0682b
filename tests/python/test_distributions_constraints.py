"""loom.distributions.constraints, the families' arg_constraints / support and biject_to / transform_to,
with PyTorch 2.15's declarations and results written out."""
import math

import pytest

import loom
import loom.distributions as D
from loom.distributions import constraints as C


def _t(*values):
    return loom.tensor(list(values))


def test_scalar_constraints_check():
    v = _t(-1.0, 0.0, 0.5, 1.0, 2.0, math.nan)
    assert C.real.check(v).tolist() == [True, True, True, True, True, False]
    assert C.positive.check(v).tolist() == [False, False, True, True, True, False]
    assert C.nonnegative.check(v).tolist() == [False, True, True, True, True, False]
    assert C.unit_interval.check(v).tolist() == [False, True, True, True, False, False]
    assert C.half_open_interval(0.0, 1.0).check(v).tolist() == [False, True, True, False, False, False]
    assert C.greater_than(0.5).check(v).tolist() == [False, False, False, True, True, False]
    assert C.less_than(0.5).check(v).tolist() == [True, True, False, False, False, False]
    assert C.boolean.check(v).tolist() == [False, True, False, True, False, False]
    assert C.nonnegative_integer.check(v).tolist() == [False, True, False, True, True, False]
    assert C.integer_interval(0, 1).check(v).tolist() == [False, True, False, True, False, False]
    assert C.boolean.is_discrete and not C.real.is_discrete and C.real.event_dim == 0


def test_vector_and_matrix_constraints():
    assert C.simplex.check(loom.tensor([[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1]])).tolist() == [True, False, False]
    assert C.one_hot.check(loom.tensor([[0.0, 1.0], [1.0, 1.0]])).tolist() == [True, False]
    assert C.real_vector.check(loom.tensor([[1.0, math.nan], [1.0, 2.0]])).tolist() == [False, True]
    assert C.real_vector.event_dim == 1 and C.independent(C.positive, 2).event_dim == 2
    m = loom.tensor([[[2.0, 0.0], [1.0, 3.0]], [[2.0, 1.0], [0.0, 3.0]], [[-1.0, 0.0], [1.0, 3.0]]])
    assert C.lower_triangular.check(m).tolist() == [True, False, True]
    assert C.lower_cholesky.check(m).tolist() == [True, False, False]
    spd = loom.tensor([[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]])
    # as PyTorch: a batch with a non-symmetric matrix returns the symmetry check alone
    assert C.positive_definite.check(spd).tolist() == [True, True, False]
    assert C.positive_definite.check(spd[:2]).tolist() == [True, False]
    assert C.positive_semidefinite.check(spd[:2]).tolist() == [True, False]
    assert C.symmetric.check(spd).tolist() == [True, True, False]
    r = 1 / math.sqrt(2)
    corr = loom.tensor([[[1.0, 0.0], [r, r]], [[1.0, 0.0], [1.0, 1.0]]])
    assert C.corr_cholesky.check(corr).tolist() == [True, False]
    assert C.multinomial(3).check(loom.tensor([[1.0, 2.0], [2.0, 2.0]])).tolist() == [True, False]
    assert C.cat([C.positive, C.real], 0, [1, 2]).check(_t(-1.0, -1.0, 1.0)).tolist() == [False, True, True]
    assert C.stack([C.positive, C.real], 0).check(_t(-1.0, -1.0)).tolist() == [False, True]


def test_reprs_and_dependent():
    assert repr(C.positive) == "GreaterThan(lower_bound=0.0)"
    assert repr(C.real_vector) == "IndependentConstraint(Real(), 1)"
    assert repr(C.unit_interval) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    with pytest.raises(ValueError, match="dependent constraint"):
        C.dependent.check(_t(1.0))
    with pytest.raises(NotImplementedError):
        C.dependent.event_dim


def test_family_constraints_match_pytorch():
    assert repr(D.Normal.arg_constraints) == "{'loc': Real(), 'scale': GreaterThan(lower_bound=0.0)}"
    assert repr(D.Normal.support) == "Real()"
    assert repr(D.Gamma.support) == "GreaterThanEq(lower_bound=0.0)"
    assert repr(D.Beta.support) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert repr(D.Poisson.support) == "IntegerGreaterThan(lower_bound=0)"
    assert repr(D.Dirichlet.support) == "Simplex()"
    assert repr(D.MultivariateNormal.support) == "IndependentConstraint(Real(), 1)"
    assert repr(D.NegativeBinomial.arg_constraints["probs"]) == "HalfOpenInterval(lower_bound=0.0, upper_bound=1.0)"
    assert repr(D.LowRankMultivariateNormal.arg_constraints["cov_factor"]) == "IndependentConstraint(Real(), 2)"
    u = D.Uniform(0.0, 2.0)
    assert u.support.check(_t(-0.5, 1.0, 2.0, 2.5)).tolist() == [False, True, True, False]
    assert D.Binomial(5, probs=loom.tensor(0.3)).support.check(_t(0.0, 5.0, 6.0, 2.5)).tolist() == \
        [True, True, False, False]
    assert D.Categorical(probs=loom.tensor([0.2, 0.3, 0.5])).support.upper_bound == 2
    assert D.Pareto(loom.tensor(2.0), loom.tensor(1.0)).support.check(_t(1.0, 3.0)).tolist() == [False, True]
    gp = D.GeneralizedPareto(0.0, 1.0, -0.5)  # support [0, 2]
    assert gp.support.check(_t(-0.1, 1.0, 2.0, 2.1)).tolist() == [False, True, True, False]
    ind = D.Independent(D.Normal(loom.zeros(2, 3), loom.ones(2, 3)), 1)
    assert ind.support.event_dim == 1
    td = D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform()])
    assert repr(td.support) == "GreaterThan(lower_bound=0.0)"
    mix = D.MixtureSameFamily(D.Categorical(probs=loom.ones(3) / 3), D.Gamma(loom.ones(3), loom.ones(3)))
    assert mix.support.check(_t(-1.0, 0.5)).tolist() == [False, True]
    for name in D.__all__:
        cls = getattr(D, name)
        if isinstance(cls, type) and issubclass(cls, D.Distribution) and cls is not D.Distribution:
            assert isinstance(cls.arg_constraints, dict), name
            assert cls.support is not None, name


def test_biject_to_and_transform_to():
    x = loom.randn(50, dtype=loom.float64) * 3
    for c in (C.real, C.positive, C.nonnegative, C.greater_than(2.0), C.less_than(-1.0), C.unit_interval,
              C.interval(-1.0, 3.0), C.half_open_interval(0.0, 1.0)):
        t = D.biject_to(c)
        y = t(x)
        assert bool(c.check(y).all()), c
        assert loom.allclose(t.inv(y), x, atol=1e-6), c
        assert bool(c.check(D.transform_to(c)(x)).all())
    v = loom.randn(4, 3, dtype=loom.float64)
    t = D.biject_to(C.independent(C.positive, 1))
    assert bool(C.independent(C.positive, 1).check(t(v)).all())
    assert t.log_abs_det_jacobian(v, t(v)).shape == (4,)
    s = D.transform_to(C.simplex)(v)
    assert bool(C.simplex.check(s).all())
    with pytest.raises(NotImplementedError, match="Cannot transform _CorrCholesky constraints"):
        D.biject_to(C.corr_cholesky)

    @D.biject_to.register(C._Boolean)
    def _boolean(constraint):
        return D.SigmoidTransform()

    assert isinstance(D.biject_to(C.boolean), D.SigmoidTransform)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        D.biject_to.register(int, _boolean)


def test_stick_breaking_and_cholesky_transforms_match_pytorch():
    x = loom.tensor([[0.3, -1.2, 2.0], [0.0, 0.0, 0.0]], dtype=loom.float64)
    t = D.StickBreakingTransform()
    y = t(x)
    want = [[0.3103224420123704, 0.09026916871088567, 0.527957157790385, 0.07145123148635886],
            [0.25, 0.25, 0.25, 0.25]]  # PyTorch 2.15, float64
    assert loom.allclose(y, loom.tensor(want, dtype=loom.float64), rtol=1e-12, atol=1e-15)
    assert loom.allclose(t.inv(y), x, atol=1e-12)
    ladj = t.log_abs_det_jacobian(x, y)
    assert loom.allclose(ladj, loom.tensor([-6.85258297341167, -5.545177444479562], dtype=loom.float64),
                         rtol=1e-12)
    assert t.forward_shape((5, 3)) == (5, 4) and t.inverse_shape((5, 4)) == (5, 3)
    assert isinstance(D.biject_to(C.simplex), D.StickBreakingTransform)
    # the log-determinant against the Jacobian of the first K - 1 outputs, by autograd
    xs = loom.tensor([0.4, -0.7], dtype=loom.float64)
    jac = loom.autograd.functional.jacobian(lambda v: t(v)[:-1], xs)
    assert abs(loom.linalg.det(jac).abs().log().item() - t.log_abs_det_jacobian(xs, t(xs)).item()) < 1e-12
    m = loom.tensor([[1.0, 2.0], [-0.5, 0.3]], dtype=loom.float64)
    lower = D.LowerCholeskyTransform()(m)
    assert loom.allclose(lower, loom.tensor([[2.718281828459045, 0.0], [-0.5, 1.3498588075760032]],
                                            dtype=loom.float64))
    assert bool(C.lower_cholesky.check(lower))
    pd = D.transform_to(C.positive_definite)(m)
    assert loom.allclose(pd, loom.tensor([[7.3890560989306495, -1.3591409142295225],
                                          [-1.3591409142295225, 2.072118800390509]], dtype=loom.float64))
    assert bool(C.positive_definite.check(pd))
    assert loom.allclose(D.PositiveDefiniteTransform().inv(pd), lower.tril(-1) + m.diagonal().diag_embed())
