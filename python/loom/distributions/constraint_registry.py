"""biject_to / transform_to (torch.distributions.constraint_registry) and the constraints of the families:
each distribution class's ``arg_constraints`` and ``support`` as PyTorch 2.15 declares them.

``transform_to(c)`` returns a transform from unconstrained reals onto ``c`` (for optimizing a parameter
that must stay in ``c``); ``biject_to(c)`` one that is also a bijection. Both are registries of
constraint type to factory that ``register`` extends.
"""
import math

from . import constraints as C
from . import transforms as T

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """Maps constraint types (or instances' types) to transform factories ``factory(constraint)``."""

    def __init__(self):
        self._registry = {}

    def register(self, constraint, factory=None):
        if factory is None:
            return lambda f: self.register(constraint, f)
        if isinstance(constraint, C.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint, C.Constraint):
            raise TypeError(f"Expected constraint to be either a Constraint subclass or instance, but got "
                            f"{constraint}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint):
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _identity(constraint):
    return T.identity_transform


def _exp_then_shift(constraint):
    lb = getattr(constraint, "lower_bound", 0.0)
    return T.ComposeTransform([T.ExpTransform(), T.AffineTransform(lb, 1)]) if not _is_zero(lb) else \
        T.ExpTransform()


def _less_than(constraint):
    return T.ComposeTransform([T.ExpTransform(), T.AffineTransform(constraint.upper_bound, -1)])


def _interval(constraint):
    lb, ub = constraint.lower_bound, constraint.upper_bound
    if _is_zero(lb) and _is_one(ub):
        return T.SigmoidTransform()
    return T.ComposeTransform([T.SigmoidTransform(), T.AffineTransform(lb, ub - lb)])


def _independent(constraint):
    base = biject_to(constraint.base_constraint)
    return T.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


def _independent_to(constraint):
    base = transform_to(constraint.base_constraint)
    return T.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


def _is_zero(x):
    return isinstance(x, (int, float)) and x == 0


def _is_one(x):
    return isinstance(x, (int, float)) and x == 1


for _registry in (biject_to, transform_to):
    _registry.register(C._Real, _identity)
    _registry.register(C._GreaterThan, _exp_then_shift)
    _registry.register(C._GreaterThanEq, _exp_then_shift)
    _registry.register(C._LessThan, _less_than)
    _registry.register(C._Interval, _interval)
    _registry.register(C._HalfOpenInterval, _interval)
biject_to.register(C._IndependentConstraint, _independent)
transform_to.register(C._IndependentConstraint, _independent_to)
biject_to.register(C._Simplex, lambda c: T.StickBreakingTransform())
transform_to.register(C._Simplex, lambda c: T.SoftmaxTransform())  # onto the simplex, not one-to-one
transform_to.register(C._LowerCholesky, lambda c: T.LowerCholeskyTransform())
transform_to.register(C._PositiveDefinite, lambda c: T.PositiveDefiniteTransform())
transform_to.register(C._PositiveSemidefinite, lambda c: T.PositiveDefiniteTransform())


# ---- the families' constraints ----

def _dependent_support(fn):
    return C.dependent_property(fn, is_discrete=False, event_dim=0)


class _MixtureSameFamilyConstraint(C._Wrapping):
    """The component distribution's support, checked on a value without the component dimension."""

    def check(self, value):
        unsqueezed = value.unsqueeze(-1 - self.event_dim)
        result = self.base_constraint.check(unsqueezed)
        if value.dim() < result.dim():
            result = result.all(-1)
        return result


def _transformed_support(d):
    if not d.transforms:
        return d.base_dist.support
    support = d.transforms[-1].codomain
    if len(d.event_shape) > support.event_dim:
        support = C.independent(support, len(d.event_shape) - support.event_dim)
    return support


def _generalized_pareto_support(d):
    from .. import where
    upper = where(d.concentration < 0, d.loc - d.scale / d.concentration, math.inf)
    return C.interval(d.loc, upper)


_PROBS = {"probs": C.unit_interval, "logits": C.real}
_VECTOR_PROBS = {"probs": C.simplex, "logits": C.independent(C.real, 1)}
_LOC_SCALE = {"loc": C.real, "scale": C.positive}
_SHAPES = {"concentration1": C.positive, "concentration0": C.positive}
_FAMILIES = {
    "Bernoulli": (_PROBS, C.boolean),
    "Beta": (_SHAPES, C.unit_interval),
    "Binomial": ({"total_count": C.nonnegative_integer, **_PROBS}, lambda d: C.integer_interval(0, d.total_count)),
    "Categorical": (_VECTOR_PROBS, lambda d: C.integer_interval(0, d._num_events - 1)),
    "Cauchy": (_LOC_SCALE, C.real),
    "Chi2": ({"df": C.positive}, C.nonnegative),
    "ContinuousBernoulli": (_PROBS, C.unit_interval),
    "Dirichlet": ({"concentration": C.independent(C.positive, 1)}, C.simplex),
    "Exponential": ({"rate": C.positive}, C.nonnegative),
    "ExpRelaxedCategorical": ({"probs": C.simplex, "logits": C.real_vector}, C.real_vector),
    "FisherSnedecor": ({"df1": C.positive, "df2": C.positive}, C.positive),
    "Gamma": ({"concentration": C.positive, "rate": C.positive}, C.nonnegative),
    "GeneralizedPareto": ({"loc": C.real, "scale": C.positive, "concentration": C.real}, _generalized_pareto_support),
    "Geometric": (_PROBS, C.nonnegative_integer),
    "Gumbel": (_LOC_SCALE, C.real),
    "HalfCauchy": ({"scale": C.positive}, C.nonnegative),
    "HalfNormal": ({"scale": C.positive}, C.nonnegative),
    "Independent": ({}, lambda d: C.independent(d.base_dist.support, d.reinterpreted_batch_ndims)
                    if d.reinterpreted_batch_ndims else d.base_dist.support),
    "InverseGamma": ({"concentration": C.positive, "rate": C.positive}, C.positive),
    "Kumaraswamy": (_SHAPES, C.unit_interval),
    "Laplace": (_LOC_SCALE, C.real),
    "LogNormal": (_LOC_SCALE, C.positive),
    "LogitRelaxedBernoulli": (_PROBS, C.real),
    "LowRankMultivariateNormal": ({"loc": C.real_vector, "cov_factor": C.independent(C.real, 2),
                                   "cov_diag": C.independent(C.positive, 1)}, C.real_vector),
    "MixtureSameFamily": ({}, lambda d: _MixtureSameFamilyConstraint(d._component_distribution.support)),
    "Multinomial": (_VECTOR_PROBS, lambda d: C.multinomial(d.total_count)),
    "MultivariateNormal": ({"loc": C.real_vector, "covariance_matrix": C.positive_definite,
                            "precision_matrix": C.positive_definite, "scale_tril": C.lower_cholesky}, C.real_vector),
    "NegativeBinomial": ({"total_count": C.greater_than_eq(0), "probs": C.half_open_interval(0.0, 1.0),
                          "logits": C.real}, C.nonnegative_integer),
    "Normal": (_LOC_SCALE, C.real),
    "OneHotCategorical": (_VECTOR_PROBS, C.one_hot),
    "Pareto": ({"scale": C.positive, "alpha": C.positive}, lambda d: C.greater_than_eq(d.scale)),
    "Poisson": ({"rate": C.nonnegative}, C.nonnegative_integer),
    "RelaxedBernoulli": (_PROBS, C.unit_interval),
    "RelaxedOneHotCategorical": (_VECTOR_PROBS, C.simplex),
    "StudentT": ({"df": C.positive, **_LOC_SCALE}, C.real),
    "TransformedDistribution": ({}, _transformed_support),
    "Uniform": ({"low": C.dependent(is_discrete=False, event_dim=0),
                 "high": C.dependent(is_discrete=False, event_dim=0)}, lambda d: C.interval(d.low, d.high)),
    "VonMises": ({"loc": C.real, "concentration": C.positive}, C.real),
    "Weibull": ({"scale": C.positive, "concentration": C.positive}, C.positive),
}


def install(namespace):
    """Gives each family class in ``namespace`` its arg_constraints and support."""
    from .distribution import Distribution
    Distribution.arg_constraints = {}
    Distribution.support = None
    for name, (args, support) in _FAMILIES.items():
        cls = namespace.get(name)
        if cls is None:
            raise RuntimeError(f"distributions: no class {name} to give constraints to")
        cls.arg_constraints = dict(args)
        cls.support = _dependent_support(support) if callable(support) and not isinstance(support, C.Constraint) \
            else support
