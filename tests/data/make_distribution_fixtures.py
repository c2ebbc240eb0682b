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


def case(expr, nograd=(), **inputs):
    ins = {k: v.clone().requires_grad_(k not in nograd and v.is_floating_point()) for k, v in inputs.items()}
    out = eval(expr, {"D": D, "torch": torch, **ins})
    outs = out if isinstance(out, (tuple, list)) else (out,)
    ws = [torch.randn_like(o) if o.is_floating_point() else None for o in outs]
    entry = {"expr": expr, "inputs": {k: t2j(v) for k, v in inputs.items()}, "nograd": list(nograd),
             "outputs": [t2j(o.detach()) for o in outs], "weights": [t2j(w) if w is not None else None for w in ws]}
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

write("torch_distributions.json", {"cases": cases})
