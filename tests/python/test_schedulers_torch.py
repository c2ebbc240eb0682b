"""ExponentialLR, ConstantLR, PolynomialLR, MultiplicativeLR, CosineAnnealingWarmRestarts, SequentialLR,
ChainedScheduler, ReduceLROnPlateau, CyclicLR and swa_utils.SWALR against PyTorch: tests/data/torch_schedulers.json
holds PyTorch 2.15's learning rates of two parameter groups over 30 steps for each case
(tests/data/make_scheduler_fixtures.py); and swa_utils.AveragedModel (running mean, EMAs, buffers) and update_bn
against PyTorch's state dicts after the same five training steps."""
import numpy as np
import pytest

import loom
from loom import nn
from loom.optim import SGD
from loom.optim import lr_scheduler as S
from loom.optim.swa_utils import SWALR, AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn, update_bn

from _helpers import load_fixture

FIXTURE = load_fixture("torch_schedulers.json")
METRICS = FIXTURE["metrics"]


def optimizer():
    w = [nn.Parameter(loom.zeros(2)), nn.Parameter(loom.zeros(2))]
    return SGD([{"params": [w[0]]}, {"params": [w[1]], "lr": 0.02}], lr=0.1, momentum=0.9)


MAKERS = {
    "exponential": lambda o: S.ExponentialLR(o, 0.9),
    "constant": lambda o: S.ConstantLR(o, factor=0.25, total_iters=4),
    "polynomial": lambda o: S.PolynomialLR(o, total_iters=12, power=2.0),
    "multiplicative": lambda o: S.MultiplicativeLR(o, lambda e: 0.95 if e % 2 else 1.0),
    "warm_restarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.001),
    "warm_restarts_mult": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "sequential_warmup_cosine": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=20, eta_min=0.001)], [5]),
    "sequential_three": lambda o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.5, total_iters=3), S.ExponentialLR(o, 0.8), S.StepLR(o, 4, 0.5)], [4, 12]),
    "chained": lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=6), S.ExponentialLR(o, 0.9)]),
    "cyclic_triangular": lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.05], step_size_up=4,
                                              step_size_down=3),
    "cyclic_triangular2": lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2",
                                               cycle_momentum=False),
    "cyclic_exp_range": lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range",
                                             gamma=0.97, base_momentum=0.7, max_momentum=0.95),
    "swalr_cos": lambda o: SWALR(o, swa_lr=0.05, anneal_epochs=5),
    "swalr_linear_per_group": lambda o: SWALR(o, swa_lr=[0.05, 0.001], anneal_epochs=3, anneal_strategy="linear"),
    "swalr_no_anneal": lambda o: SWALR(o, swa_lr=0.03, anneal_epochs=0),
    "plateau": lambda o: S.ReduceLROnPlateau(o, patience=2),
    "plateau_max_abs_cooldown": lambda o: S.ReduceLROnPlateau(
        o, mode="max", factor=0.5, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2, min_lr=[0.01, 0.015]),
}


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["name"] for c in FIXTURE["cases"]])
def test_matches_pytorch(case):
    opt = optimizer()
    sch = MAKERS[case["name"]](opt)
    metric = case["name"].startswith("plateau")
    lrs = [[g["lr"] for g in opt.param_groups]]
    for i in range(30):
        opt.step()
        sch.step(METRICS[i]) if metric else sch.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    np.testing.assert_allclose(lrs, case["lrs"], rtol=1e-12, atol=1e-15)
    assert sch.get_last_lr() == lrs[-1]
    np.testing.assert_allclose([g["momentum"] for g in opt.param_groups], case["momentum"], rtol=1e-12)


def test_closed_forms_and_state():
    opt = optimizer()
    sch = S.ExponentialLR(opt, 0.5)
    sch.step(3)  # an explicit epoch takes the closed form
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.125)
    opt2 = optimizer()
    w = S.CosineAnnealingWarmRestarts(opt2, T_0=4)
    w.step(6)  # epoch 6: second cycle, T_cur = 2
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.05)
    p = S.ReduceLROnPlateau(optimizer(), patience=0)
    p.step(1.0)
    p.step(2.0)
    st = p.state_dict()
    assert st["num_bad_epochs"] == 0 and st["best"] == 1.0 and p.get_last_lr()[0] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        S.ReduceLROnPlateau(optimizer(), factor=1.5)
    with pytest.raises(ValueError, match="T_0"):
        S.CosineAnnealingWarmRestarts(optimizer(), T_0=0)
    o = optimizer()
    with pytest.raises(ValueError, match="number of milestone points"):
        S.SequentialLR(o, [S.ConstantLR(o), S.ExponentialLR(o, 0.9)], [2, 4])


def _check_state(module, want):
    got = module.state_dict()
    assert list(got) == list(want)
    for k, v in want.items():
        np.testing.assert_allclose(got[k].numpy(), np.asarray(v), rtol=1e-5, atol=1e-6, err_msg=k)


def test_averaged_models_and_update_bn_match_pytorch():
    case = FIXTURE["swa"]
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model.load_state_dict({k: loom.tensor(v, dtype=loom.int64 if k.endswith("num_batches_tracked") else loom.float32)
                           for k, v in case["init"].items()})
    xs, ys = [loom.tensor(x) for x in case["xs"]], [loom.tensor(y) for y in case["ys"]]
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
    for name, a in averaged.items():
        _check_state(a, case[name])
    update_bn(xs, averaged["swa"])
    _check_state(averaged["swa"], case["swa_update_bn"])
    assert averaged["swa"].training and averaged["swa"].module[1].momentum == 0.1


def test_averaged_model_behaviour():
    m = nn.Linear(2, 2)
    a = AveragedModel(m)
    assert a.module is not m and a(loom.ones(1, 2)).shape == (1, 2)
    with pytest.raises(ValueError, match="avg_fn"):
        AveragedModel(m, avg_fn=get_ema_avg_fn(), multi_avg_fn=get_ema_multi_avg_fn())
    with pytest.raises(ValueError, match="anneal_strategy"):
        SWALR(SGD(m.parameters(), lr=0.1), 0.01, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs"):
        SWALR(SGD(m.parameters(), lr=0.1), 0.01, anneal_epochs=-1)
    update_bn([loom.ones(1, 2)], m)  # no batch norm: nothing to do
    # A model without batch norm averaged over k updates holds the mean of the k snapshots.
    snaps = []
    for k in range(4):
        with loom.no_grad():
            m.weight.copy_(loom.full((2, 2), float(k * k)))
        snaps.append(float(k * k))
        a.update_parameters(m)
    np.testing.assert_allclose(a.module.weight.detach().numpy(), np.full((2, 2), np.mean(snaps)), rtol=1e-6)
    assert int(a.n_averaged.item()) == 4
