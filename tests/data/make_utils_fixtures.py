"""Generates tests/data/torch_utils.json, PyTorch's side of tests/python/test_nn_utils_torch.py.

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_utils_fixtures.py

Cases: weight and spectral normalization (the hook forms and the parametrizations): the state dict after
registration, the output of a call, the gradients of sum(output * weights) to the input and every
parameter, and the buffers after the call; full backward hooks: the grad_input / grad_output they see and
the gradients after they change them; conv / linear + batch-norm fusion; get_total_norm and
clip_grads_with_norm_; init.dirac_.
"""
import torch
from torch import nn
from torch.nn.utils import parametrizations as P
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

cases = []


def record(name, make, register, x, train=True, calls=1):
    mod = make()
    with torch.no_grad():
        for p in mod.parameters():
            p.add_(0.3 * torch.randn_like(p))
    register(mod)
    mod.train(train)
    sd = {k: t2j(v) for k, v in mod.state_dict().items()}
    xin = x.clone().requires_grad_(True)
    for _ in range(calls - 1):
        with torch.no_grad():
            mod(xin)
    out = mod(xin)
    w = torch.randn_like(out)
    params = dict(mod.named_parameters())
    grads = torch.autograd.grad((out * w).sum(), [xin] + list(params.values()))
    cases.append({"name": name, "state_dict": sd, "input": t2j(x), "train": train, "calls": calls,
                  "output": t2j(out.detach()), "weights": t2j(w), "input_grad": t2j(grads[0]),
                  "param_grads": {k: t2j(g) for k, g in zip(params, grads[1:])},
                  "buffers_after": {k: t2j(v) for k, v in mod.named_buffers()}})


lin = lambda: nn.Linear(4, 3)  # noqa: E731
conv = lambda: nn.Conv2d(2, 3, 3)  # noqa: E731
convt = lambda: nn.ConvTranspose2d(3, 2, 3)  # noqa: E731
x_lin, x_conv, x_convt = torch.randn(5, 4), torch.randn(2, 2, 5, 5), torch.randn(2, 3, 4, 4)

record("weight_norm_linear", lin, lambda m: nn.utils.weight_norm(m), x_lin)
record("weight_norm_linear_dim1", lin, lambda m: nn.utils.weight_norm(m, dim=1), x_lin)
record("weight_norm_conv_dimNone", conv, lambda m: nn.utils.weight_norm(m, dim=None), x_conv)
record("p_weight_norm_linear", lin, lambda m: P.weight_norm(m), x_lin)
record("p_weight_norm_conv_dim1", conv, lambda m: P.weight_norm(m, dim=1), x_conv)
record("spectral_norm_linear", lin, lambda m: nn.utils.spectral_norm(m), x_lin)
record("spectral_norm_conv_3iter", conv, lambda m: nn.utils.spectral_norm(m, n_power_iterations=3), x_conv, calls=2)
record("spectral_norm_convT_eval", convt, lambda m: nn.utils.spectral_norm(m), x_convt, train=False)
record("p_spectral_norm_linear", lin, lambda m: P.spectral_norm(m), x_lin)
record("p_spectral_norm_conv_2iter", conv, lambda m: P.spectral_norm(m, n_power_iterations=2), x_conv, calls=2)
record("p_spectral_norm_convT", convt, lambda m: P.spectral_norm(m), x_convt)
record("p_spectral_norm_linear_eval", lin, lambda m: P.spectral_norm(m), x_lin, train=False)

# ---- full backward hooks ----
hooks = []
for scale_in, scale_out in ((None, None), (2.0, None), (None, 3.0), (0.5, -1.0)):
    m = nn.Linear(4, 3)
    seen = {}

    def hook(mod, gi, go, scale_in=scale_in, seen=seen):
        seen["grad_input"] = [t2j(g) if g is not None else None for g in gi]
        seen["grad_output"] = [t2j(g) for g in go]
        return None if scale_in is None else tuple(g * scale_in if g is not None else None for g in gi)

    def pre(mod, go, scale_out=scale_out):
        return None if scale_out is None else tuple(g * scale_out for g in go)

    m.register_full_backward_hook(hook)
    m.register_full_backward_pre_hook(pre)
    xin = x_lin.clone().requires_grad_(True)
    out = m(xin)
    w = torch.randn_like(out)
    grads = torch.autograd.grad((out * w).sum(), [xin, m.weight, m.bias])
    hooks.append({"state_dict": {k: t2j(v) for k, v in m.state_dict().items()}, "input": t2j(x_lin),
                  "scale_in": scale_in, "scale_out": scale_out, "weights": t2j(w), "seen": seen,
                  "grads": [t2j(g) for g in grads]})

# ---- fusion ----
fusion = []
for kind in ("conv", "convT", "linear"):
    if kind == "conv":
        a, bn, x = nn.Conv2d(2, 4, 3, bias=False), nn.BatchNorm2d(4), torch.randn(2, 2, 5, 5)
    elif kind == "convT":
        a, bn, x = nn.ConvTranspose2d(3, 4, 3), nn.BatchNorm2d(4), torch.randn(2, 3, 4, 4)
    else:
        a, bn, x = nn.Linear(5, 4), nn.BatchNorm1d(4), torch.randn(3, 5)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    a.eval()
    bn.eval()
    if kind == "linear":
        fused = nn.utils.fuse_linear_bn_eval(a, bn)
    else:
        fused = nn.utils.fuse_conv_bn_eval(a, bn, transpose=kind == "convT")
    fusion.append({"kind": kind, "a": {k: t2j(v) for k, v in a.state_dict().items()},
                   "bn": {k: t2j(v) for k, v in bn.state_dict().items()}, "input": t2j(x),
                   "fused": {k: t2j(v) for k, v in fused.state_dict().items()},
                   "output": t2j(fused(x).detach())})

# ---- norms of gradients ----
ts = [torch.randn(3, 4), torch.randn(5), torch.randn(2, 2, 2)]
norms = {str(p): t2j(nn.utils.get_total_norm(ts, p)) for p in (2.0, 1.0, 3.0, float("inf"))}
params = [torch.zeros_like(t).requires_grad_(True) for t in ts]
for p, t in zip(params, ts):
    p.grad = t.clone()
total = nn.utils.get_total_norm([p.grad for p in params])
nn.utils.clip_grads_with_norm_(params, 1.5, total)
clipped = [t2j(p.grad) for p in params]

# ---- init.dirac_ ----
dirac = []
for shape, groups in (((4, 2, 3, 3), 1), ((6, 2, 3), 2), ((2, 3, 3, 2, 3), 1), ((4, 4, 2, 2), 2)):
    w = torch.empty(shape)
    nn.init.dirac_(w, groups)
    dirac.append({"shape": list(shape), "groups": groups, "value": t2j(w)})

write("torch_utils.json", {"cases": cases, "hooks": hooks, "fusion": fusion, "tensors": [t2j(t) for t in ts],
                           "total_norms": norms, "clipped": clipped, "dirac": dirac})
