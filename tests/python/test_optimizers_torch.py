"""Adagrad, Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD, Adafactor, Muon, LBFGS, and Adam / AdamW with amsgrad against
PyTorch:
tests/data/torch_optimizers.json holds PyTorch 2.15's parameter trajectories over 12 steps of gradients that
depend on the parameters (tests/data/make_optimizer_fixtures.py), in float64; loom's optimizers must follow
them."""
import numpy as np
import pytest

import loom
from loom import nn

from _helpers import load_fixture

FIXTURE = load_fixture("torch_optimizers.json")
A, B, NOISE = (np.asarray(FIXTURE[k]) for k in ("A", "B", "noise"))


def grads(ps, t):
    flat = np.concatenate([p.detach().numpy().reshape(-1) for p in ps])
    g = A @ flat + B + NOISE[t]
    return [loom.tensor(g[:2]), loom.tensor(g[2:])]


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["name"] for c in FIXTURE["cases"]])
def test_matches_pytorch(case):
    ps = [nn.Parameter(loom.tensor(np.asarray(p))) for p in FIXTURE["p0"]]
    cls, kw = getattr(loom.optim, case["cls"]), case["kwargs"]
    if "betas" in kw:
        kw = dict(kw, betas=tuple(kw["betas"]))
    if "etas" in kw:
        kw = dict(kw, etas=tuple(kw["etas"]), step_sizes=tuple(kw["step_sizes"]))
    if case["groups"]:
        opt = cls([{"params": [ps[0]]}, {"params": [ps[1]], "lr": kw.get("lr", 1e-2) * 3}], **kw)
    else:
        opt = cls(ps, **kw)
    for t, want in enumerate(case["trajectory"]):
        for p, g in zip(ps, grads(ps, t)):
            p.grad = g
        opt.step()
        for p, w in zip(ps, want):
            np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-10, atol=1e-12, err_msg=f"step {t}")


@pytest.mark.parametrize("case", FIXTURE["matrix_cases"], ids=[c["name"] for c in FIXTURE["matrix_cases"]])
def test_adafactor_factored_matches_pytorch(case):
    ps = [nn.Parameter(loom.tensor(np.asarray(p))) for p in case["p0"]]
    kw = dict(case["kwargs"])
    if "eps" in kw:
        kw["eps"] = tuple(kw["eps"])
    opt = loom.optim.Adafactor(ps, **kw)
    for t, (gs, want) in enumerate(zip(case["grads"], case["trajectory"])):
        for p, g in zip(ps, gs):
            p.grad = loom.tensor(np.asarray(g)) + p.detach() * 0.5
        opt.step()
        for p, w in zip(ps, want):
            np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-10, atol=1e-12, err_msg=f"step {t}")
    assert set(opt.state[ps[0]]) == {"step", "row_var", "col_var"}


@pytest.mark.parametrize("case", FIXTURE["muon_cases"], ids=[c["name"] for c in FIXTURE["muon_cases"]])
def test_muon_matches_pytorch(case):
    # PyTorch's algorithm with its Newton-Schulz iteration in float64 (PyTorch runs it in bfloat16)
    ps = [nn.Parameter(loom.tensor(np.asarray(p))) for p in case["p0"]]
    kw = dict(case["kwargs"])
    if "ns_coefficients" in kw:
        kw["ns_coefficients"] = tuple(kw["ns_coefficients"])
    if case["groups"]:
        opt = loom.optim.Muon([{"params": [ps[0]]}, {"params": [ps[1]], "lr": kw.get("lr", 1e-3) * 3,
                                                      "momentum": 0.5}], **kw)
    else:
        opt = loom.optim.Muon(ps, **kw)
    for t, (gs, want) in enumerate(zip(case["grads"], case["trajectory"])):
        for p, g in zip(ps, gs):
            p.grad = loom.tensor(np.asarray(g)) + p.detach() * 0.5
        opt.step()
        for p, w in zip(ps, want):
            np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-10, atol=1e-12, err_msg=f"step {t}")
    assert set(opt.state[ps[0]]) == {"momentum_buffer"}


def test_muon_orthogonalizes_and_checks_its_arguments():
    # Enough Newton-Schulz steps of the classic cubic (1.5, -0.5, 0) bring every singular value to 1.
    g = loom.randn(6, 4, dtype=loom.float64)
    from loom.optim._muon import zeropower_via_newtonschulz
    o = zeropower_via_newtonschulz(g, (1.5, -0.5, 0.0), 60, 1e-7)
    np.testing.assert_allclose(o.t().matmul(o).numpy(), np.eye(4), atol=1e-8)
    with pytest.raises(ValueError, match="only supports 2D parameters"):
        loom.optim.Muon([nn.Parameter(loom.randn(3))])
    with pytest.raises(ValueError, match="not supported"):
        loom.optim.Muon([nn.Parameter(loom.randn(3, 2))], adjust_lr_fn="bogus")
    with pytest.raises(ValueError, match="Learning rate"):
        loom.optim.Muon([nn.Parameter(loom.randn(3, 2))], lr=-1)
    with pytest.raises(ValueError, match="less than 100"):
        zeropower_via_newtonschulz(g, (1.5, -0.5, 0.0), 100, 1e-7)


def _lbfgs_loss(ps):
    flat = loom.cat([p.reshape(-1) for p in ps])
    A2 = loom.tensor(A @ A.T + np.eye(5))
    return 0.5 * flat.dot(A2.mv(flat)) + loom.tensor(B).dot(flat) + 0.1 * (flat ** 4).sum()


@pytest.mark.parametrize("case", FIXTURE["lbfgs"], ids=[c["name"] for c in FIXTURE["lbfgs"]])
def test_lbfgs_matches_pytorch(case):
    ps = [nn.Parameter(loom.tensor(np.asarray(p))) for p in FIXTURE["p0"]]
    opt = loom.optim.LBFGS(ps, **case["kwargs"])

    def closure():
        opt.zero_grad()
        loss = _lbfgs_loss(ps)
        loss.backward()
        return loss

    for t, (want, loss, evals) in enumerate(zip(case["trajectory"], case["losses"], case["func_evals"])):
        got = opt.step(closure)
        np.testing.assert_allclose(float(got), loss, rtol=1e-10, err_msg=f"step {t} loss")
        for p, w in zip(ps, want):
            np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-9, atol=1e-11, err_msg=f"step {t}")
        assert opt.state[ps[0]]["func_evals"] == evals


def test_lbfgs_errors_and_convergence():
    p = nn.Parameter(loom.tensor([3.0, -2.0], dtype=loom.float64))
    with pytest.raises(ValueError, match="per-parameter options"):
        loom.optim.LBFGS([{"params": [p]}, {"params": [nn.Parameter(loom.zeros(1))]}])
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        loom.optim.LBFGS([p], line_search_fn="armijo")
    opt = loom.optim.LBFGS([p], line_search_fn="strong_wolfe")
    with pytest.raises(RuntimeError, match="requires a closure"):
        opt.step(None)

    def closure():  # Rosenbrock
        opt.zero_grad()
        x, y = p[0], p[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        loss.backward()
        return loss

    for _ in range(10):
        opt.step(closure)
    np.testing.assert_allclose(p.detach().numpy(), [1.0, 1.0], atol=1e-4)


def test_state_dict_round_trip_and_errors():
    ps = [nn.Parameter(loom.randn(3, dtype=loom.float64))]
    for cls in (loom.optim.Adagrad, loom.optim.NAdam, loom.optim.Rprop):
        opt = cls(ps)
        ps[0].grad = loom.ones(3, dtype=loom.float64)
        opt.step()
        sd = opt.state_dict()
        assert float(sd["state"][0]["step"]) == 1.0
        opt2 = cls(ps)
        opt2.load_state_dict(sd)
        assert set(opt2.state[ps[0]].keys()) == set(sd["state"][0].keys())
    with pytest.raises(ValueError, match="Invalid learning rate"):
        loom.optim.Adagrad(ps, lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        loom.optim.NAdam(ps, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid eta values"):
        loom.optim.Rprop(ps, etas=(1.5, 1.2))
    with pytest.raises(ValueError, match="Invalid rho value"):
        loom.optim.Adadelta(ps, rho=1.5)
