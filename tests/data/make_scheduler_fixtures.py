"""Generates tests/data/torch_schedulers.json, PyTorch's side of tests/python/test_schedulers_torch.py.

    /opt/torchpypi/bin/python tests/data/make_scheduler_fixtures.py

For each case: the learning rates (two parameter groups, lr 0.1 and 0.02) after construction and after each
of 30 steps, PyTorch 2.15's schedulers; ReduceLROnPlateau steps on a fixed metric sequence. Then
torch.optim.swa_utils ("swa"): a small model trained five SGD steps from stored weights on stored batches, with
AveragedModel (the running mean, an EMA by multi_avg_fn with buffers, an EMA by avg_fn) updated after each step,
their state dicts, and the running mean's after update_bn over the batches.
"""

import torch
from torch.optim import SGD
from torch.optim import lr_scheduler as S
from torch.optim.swa_utils import SWALR, AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn, update_bn
from _fixtures import write  # noqa: E402  (tests/data/_fixtures.py)

METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69999, 0.6, 0.7,
           0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]


def optimizer():
    w = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))]
    return SGD([{"params": [w[0]]}, {"params": [w[1]], "lr": 0.02}], lr=0.1, momentum=0.9)


def run(name, make, metric=False):
    opt = optimizer()
    sch = make(opt)
    lrs = [[g["lr"] for g in opt.param_groups]]
    for i in range(30):
        opt.step()
        if metric:
            sch.step(METRICS[i])
        else:
            sch.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return {"name": name, "lrs": lrs, "momentum": [g["momentum"] for g in opt.param_groups]}


cases = [
    run("exponential", lambda o: S.ExponentialLR(o, 0.9)),
    run("constant", lambda o: S.ConstantLR(o, factor=0.25, total_iters=4)),
    run("polynomial", lambda o: S.PolynomialLR(o, total_iters=12, power=2.0)),
    run("multiplicative", lambda o: S.MultiplicativeLR(o, lambda e: 0.95 if e % 2 else 1.0)),
    run("warm_restarts", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.001)),
    run("warm_restarts_mult", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)),
    run("sequential_warmup_cosine", lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=20, eta_min=0.001)], [5])),
    run("sequential_three", lambda o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.5, total_iters=3), S.ExponentialLR(o, 0.8), S.StepLR(o, 4, 0.5)], [4, 12])),
    run("chained", lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=6),
                                                 S.ExponentialLR(o, 0.9)])),
    run("cyclic_triangular", lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.05], step_size_up=4,
                                                  step_size_down=3)),
    run("cyclic_triangular2", lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                                   mode="triangular2", cycle_momentum=False)),
    run("cyclic_exp_range", lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range",
                                                 gamma=0.97, base_momentum=0.7, max_momentum=0.95)),
    run("swalr_cos", lambda o: SWALR(o, swa_lr=0.05, anneal_epochs=5)),
    run("swalr_linear_per_group", lambda o: SWALR(o, swa_lr=[0.05, 0.001], anneal_epochs=3, anneal_strategy="linear")),
    run("swalr_no_anneal", lambda o: SWALR(o, swa_lr=0.03, anneal_epochs=0)),
    run("plateau", lambda o: S.ReduceLROnPlateau(o, patience=2), metric=True),
    run("plateau_max_abs_cooldown", lambda o: S.ReduceLROnPlateau(
        o, mode="max", factor=0.5, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2, min_lr=[0.01, 0.015]),
        metric=True),
]


def state(m):
    return {k: v.tolist() for k, v in m.state_dict().items()}


def swa_case():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    init = state(model)
    xs, ys = [torch.randn(6, 3) for _ in range(5)], [torch.randn(6, 2) for _ in range(5)]
    opt = SGD(model.parameters(), lr=0.1)
    averaged = {"swa": AveragedModel(model),
                "ema_buffers": AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.8), use_buffers=True),
                "ema_fn": AveragedModel(model, avg_fn=get_ema_avg_fn(0.7))}
    for x, y in zip(xs, ys):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
        for a in averaged.values():
            a.update_parameters(model)
    out = {"init": init, "xs": [x.tolist() for x in xs], "ys": [y.tolist() for y in ys]}
    out.update({name: state(a) for name, a in averaged.items()})
    update_bn(xs, averaged["swa"])
    out["swa_update_bn"] = state(averaged["swa"])
    return out


write("torch_schedulers.json", {"torch_version": torch.__version__, "metrics": METRICS, "cases": cases,
                                "swa": swa_case()})
