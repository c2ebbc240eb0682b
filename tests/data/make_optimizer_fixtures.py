"""Generates tests/data/torch_optimizers.json, PyTorch's side of tests/python/test_optimizers_torch.py.

    /opt/torchpypi/bin/python tests/data/make_optimizer_fixtures.py

For each case: an optimizer of torch.optim with its keyword arguments, two float64 parameters (initial
values stored), and their values after each of 12 steps whose gradients are g = A p + b + c_t (A, b and the
c_t stored): so the gradient depends on where the optimizer went.
"""

import torch
from _fixtures import write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
A = torch.randn(5, 5) * 0.3
B = torch.randn(5)
NOISE = torch.randn(12, 5) * 0.5
P0 = [torch.randn(2), torch.randn(3)]


def grads(ps, t):
    flat = torch.cat([p.detach().reshape(-1) for p in ps])
    g = A @ flat + B + NOISE[t]
    return [g[:2].clone(), g[2:].clone()]


def run(name, cls, kwargs, groups=False):
    ps = [torch.nn.Parameter(p.clone()) for p in P0]
    if groups:
        opt = getattr(torch.optim, cls)([{"params": [ps[0]]}, {"params": [ps[1]], "lr": kwargs.get("lr", 1e-2) * 3}],
                                        **kwargs)
    else:
        opt = getattr(torch.optim, cls)(ps, **kwargs)
    traj = []
    for t in range(12):
        for p, g in zip(ps, grads(ps, t)):
            p.grad = g
        opt.step()
        traj.append([p.detach().tolist() for p in ps])
    return {"name": name, "cls": cls, "kwargs": kwargs, "groups": groups, "trajectory": traj}


cases = [
    run("adagrad", "Adagrad", dict(lr=0.1)),
    run("adagrad_decay_wd_init", "Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                                 initial_accumulator_value=0.2), groups=True),
    run("adadelta", "Adadelta", dict()),
    run("adadelta_wd_maximize", "Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.05, maximize=True)),
    run("adamax", "Adamax", dict(lr=0.05)),
    run("adamax_wd", "Adamax", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1), groups=True),
    run("nadam", "NAdam", dict(lr=0.05)),
    run("nadam_decoupled", "NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True,
                                         momentum_decay=0.01)),
    run("radam", "RAdam", dict(lr=0.05)),
    run("radam_long_rectified", "RAdam", dict(lr=0.05, betas=(0.9, 0.5), weight_decay=0.1)),
    run("radam_decoupled", "RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    run("adam_amsgrad", "Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    run("adamw_amsgrad", "AdamW", dict(lr=0.05, amsgrad=True, betas=(0.8, 0.9)), groups=True),
    run("rprop", "Rprop", dict(lr=0.05)),
    run("rprop_etas", "Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)), groups=True),
    run("asgd", "ASGD", dict(lr=0.05)),
    run("asgd_averaging_wd", "ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.1)),
    run("adafactor_vectors", "Adafactor", dict(lr=0.05)),
    run("adafactor_wd_maximize", "Adafactor", dict(lr=0.05, beta2_decay=-0.5, weight_decay=0.1, d=1.5,
                                                   maximize=True)),
]


def run_matrix(name, kwargs):
    """Adafactor factors the second moment of matrices: a [2, 3] and a [3, 2, 2] parameter."""
    shapes = [(2, 3), (3, 2, 2)]
    ps = [torch.nn.Parameter(torch.randn(s)) for s in shapes]
    p0 = [p.detach().clone().tolist() for p in ps]
    opt = torch.optim.Adafactor(ps, **kwargs)
    grads_seq = [[torch.randn(s) for s in shapes] for _ in range(6)]
    traj = []
    for gs in grads_seq:
        for p, g in zip(ps, gs):
            p.grad = g + 0.5 * p.detach()
        opt.step()
        traj.append([p.detach().tolist() for p in ps])
    return {"name": name, "kwargs": kwargs, "p0": p0, "grads": [[g.tolist() for g in gs] for gs in grads_seq],
            "trajectory": traj}


matrix_cases = [run_matrix("adafactor_matrices", dict(lr=0.05)),
                run_matrix("adafactor_matrices_eps_wd", dict(lr=0.1, eps=(1e-20, 1e-2), weight_decay=0.05))]

# Muon: 2-D parameters only, a tall [4, 3] and a wide [2, 5] one. PyTorch runs the Newton-Schulz iteration in
# bfloat16; the fixtures take its algorithm with the iteration in float64 (loom has no bfloat16 yet, and runs
# it in the parameter's dtype), by replacing the module's iteration with the same code minus the cast.
import torch.optim._muon as _muon_module  # noqa: E402

_bf16_newtonschulz = _muon_module._zeropower_via_newtonschulz


def _newtonschulz_float64(grad, ns_coefficients, ns_steps, eps):
    a, b, c = ns_coefficients
    x = grad.clone()
    if grad.size(0) > grad.size(1):
        x = x.T
    x.div_(x.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if grad.size(0) > grad.size(1) else x


def run_muon(name, kwargs, groups=False):
    shapes = [(4, 3), (2, 5)]
    ps = [torch.nn.Parameter(torch.randn(s)) for s in shapes]
    p0 = [p.detach().clone().tolist() for p in ps]
    if groups:
        opt = torch.optim.Muon([{"params": [ps[0]]}, {"params": [ps[1]], "lr": kwargs.get("lr", 1e-3) * 3,
                                                       "momentum": 0.5}], **kwargs)
    else:
        opt = torch.optim.Muon(ps, **kwargs)
    grads_seq = [[torch.randn(s) for s in shapes] for _ in range(6)]
    traj = []
    _muon_module._zeropower_via_newtonschulz = _newtonschulz_float64
    try:
        for gs in grads_seq:
            for p, g in zip(ps, gs):
                p.grad = g + 0.5 * p.detach()
            opt.step()
            traj.append([p.detach().tolist() for p in ps])
    finally:
        _muon_module._zeropower_via_newtonschulz = _bf16_newtonschulz
    return {"name": name, "kwargs": kwargs, "groups": groups, "p0": p0,
            "grads": [[g.tolist() for g in gs] for gs in grads_seq], "trajectory": traj}


muon_cases = [
    run_muon("muon_default", dict(lr=0.02)),
    run_muon("muon_plain_momentum_match_adamw", dict(lr=0.05, nesterov=False, weight_decay=0.01,
                                                     adjust_lr_fn="match_rms_adamw"), groups=True),
    run_muon("muon_spectral_three_steps", dict(lr=0.05, momentum=0.9, ns_steps=3, ns_coefficients=(2.0, -1.5, 0.5),
                                               adjust_lr_fn="spectral_unclamped", weight_decay=0.0)),
]

# LBFGS: step(closure) on f(p) = 0.5 p.A2.p + b.p + 0.1 sum(p^4) (A2 = A Aᵀ + I): the trajectory after each
# step and the loss the closure saw.
A2 = A @ A.T + torch.eye(5)


def lbfgs_loss(ps):
    flat = torch.cat([p.reshape(-1) for p in ps])
    return 0.5 * flat @ (A2 @ flat) + B @ flat + 0.1 * (flat ** 4).sum()


def run_lbfgs(name, kwargs, steps=3):
    ps = [torch.nn.Parameter(p.clone()) for p in P0]
    opt = torch.optim.LBFGS(ps, **kwargs)
    traj, losses, evals = [], [], []

    def closure():
        opt.zero_grad()
        loss = lbfgs_loss(ps)
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        traj.append([p.detach().tolist() for p in ps])
        evals.append(opt.state[ps[0]]["func_evals"])
    return {"name": name, "kwargs": kwargs, "trajectory": traj, "losses": losses, "func_evals": evals}


lbfgs = [
    run_lbfgs("lbfgs_default", dict()),
    run_lbfgs("lbfgs_few_iters_history", dict(lr=0.5, max_iter=4, history_size=2), steps=4),
    run_lbfgs("lbfgs_strong_wolfe", dict(line_search_fn="strong_wolfe")),
    run_lbfgs("lbfgs_strong_wolfe_short", dict(lr=2.0, max_iter=3, line_search_fn="strong_wolfe", history_size=3),
              steps=4),
]
write("torch_optimizers.json", {"torch_version": torch.__version__, "A": A.tolist(), "B": B.tolist(), "noise": NOISE.tolist(), "p0": [p.tolist() for p in P0], "cases": cases,
                                  "lbfgs": lbfgs, "matrix_cases": matrix_cases, "muon_cases": muon_cases})
