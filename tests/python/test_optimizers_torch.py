"""Adagrad, Adadelta, Adamax, NAdam, RAdam, Rprop, and Adam / AdamW with amsgrad against PyTorch:
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
