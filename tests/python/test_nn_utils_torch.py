"""loom.nn.utils against PyTorch (tests/data/torch_utils.json, made by tests/data/make_utils_fixtures.py):
weight and spectral normalization in both forms (state-dict names, outputs, gradients, power-iteration
buffers), full backward hooks (what they see, what their changes do), batch-norm fusion, get_total_norm /
clip_grads_with_norm_, init.dirac_."""
import numpy as np
import pytest

import loom
from loom import nn
from loom.nn.utils import parametrizations as P
from _helpers import arr, load_fixture

FIX = load_fixture("torch_utils.json")


def T(j):
    return loom.from_numpy(arr(j).copy())


def close(got, want, what):
    np.testing.assert_allclose(got.detach().numpy(), arr(want), rtol=1e-7, atol=1e-9, err_msg=what)


MAKE = {"linear": lambda: nn.Linear(4, 3), "conv": lambda: nn.Conv2d(2, 3, 3),
        "convT": lambda: nn.ConvTranspose2d(3, 2, 3)}
REGISTER = {
    "weight_norm_linear": ("linear", lambda m: nn.utils.weight_norm(m)),
    "weight_norm_linear_dim1": ("linear", lambda m: nn.utils.weight_norm(m, dim=1)),
    "weight_norm_conv_dimNone": ("conv", lambda m: nn.utils.weight_norm(m, dim=None)),
    "p_weight_norm_linear": ("linear", lambda m: P.weight_norm(m)),
    "p_weight_norm_conv_dim1": ("conv", lambda m: P.weight_norm(m, dim=1)),
    "spectral_norm_linear": ("linear", lambda m: nn.utils.spectral_norm(m)),
    "spectral_norm_conv_3iter": ("conv", lambda m: nn.utils.spectral_norm(m, n_power_iterations=3)),
    "spectral_norm_convT_eval": ("convT", lambda m: nn.utils.spectral_norm(m)),
    "p_spectral_norm_linear": ("linear", lambda m: P.spectral_norm(m)),
    "p_spectral_norm_conv_2iter": ("conv", lambda m: P.spectral_norm(m, n_power_iterations=2)),
    "p_spectral_norm_convT": ("convT", lambda m: P.spectral_norm(m)),
    "p_spectral_norm_linear_eval": ("linear", lambda m: P.spectral_norm(m)),
}


@pytest.mark.parametrize("case", FIX["cases"], ids=[c["name"] for c in FIX["cases"]])
def test_normalization_matches_torch(case):
    kind, register = REGISTER[case["name"]]
    m = MAKE[kind]().double()
    register(m)
    assert sorted(m.state_dict().keys()) == sorted(case["state_dict"].keys())
    m.load_state_dict({k: T(v) for k, v in case["state_dict"].items()})
    m.train(case["train"])
    x = T(case["input"]).requires_grad_(True)
    for _ in range(case["calls"] - 1):
        with loom.no_grad():
            m(x)
    out = m(x)
    close(out, case["output"], "output")
    params = dict(m.named_parameters())
    assert sorted(params) == sorted(case["param_grads"])
    grads = loom.autograd.grad((out * T(case["weights"])).sum(), [x] + list(params.values()))
    close(grads[0], case["input_grad"], "input grad")
    for (name, _), g in zip(params.items(), grads[1:]):
        close(g, case["param_grads"][name], name)
    buffers = dict(m.named_buffers())
    for name, want in case["buffers_after"].items():
        close(buffers[name], want, name)


@pytest.mark.parametrize("case", FIX["hooks"], ids=lambda c: f"in{c['scale_in']}-out{c['scale_out']}")
def test_full_backward_hooks_match_torch(case):
    m = nn.Linear(4, 3).double()
    m.load_state_dict({k: T(v) for k, v in case["state_dict"].items()})
    seen = {}

    def hook(mod, gi, go):
        assert mod is m
        seen["grad_input"], seen["grad_output"] = gi, go
        s = case["scale_in"]
        return None if s is None else tuple(g * s if g is not None else None for g in gi)

    def pre(mod, go):
        s = case["scale_out"]
        return None if s is None else tuple(g * s for g in go)

    m.register_full_backward_hook(hook)
    m.register_full_backward_pre_hook(pre)
    x = T(case["input"]).requires_grad_(True)
    out = m(x)
    grads = loom.autograd.grad((out * T(case["weights"])).sum(), [x, m.weight, m.bias])
    for got, want in zip(seen["grad_input"], case["seen"]["grad_input"]):
        close(got, want, "grad_input")
    for got, want in zip(seen["grad_output"], case["seen"]["grad_output"]):
        close(got, want, "grad_output")
    for g, want, what in zip(grads, case["grads"], ("input", "weight", "bias")):
        close(g, want, what)


@pytest.mark.parametrize("case", FIX["fusion"], ids=lambda c: c["kind"])
def test_batch_norm_fusion_matches_torch(case):
    if case["kind"] == "conv":
        a, bn = nn.Conv2d(2, 4, 3, bias=False), nn.BatchNorm2d(4)
    elif case["kind"] == "convT":
        a, bn = nn.ConvTranspose2d(3, 4, 3), nn.BatchNorm2d(4)
    else:
        a, bn = nn.Linear(5, 4), nn.BatchNorm1d(4)
    a, bn = a.double(), bn.double()
    a.load_state_dict({k: T(v) for k, v in case["a"].items()})
    bn.load_state_dict({k: T(v) for k, v in case["bn"].items()})
    a.eval()
    bn.eval()
    if case["kind"] == "linear":
        fused = nn.utils.fuse_linear_bn_eval(a, bn)
    else:
        fused = nn.utils.fuse_conv_bn_eval(a, bn, transpose=case["kind"] == "convT")
    sd = fused.state_dict()
    assert sorted(sd) == sorted(case["fused"])
    for k, v in case["fused"].items():
        close(sd[k], v, k)
    x = T(case["input"])
    close(fused(x), case["output"], "output")
    close(bn(a(x)), case["output"], "unfused output")


def test_total_norm_and_clipping_match_torch():
    ts = [T(t) for t in FIX["tensors"]]
    for p, want in FIX["total_norms"].items():
        close(nn.utils.get_total_norm(ts, float(p)), want, f"norm {p}")
    params = [loom.zeros_like(t).requires_grad_(True) for t in ts]
    for p, t in zip(params, ts):
        p.grad = t.clone()
    nn.utils.clip_grads_with_norm_(params, 1.5, nn.utils.get_total_norm([p.grad for p in params]))
    for p, want in zip(params, FIX["clipped"]):
        close(p.grad, want, "clipped")


@pytest.mark.parametrize("case", FIX["dirac"], ids=lambda c: f"{c['shape']}-g{c['groups']}")
def test_dirac_matches_torch(case):
    w = loom.empty(*case["shape"], dtype=loom.float64)
    nn.init.dirac_(w, case["groups"])
    close(w, case["value"], "dirac")
