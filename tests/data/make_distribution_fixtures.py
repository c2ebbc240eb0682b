"""Generates tests/data/torch_distributions.json, PyTorch's side of tests/python/test_distributions_torch.py.

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_distribution_fixtures.py

Each case is an expression over ``D`` (torch.distributions here, loom.distributions in the test) and named
float64 inputs: log_prob, entropy, the moments, cdf / icdf and kl_divergence, with the gradients of
sum(result * weights) to every input that requires one.
"""
import torch
from torch import distributions as D
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
D.Distribution.set_default_validate_args(False)  # values outside the support are part of the cases
cases = []


def case(expr, nograd=(), rtol=None, **inputs):
    ins = {k: v.clone().requires_grad_(k not in nograd and v.is_floating_point()) for k, v in inputs.items()}
    out = eval(expr, {"D": D, "torch": torch, **ins})
    outs = out if isinstance(out, (tuple, list)) else (out,)
    ws = [torch.randn_like(o) if o.is_floating_point() else None for o in outs]
    entry = {"expr": expr, "inputs": {k: t2j(v) for k, v in inputs.items()}, "nograd": list(nograd),
             "outputs": [t2j(o.detach()) for o in outs], "weights": [t2j(w) if w is not None else None for w in ws]}
    if rtol is not None:
        entry["rtol"] = rtol
    diff = [(o, w) for o, w in zip(outs, ws) if w is not None and o.requires_grad]
    leaves = {k: v for k, v in ins.items() if v.requires_grad}
    if diff and leaves:
        loss = sum((o * w).sum() for o, w in diff)
        gs = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
        entry["grads"] = {k: t2j(g) if g is not None else None for k, g in zip(leaves, gs)}
    cases.append(entry)


r = torch.randn
loc, scale, x = r(3, 2), torch.rand(3, 2) + 0.5, r(4, 3, 2)
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance, d.stddev, d.cdf(x), d.icdf(p)))(D.Normal(loc, scale))",
     loc=loc, scale=scale, x=x, p=torch.rand(3, 2))
case("D.Normal(loc, 2.0).log_prob(x)", loc=r(3), x=r(3))
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance))(D.LogNormal(loc, scale))", loc=loc, scale=scale,
     x=torch.rand(3, 2) + 0.1)
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance, d.cdf(x), d.icdf(p)))(D.Uniform(lo, hi))",
     lo=r(4), hi=r(4) + 3, x=torch.tensor([-5.0, 0.5, 1.0, 9.0]), p=torch.rand(4), nograd=("x",))
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance))(D.Bernoulli(probs=p))", p=torch.rand(5) * 0.9 + 0.05,
     x=torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0]), nograd=("x",))
case("(lambda d: (d.log_prob(x), d.entropy(), d.probs))(D.Bernoulli(logits=l))", l=r(2, 3),
     x=torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]), nograd=("x",))
case("(lambda d: (d.log_prob(x), d.entropy(), d.probs, d.logits))(D.Categorical(probs=p))", p=torch.rand(3, 4) + 0.1,
     x=torch.tensor([0, 3, 2]))
case("(lambda d: (d.log_prob(x), d.entropy(), d.probs, d.mode))(D.Categorical(logits=l))", l=r(2, 5),
     x=torch.tensor([[1, 4], [0, 0], [2, 3]]))
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance))(D.OneHotCategorical(logits=l))", l=r(2, 3),
     x=torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), nograd=("x",))
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance, d.cdf(x), d.icdf(p)))(D.Exponential(rate))",
     rate=torch.rand(3) + 0.5, x=torch.rand(3) * 2, p=torch.rand(3))
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance, d.cdf(x), d.icdf(p)))(D.Laplace(loc, scale))",
     loc=r(3), scale=torch.rand(3) + 0.5, x=r(3), p=torch.rand(3))
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance))(D.Gamma(a, b))", a=torch.rand(4) * 3 + 0.3,
     b=torch.rand(4) + 0.5, x=torch.rand(4) * 3 + 0.1)
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance))(D.Beta(a, b))", a=torch.rand(3) * 2 + 0.5,
     b=torch.rand(3) * 2 + 0.5, x=torch.rand(3) * 0.8 + 0.1)
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance))(D.Dirichlet(a))", a=torch.rand(2, 4) * 2 + 0.5,
     x=torch.softmax(r(2, 4), -1))
case("(lambda d: (d.log_prob(x), d.mean, d.variance))(D.Poisson(rate))", rate=torch.rand(4) * 5 + 0.1,
     x=torch.tensor([0.0, 1.0, 3.0, 7.0]), nograd=("x",))
A = r(2, 3, 3)
cov = A @ A.mT + torch.eye(3)
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance, d.covariance_matrix))("
     "D.MultivariateNormal(loc, covariance_matrix=c))", loc=r(2, 3), c=cov, x=r(4, 2, 3))
case("(lambda d: (d.log_prob(x), d.entropy(), d.covariance_matrix))(D.MultivariateNormal(loc, scale_tril=L))",
     loc=r(3), L=torch.linalg.cholesky(cov[0]), x=r(5, 3))
case("(lambda d: (d.log_prob(x), d.entropy()))(D.MultivariateNormal(loc, precision_matrix=P))", loc=r(3),
     P=torch.linalg.inv(cov[1]), x=r(2, 3))
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean))(D.Independent(D.Normal(loc, scale), 1))", loc=loc,
     scale=scale, x=x)
# KL divergences
case("D.kl_divergence(D.Normal(a, b), D.Normal(c, d))", a=r(3), b=torch.rand(3) + 0.5, c=r(3), d=torch.rand(3) + 0.5)
case("D.kl_divergence(D.Bernoulli(probs=a), D.Bernoulli(probs=b))", a=torch.rand(4) * 0.9 + 0.05,
     b=torch.rand(4) * 0.9 + 0.05)
case("D.kl_divergence(D.Categorical(logits=a), D.Categorical(logits=b))", a=r(2, 5), b=r(2, 5))
case("D.kl_divergence(D.Uniform(a, a + 1), D.Uniform(b - 2, b + 2))", a=r(3) * 0.1, b=r(3) * 0.1)
case("D.kl_divergence(D.Exponential(a), D.Exponential(b))", a=torch.rand(3) + 0.2, b=torch.rand(3) + 0.2)
case("D.kl_divergence(D.Laplace(a, b), D.Laplace(c, d))", a=r(3), b=torch.rand(3) + 0.5, c=r(3),
     d=torch.rand(3) + 0.5)
case("D.kl_divergence(D.Gamma(a, b), D.Gamma(c, d))", a=torch.rand(3) + 0.5, b=torch.rand(3) + 0.5,
     c=torch.rand(3) + 0.5, d=torch.rand(3) + 0.5)
case("D.kl_divergence(D.Beta(a, b), D.Beta(c, d))", a=torch.rand(3) + 0.5, b=torch.rand(3) + 0.5,
     c=torch.rand(3) + 0.5, d=torch.rand(3) + 0.5)
case("D.kl_divergence(D.Dirichlet(a), D.Dirichlet(b))", a=torch.rand(2, 3) + 0.5, b=torch.rand(2, 3) + 0.5)
case("D.kl_divergence(D.Poisson(a), D.Poisson(b))", a=torch.rand(3) + 0.5, b=torch.rand(3) + 0.5)
case("D.kl_divergence(D.MultivariateNormal(a, scale_tril=L1), D.MultivariateNormal(b, covariance_matrix=c))",
     a=r(3), b=r(2, 3), L1=torch.linalg.cholesky(cov[0]), c=cov)
case("D.kl_divergence(D.Independent(D.Normal(a, b), 1), D.Independent(D.Normal(c, d), 1))", a=r(2, 3),
     b=torch.rand(2, 3) + 0.5, c=r(2, 3), d=torch.rand(2, 3) + 0.5)
case("D.kl_divergence(D.LogNormal(a, b), D.LogNormal(c, d))", a=r(3), b=torch.rand(3) + 0.5, c=r(3),
     d=torch.rand(3) + 0.5)

# The families of loom/distributions/families_more.py (after the cases above, whose random inputs stay as they were)
u = torch.rand


def pos(*shape):
    return u(*shape) + 0.5


def lp_all(*attrs):
    """An expression giving d.<attr> for each attr ("log_prob(x)", "entropy()", "mean", ...) of `d`."""
    return "(lambda d: (" + ", ".join("d." + a for a in attrs) + "))"


CONT = ("log_prob(x)", "entropy()", "mean", "variance", "mode", "cdf(x)", "icdf(p)")
case(lp_all(*CONT) + "(D.Cauchy(loc, scale))", loc=r(3, 2), scale=pos(3, 2), x=r(4, 3, 2) * 2, p=u(3, 2))
case(lp_all(*CONT) + "(D.HalfNormal(scale))", scale=pos(3), x=torch.tensor([[0.3, 1.2, 2.5], [0.0, 0.7, 0.1]]),
     p=u(3))
case(lp_all("log_prob(x)") + "(D.HalfNormal(scale))", scale=pos(3), x=torch.tensor([-0.5, 0.5, 1.0]), nograd=("x",))
case(lp_all(*CONT) + "(D.HalfCauchy(scale))", scale=pos(3), x=u(2, 3) * 3, p=u(3))
case(lp_all(*CONT, "stddev") + "(D.Gumbel(loc, scale))", loc=r(3), scale=pos(3), x=r(4, 3) * 2, p=u(3))
case(lp_all("log_prob(x)", "entropy()", "mean", "variance", "mode") + "(D.StudentT(df, loc, scale))",
     df=torch.tensor([0.5, 1.5, 3.0, 7.0]), loc=r(4), scale=pos(4), x=r(3, 4) * 2)
case(lp_all("log_prob(x)", "entropy()") + "(D.StudentT(df))", df=u(3) * 4 + 0.5, x=r(3))
case(lp_all("log_prob(x)", "entropy()", "mean", "variance", "mode", "df") + "(D.Chi2(df))", df=u(4) * 5 + 0.5,
     x=u(4) * 4 + 0.1)
DISC = ("log_prob(x)", "entropy()", "mean", "variance", "mode")
case(lp_all(*DISC) + "(D.Geometric(probs=p))", p=u(4) * 0.9 + 0.05, x=torch.tensor([0.0, 1.0, 3.0, 7.0]),
     nograd=("x",))
case(lp_all(*DISC, "probs") + "(D.Geometric(logits=l))", l=r(2, 3), x=torch.tensor([[0.0, 2.0, 5.0]]),
     nograd=("x",))
case(lp_all(*DISC, "logits") + "(D.Binomial(n, probs=p))", n=torch.tensor([6.0, 6.0, 6.0]), p=u(3) * 0.9 + 0.05,
     x=torch.tensor([[0.0, 3.0, 6.0], [2.0, 1.0, 4.0]]), nograd=("n", "x"))
case(lp_all("log_prob(x)", "entropy()", "mean", "probs") + "(D.Binomial(4, logits=l))", l=r(2, 3),
     x=torch.tensor([[0.0, 1.0, 4.0], [2.0, 3.0, 1.0]]), nograd=("x",))
case(lp_all("log_prob(x)", "mean", "variance", "mode") + "(D.NegativeBinomial(n, probs=p))", n=u(4) * 5 + 0.5,
     p=u(4) * 0.8 + 0.1, x=torch.tensor([0.0, 1.0, 4.0, 9.0]), nograd=("x",))
case(lp_all("log_prob(x)", "mean", "variance", "probs") + "(D.NegativeBinomial(n, logits=l))", n=u(3) * 3 + 1,
     l=r(3), x=torch.tensor([[0.0, 2.0, 5.0], [1.0, 0.0, 3.0]]), nograd=("x",))
case(lp_all("log_prob(x)", "entropy()", "mean", "variance") + "(D.Multinomial(6, probs=p))", p=u(2, 3) + 0.1,
     x=torch.tensor([[1.0, 2.0, 3.0], [6.0, 0.0, 0.0]]), nograd=("x",))
case(lp_all("log_prob(x)", "entropy()", "logits") + "(D.Multinomial(3, logits=l))", l=r(4),
     x=torch.tensor([[1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 3.0]]), nograd=("x",))
case(lp_all(*CONT) + "(D.Weibull(scale, c))", scale=pos(3), c=u(3) * 2 + 0.6, x=u(2, 3) * 2 + 0.05, p=u(3))
case(lp_all("log_prob(x)", "entropy()", "mean", "variance", "mode", "cdf(x)", "icdf(p)") + "(D.Pareto(scale, a))",
     scale=pos(4), a=torch.tensor([0.7, 1.5, 2.5, 4.0]), x=u(2, 4) * 3 + 1.6, p=u(4))
case(lp_all(*CONT) + "(D.Kumaraswamy(a, b))", a=u(4) * 2 + 0.5, b=torch.tensor([0.7, 1.5, 2.5, 4.0]),
     x=u(2, 4) * 0.9 + 0.05, p=u(4))
case(lp_all("log_prob(x)", "entropy()", "mean", "variance", "cdf(x)", "icdf(q)", "logits") +
     "(D.ContinuousBernoulli(probs=p))", p=torch.tensor([0.1, 0.3, 0.4999, 0.5, 0.5008, 0.7, 0.95]),
     x=u(2, 7) * 0.9 + 0.05, q=u(7))
case(lp_all("log_prob(x)", "entropy()", "mean", "variance", "probs") + "(D.ContinuousBernoulli(logits=l))",
     l=r(2, 3), x=u(2, 3))
case(lp_all("log_prob(x)", "probs") + "(D.RelaxedBernoulli(t, probs=p))", t=pos(3), p=u(3) * 0.9 + 0.05,
     x=u(2, 3) * 0.9 + 0.05)
case(lp_all("log_prob(x)", "logits") + "(D.RelaxedBernoulli(t, logits=l))", t=torch.tensor(0.7), l=r(2, 3),
     x=u(2, 3) * 0.9 + 0.05)
case(lp_all("log_prob(x)", "probs") + "(D.RelaxedOneHotCategorical(t, logits=l))", t=torch.tensor(0.6),
     l=r(2, 4), x=torch.softmax(r(3, 2, 4), -1))
case(lp_all("log_prob(x)") + "(D.RelaxedOneHotCategorical(t, probs=p))", t=torch.tensor(1.3), p=u(2, 3) + 0.1,
     x=torch.softmax(r(2, 3), -1))
case(lp_all("log_prob(x)", "mean", "variance", "cdf(x)") +
     "(D.MixtureSameFamily(D.Categorical(logits=l), D.Normal(loc, scale)))", l=r(3, 4), loc=r(3, 4),
     scale=pos(3, 4), x=r(5, 3))
case(lp_all("log_prob(x)", "mean", "variance") +
     "(D.MixtureSameFamily(D.Categorical(probs=w), D.Independent(D.Normal(loc, scale), 1)))", w=u(4) + 0.1,
     loc=r(4, 2), scale=pos(4, 2), x=r(5, 2))
case(lp_all("log_prob(x)", "mean", "variance") +
     "(D.MixtureSameFamily(D.Categorical(logits=l), D.Gamma(a, b)))", l=r(3), a=pos(2, 3) * 2, b=pos(2, 3),
     x=u(4, 2) * 3 + 0.1)
Wl = r(2, 3, 2)
case(lp_all("log_prob(x)", "entropy()", "mean", "variance", "covariance_matrix", "precision_matrix", "scale_tril") +
     "(D.LowRankMultivariateNormal(loc, W, d))", loc=r(2, 3), W=Wl, d=pos(2, 3), x=r(4, 2, 3))
case(lp_all("log_prob(x)", "entropy()", "variance") + "(D.LowRankMultivariateNormal(loc, W, d))", loc=r(3),
     W=r(2, 3, 1), d=pos(3), x=r(5, 1, 3))
AT = "D.transforms.AffineTransform"
case(lp_all("log_prob(x)", "cdf(x)", "icdf(p)") +
     f"(D.TransformedDistribution(D.Normal(a, b), [{AT}(c, d), D.transforms.ExpTransform()]))", a=r(3), b=pos(3),
     c=r(3), d=pos(3), x=u(2, 3) * 3 + 0.1, p=u(3))
case(lp_all("log_prob(x)", "cdf(x)", "icdf(p)") + f"(D.TransformedDistribution(D.Normal(z, 1.0), {AT}(c, d)))",
     z=torch.zeros(()), c=r(3), d=pos(3), x=r(4, 3), p=u(3), nograd=("z",))
case(lp_all("log_prob(x)", "cdf(x)", "icdf(p)") + f"(D.TransformedDistribution(D.Normal(a, b), {AT}(1.5, -2.0)))",
     a=r(3), b=pos(3), x=r(2, 3), p=u(3))
case(lp_all("log_prob(x)") + "(D.TransformedDistribution(D.Normal(a, b), D.transforms.TanhTransform()))", a=r(3),
     b=pos(3), x=u(2, 3) * 1.8 - 0.9)
case(lp_all("log_prob(x)", "cdf(x)", "icdf(p)") +
     "(D.TransformedDistribution(D.Uniform(lo, hi), [D.transforms.SigmoidTransform().inv, " + AT + "(c, d)]))",
     lo=torch.zeros(3), hi=torch.ones(3), c=r(3), d=pos(3), x=r(2, 3), p=u(3), nograd=("lo", "hi"))
case(lp_all("log_prob(x)", "cdf(x)") + "(D.TransformedDistribution(D.Normal(a, b), D.transforms.SigmoidTransform()))",
     a=r(3), b=pos(3), x=u(2, 3) * 0.9 + 0.05)
case(lp_all("log_prob(x)") + "(D.TransformedDistribution(D.Normal(a, b), D.transforms.SoftplusTransform()))",
     a=r(3), b=pos(3), x=u(2, 3) * 2 + 0.05)
case(lp_all("log_prob(x)", "cdf(x)") +
     "(D.TransformedDistribution(D.Exponential(rate), D.transforms.PowerTransform(e)))", rate=pos(3), e=pos(3),
     x=u(2, 3) * 2 + 0.05)
case(lp_all("log_prob(x)") + "(D.TransformedDistribution(D.Independent(D.Normal(a, b), 1), "
     f"{AT}(c, d, event_dim=1)))", a=r(2, 3), b=pos(2, 3), c=r(3), d=pos(2, 3), x=r(4, 2, 3))
case(lp_all("log_prob(x)") + "(D.TransformedDistribution(D.Normal(a, b), D.transforms.ExpTransform().inv))",
     a=r(3), b=pos(3), x=r(2, 3))
# KL divergences of the new families
KL = "D.kl_divergence"
case(f"{KL}(D.Binomial(n, probs=a), D.Binomial(m, probs=b))", n=torch.tensor([5.0, 5.0, 6.0]),
     m=torch.tensor([5.0, 5.0, 5.0]), a=u(3) * 0.9 + 0.05, b=u(3) * 0.9 + 0.05, nograd=("n", "m"))
case(f"{KL}(D.Cauchy(a, b), D.Cauchy(c, d))", a=r(3), b=pos(3), c=r(3), d=pos(3))
case(f"{KL}(D.ContinuousBernoulli(probs=a), D.ContinuousBernoulli(logits=b))",
     a=torch.tensor([0.2, 0.4999, 0.5, 0.9]), b=r(4))
case(f"{KL}(D.Geometric(probs=a), D.Geometric(probs=b))", a=u(3) * 0.9 + 0.05, b=u(3) * 0.9 + 0.05)
case(f"{KL}(D.Gumbel(a, b), D.Gumbel(c, d))", a=r(3), b=pos(3), c=r(3), d=pos(3))
case(f"{KL}(D.HalfNormal(a), D.HalfNormal(b))", a=pos(3), b=pos(3))
case(f"{KL}(D.Pareto(a, b), D.Pareto(c, d))", a=torch.tensor([1.0, 2.0, 0.5]), b=pos(3),
     c=torch.tensor([0.5, 1.0, 1.0]), d=pos(3))
case(f"{KL}(D.LowRankMultivariateNormal(a, W, d), D.LowRankMultivariateNormal(b, V, e))", a=r(2, 3), W=r(2, 3, 2),
     d=pos(2, 3), b=r(3), V=r(3, 1), e=pos(3))
case(f"{KL}(D.MultivariateNormal(a, scale_tril=L), D.LowRankMultivariateNormal(b, V, e))", a=r(3),
     L=torch.linalg.cholesky(cov[0]), b=r(2, 3), V=r(2, 3, 2), e=pos(2, 3))
case(f"{KL}(D.LowRankMultivariateNormal(a, W, d), D.MultivariateNormal(b, covariance_matrix=c))", a=r(3),
     W=r(3, 2), d=pos(3), b=r(2, 3), c=cov)
case(f"(lambda t: {KL}(D.TransformedDistribution(D.Normal(a, b), t), D.TransformedDistribution(D.Normal(e, f), t)))"
     f"([{AT}(c, d), D.transforms.ExpTransform()])", a=r(3), b=pos(3), c=r(3), d=pos(3), e=r(3), f=pos(3))
case(f"{KL}(D.Beta(a, b), D.ContinuousBernoulli(probs=p))", a=pos(3), b=pos(3), p=torch.tensor([0.2, 0.5, 0.8]))
case(f"{KL}(D.ContinuousBernoulli(probs=p), D.Exponential(r))", p=torch.tensor([0.2, 0.5, 0.8]), r=pos(3))
case(f"{KL}(D.ContinuousBernoulli(logits=l), D.Normal(a, b))", l=r(3), a=r(3), b=pos(3))
case(f"{KL}(D.ContinuousBernoulli(probs=p), D.Uniform(lo, hi))", p=torch.tensor([0.2, 0.5, 0.8]),
     lo=torch.tensor([-0.5, 0.1, -0.2]), hi=torch.tensor([1.5, 1.5, 0.9]))
case(f"{KL}(D.Uniform(lo, hi), D.ContinuousBernoulli(probs=p))", lo=torch.tensor([0.1, 0.2, -0.1]),
     hi=torch.tensor([0.6, 0.9, 0.5]), p=torch.tensor([0.2, 0.5, 0.8]))
case(f"{KL}(D.Exponential(r), D.Gumbel(a, b))", r=pos(3), a=r(3), b=pos(3))
case(f"{KL}(D.Gamma(c, r), D.Gumbel(a, b))", c=pos(3), r=pos(3), a=r(3), b=pos(3))
case(f"{KL}(D.Gumbel(a, b), D.Normal(c, d))", a=r(3), b=pos(3), c=r(3), d=pos(3))
case(f"{KL}(D.Normal(a, b), D.Gumbel(c, d))", a=r(3), b=pos(3), c=r(3), d=pos(3))
case(f"{KL}(D.Uniform(lo, lo + w), D.Gumbel(a, b))", lo=r(3), w=pos(3), a=r(3), b=pos(3))
case(f"{KL}(D.Pareto(s, a), D.Exponential(r))", s=pos(3), a=torch.tensor([0.8, 1.5, 3.0]), r=pos(3))
case(f"{KL}(D.Pareto(s, a), D.Gamma(c, r))", s=pos(3), a=torch.tensor([0.8, 1.5, 3.0]), c=pos(3), r=pos(3))
case(f"{KL}(D.Pareto(s, a), D.Normal(c, d))", s=pos(3), a=torch.tensor([1.5, 2.5, 4.0]), c=r(3), d=pos(3))
case(f"{KL}(D.Uniform(lo, hi), D.Pareto(s, a))", lo=torch.tensor([1.0, 0.2, 2.0]), hi=torch.tensor([2.0, 1.0, 3.0]),
     s=torch.tensor([0.8, 0.5, 1.5]), a=pos(3))
case(f"({KL}(D.Gumbel(a, b), D.Uniform(a - 1, a + 1)), {KL}(D.Normal(a, b), D.Pareto(b, b)), "
     f"{KL}(D.Poisson(b), D.Binomial(5, probs=p)))", a=r(3), b=pos(3), p=u(3))

# ---- VonMises, InverseGamma, FisherSnedecor, GeneralizedPareto; Gamma / Chi2 cdf ----
# (PyTorch's VonMises evaluates log I0 / I1 by polynomial fits, about 1e-7 relative: the test's tolerance for
# these cases is looser)
case("(lambda d: (d.log_prob(x), d.mean, d.mode, d.variance))(D.VonMises(loc, k))", loc=r(3), k=torch.tensor(
    [0.05, 1.3, 9.0]), x=torch.tensor([-4.0, 0.3, 2.5]), rtol=2e-6)
case("(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.mode, d.variance, d.cdf(x)))(D.InverseGamma(a, b))",
     a=torch.tensor([0.7, 2.5, 4.0]), b=pos(3), x=pos(3), nograd=("a",))
case("(lambda d: (d.mean, d.variance))(D.InverseGamma(a, b))", a=torch.tensor([0.5, 1.5, 3.0]), b=pos(3))
case("(lambda d: (d.log_prob(x), d.mean, d.mode, d.variance))(D.FisherSnedecor(a, b))",
     a=torch.tensor([1.5, 3.0, 7.0, 12.0]), b=torch.tensor([1.0, 2.5, 4.5, 30.0]), x=pos(4))
case("(lambda d, x: (d.log_prob(x), d.entropy(), d.mean, d.mode, d.variance, d.cdf(x), d.icdf(p)))"
     "(D.GeneralizedPareto(loc, s, c), loc + s * z)", loc=r(4), s=pos(4), c=torch.tensor([-0.3, 0.0, 0.2, 0.7]),
     z=torch.tensor([0.4, 0.9, 1.7, 2.2]), p=u(4), nograd=("z",))
case("D.Gamma(a, b).cdf(x)", a=torch.tensor([0.3, 1.0, 2.5, 40.0]), b=pos(4), x=pos(4) * 3, nograd=("a",))
case("D.Chi2(df).cdf(x)", df=torch.tensor([1.0, 3.0, 10.0]), x=torch.tensor([0.5, 2.0, 12.0]), nograd=("df",))



def standard_gamma_grad():
    """Exact d x / d alpha of Gamma(alpha, 1) at its quantiles (mpmath, 30 digits: the implicit derivative
    -(d/d alpha) P(alpha, x) / p(x; alpha)), and PyTorch's _standard_gamma_grad there."""
    import mpmath as mp
    mp.mp.dps = 30
    rows = []
    for a in (0.01, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 1000.0):
        for q in (1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6):
            lo, hi = mp.mpf(0), mp.mpf(a * 10 + 50)
            for _ in range(200):  # the quantile by bisection
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if mp.gammainc(a, 0, mid, regularized=True) < q else (lo, mid)
            x = (lo + hi) / 2
            d_p = mp.diff(lambda s: mp.gammainc(s, 0, x, regularized=True), a)
            pdf = x ** (a - 1) * mp.exp(-x) / mp.gamma(a)
            rows.append([a, float(x), float(-d_p / pdf)])
    alpha = torch.tensor([r[0] for r in rows])
    x = torch.tensor([r[1] for r in rows])
    return {"alpha": alpha.tolist(), "x": x.tolist(), "exact": [r[2] for r in rows],
            "torch": torch._standard_gamma_grad(alpha, x).tolist()}


write("torch_distributions.json", {"cases": cases, "standard_gamma_grad": standard_gamma_grad()})
