"""One implementation of the optimizer and scheduler math (nn/optim), two front ends: loom.optim's Python classes
(PyTorch's param_groups and state dicts) and the bound C++ classes (loom._C._functional._optim) must give
bit-identical trajectories; the bound step functions and formulas themselves; a Python subclass of
loom.optim.Optimizer written with PyTorch's semantics."""
import math

import numpy as np
import pytest

import loom
import loom.optim
from loom.optim import lr_scheduler

_native = loom._C._functional._optim

SHAPES = [(3, 4), (5,), (2, 1, 3)]


def values(t):
    return np.asarray(t.tolist())


def bitwise_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def make_params(dtype, seed):
    rng = np.random.default_rng(seed)
    npd = np.float32 if dtype == loom.float32 else np.float64
    return [loom.tensor(rng.standard_normal(s).astype(npd)).requires_grad_(True) for s in SHAPES]


def grad_arrays(dtype, steps, seed):
    rng = np.random.default_rng(seed)
    npd = np.float32 if dtype == loom.float32 else np.float64
    return [[rng.standard_normal(s).astype(npd) for s in SHAPES] for _ in range(steps)]


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.03, betas=(0.85, 0.99), weight_decay=0.05, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.05, momentum=0.5, centered=True)),
    ("RMSprop", dict(lr=0.02, momentum=0.3, maximize=True)),
]


def run_optimizer(make, dtype, steps=4):
    """Two groups (the second with its own lr), one parameter without a gradient at step 1, the first group's lr
    changed before step 3; returns the optimizer and the parameters."""
    ps = make_params(dtype, 7)
    opt = make([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.004}])
    for k, gs in enumerate(grad_arrays(dtype, steps, 8)):
        for i, (p, g) in enumerate(zip(ps, gs)):
            p.grad = None if (k == 1 and i == 1) else loom.tensor(g)
        if k == 2:
            if hasattr(opt, "set_option"):
                opt.set_option(0, "lr", 0.02)
            else:
                opt.param_groups[0]["lr"] = 0.02
        opt.step()
    return opt, ps


@pytest.mark.parametrize("dtype", [loom.float32, loom.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_python_and_cpp_optimizers_give_bit_identical_trajectories(name, kw, dtype):
    py_opt, py_ps = run_optimizer(lambda groups: getattr(loom.optim, name)(groups, **kw), dtype)
    cpp_opt, cpp_ps = run_optimizer(lambda groups: getattr(_native, name)(groups, **kw), dtype)
    for a, b in zip(py_ps, cpp_ps):
        assert bitwise_equal(values(a), values(b))
    # The state buffers too, under PyTorch's names on both sides.
    py_state = py_opt.state_dict()["state"]
    cpp_sd = cpp_opt.state_dict()
    cpp_keys = {k for k in cpp_sd if k.startswith("state.")}
    assert cpp_keys == {f"state.{i}.{n}" for i, s in py_state.items() for n in s}
    for i, s in py_state.items():
        for n, t in s.items():
            assert bitwise_equal(values(t), values(cpp_sd[f"state.{i}.{n}"])), (i, n)


def test_state_objects_are_kept_and_step_counts_are_float64():
    ps = make_params(loom.float32, 1)
    opt = loom.optim.AdamW(ps, lr=0.01)
    for p in ps:
        p.grad = loom.ones_like(p)
    opt.step()
    before = {id(p): dict(opt.state[p]) for p in ps}
    opt.step()
    for p in ps:
        st = opt.state[p]
        # Updated in place: the same Python objects as after the first step.
        assert all(st[k] is before[id(p)][k] for k in ("step", "exp_avg", "exp_avg_sq"))
        assert st["step"].dtype == loom.float64 and st["step"].dim() == 0 and st["step"].item() == 2
        assert st["exp_avg"].dtype == loom.float32


def test_sgd_without_momentum_keeps_no_state_and_skips_parameters_without_grads():
    a, b = make_params(loom.float64, 2)[:2]
    opt = loom.optim.SGD([a, b], lr=0.1)
    a.grad = loom.ones_like(a)
    before = values(b)
    opt.step()
    assert len(opt.state) == 0 and opt.state_dict()["state"] == {}
    assert bitwise_equal(values(b), before)
    opt = loom.optim.SGD([a, b], lr=0.1, momentum=0.9)
    opt.step()
    assert set(opt.state) == {a} and set(opt.state[a]) == {"momentum_buffer"}


def test_step_functions_on_plain_state_dicts():
    # The bound functions are the whole step: a dict as state, None for a missing gradient.
    p, q = loom.tensor([1.0, -2.0], dtype=loom.float64), loom.tensor([3.0], dtype=loom.float64)
    state = {}
    _native.adam_step([p, q], [loom.tensor([0.5, 0.5], dtype=loom.float64), None], state, lr=0.1)
    assert list(state) == [p] and set(state[p]) == {"step", "exp_avg", "exp_avg_sq"}
    assert values(q).tolist() == [3.0]
    # One Adam step moves each element by lr (bias-corrected m / sqrt(v) = sign(g)).
    np.testing.assert_allclose(values(p), [0.9, -2.1], rtol=0, atol=1e-7)
    # A step count stored as a number (older PyTorch checkpoints) is read, then kept as a tensor.
    state[p]["step"] = 4
    _native.adam_step([p], [loom.tensor([0.5, 0.5], dtype=loom.float64)], state, lr=0.1)
    assert isinstance(state[p]["step"], loom.Tensor) and state[p]["step"].item() == 5
    # SGD: a None momentum buffer (PyTorch's value before the first step) is a first step.
    state = {p: {"momentum_buffer": None}}
    _native.sgd_step([p], [loom.tensor([1.0, 1.0], dtype=loom.float64)], state, lr=0.1, momentum=0.9,
                     dampening=0.5)
    assert values(state[p]["momentum_buffer"]).tolist() == [1.0, 1.0]  # buf = g on the first step
    with pytest.raises(ValueError):
        _native.sgd_step([p], [], {}, lr=0.1)
    st = {}
    _native.adam_step([p], [loom.ones_like(p)], st, lr=0.1, amsgrad=True)
    assert set(st[p]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}


def test_maximize_is_the_negated_gradient():
    for name in ("SGD", "Adam", "RMSprop"):
        a, b = loom.tensor([1.0, -2.0], dtype=loom.float64), loom.tensor([1.0, -2.0], dtype=loom.float64)
        a.requires_grad_(True), b.requires_grad_(True)
        up = getattr(loom.optim, name)([a], lr=0.1, maximize=True)
        down = getattr(loom.optim, name)([b], lr=0.1)
        for _ in range(3):
            a.grad = loom.tensor([0.5, -1.5], dtype=loom.float64)
            b.grad = loom.tensor([-0.5, 1.5], dtype=loom.float64)
            up.step()
            down.step()
        assert bitwise_equal(values(a), values(b)), name


# ---- schedulers ----

def sgd_pair(lr=0.1, momentum=0.0, groups=1):
    def make(mod):
        ps = [loom.zeros(1, dtype=loom.float64).requires_grad_(True) for _ in range(groups)]
        return mod.SGD([{"params": [p], "lr": lr * (k + 1)} for k, p in enumerate(ps)], lr=lr, momentum=momentum)
    return make(loom.optim), make(_native)


def group_values(opt, key):
    return [g[key] for g in opt.param_groups]


def trajectory(opt, scheds, n, epochs=None):
    out = []
    for k in range(n):
        out.append([s.get_last_lr() for s in scheds] + [group_values(opt, "lr")])
        for s in scheds:
            if epochs is None:
                s.step()
            else:
                s.step(epochs[k])
    return out


SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.001)),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=5)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.97 ** e / (1 + e))),
]


@pytest.mark.parametrize("name,kw", SCHEDULERS, ids=[n for n, _ in SCHEDULERS])
def test_python_and_cpp_schedulers_give_bit_identical_lrs(name, kw):
    py_opt, cpp_opt = sgd_pair(lr=0.1, groups=2)
    py = trajectory(py_opt, [getattr(lr_scheduler, name)(py_opt, **kw)], 13)
    cpp = trajectory(cpp_opt, [getattr(_native, name)(cpp_opt, **kw)], 13)
    assert py == cpp  # exact float equality, every step and group
    # step(epoch): the closed forms
    py_opt, cpp_opt = sgd_pair(lr=0.1, groups=2)
    epochs = [3, 7, 1, 12, 4]
    py = trajectory(py_opt, [getattr(lr_scheduler, name)(py_opt, **kw)], 5, epochs)
    cpp = trajectory(cpp_opt, [getattr(_native, name)(cpp_opt, **kw)], 5, epochs)
    assert py == cpp


def test_chained_schedulers_are_bit_identical():
    py_opt, cpp_opt = sgd_pair(lr=0.1, groups=2)
    py = trajectory(py_opt, [lr_scheduler.LinearLR(py_opt, start_factor=0.5, total_iters=3),
                             lr_scheduler.CosineAnnealingLR(py_opt, T_max=6, eta_min=0.0),
                             lr_scheduler.MultiStepLR(py_opt, milestones=[4, 8], gamma=0.5)], 12)
    cpp = trajectory(cpp_opt, [_native.LinearLR(cpp_opt, start_factor=0.5, total_iters=3),
                               _native.CosineAnnealingLR(cpp_opt, T_max=6, eta_min=0.0),
                               _native.MultiStepLR(cpp_opt, milestones=[4, 8], gamma=0.5)], 12)
    assert py == cpp
    # chaining multiplies: the lr is the product of the closed forms (up to rounding)
    e = 5
    want = 0.1 * 1.0 * (1 + math.cos(math.pi * e / 6)) / 2 * 0.5
    assert py[e][-1][0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("kw", [dict(), dict(anneal_strategy="linear"), dict(three_phase=True, pct_start=0.25),
                                dict(cycle_momentum=False, div_factor=10.0, final_div_factor=100.0)],
                         ids=["cos", "linear", "three_phase", "no_momentum"])
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_one_cycle_is_bit_identical_with_its_momentum(kw, opt_name):
    def make(mod):
        p = loom.zeros(1, dtype=loom.float64).requires_grad_(True)
        return getattr(mod, opt_name)([p], lr=0.1, **(dict(momentum=0.9) if opt_name == "SGD" else {}))
    py_opt, cpp_opt = make(loom.optim), make(_native)
    py_s = lr_scheduler.OneCycleLR(py_opt, max_lr=0.5, total_steps=17, **kw)
    cpp_s = _native.OneCycleLR(cpp_opt, max_lr=0.5, total_steps=17, **kw)
    for _ in range(17):
        assert py_s.get_last_lr() == cpp_s.get_last_lr()
        if opt_name == "SGD":
            assert py_opt.param_groups[0]["momentum"] == cpp_opt.param_groups[0]["momentum"]
        else:
            assert py_opt.param_groups[0]["betas"][0] == cpp_opt.param_groups[0]["beta1"]
        py_s.step()
        cpp_s.step()
    with pytest.raises(ValueError):
        py_s.step()
    with pytest.raises(ValueError):
        cpp_s.step()


def test_formulas_are_the_documented_closed_forms():
    assert _native.step_lr_closed_form(0.1, 7, 3, 0.5) == 0.1 * 0.5 ** 2
    assert _native.step_lr(0.2, 6, 3, 0.5) == 0.1 and _native.step_lr(0.2, 5, 3, 0.5) == 0.2
    assert _native.multistep_lr(1.0, 5, [2, 5, 5], 0.1) == 0.1 ** 2
    assert _native.multistep_lr_closed_form(1.0, 5, [5, 2, 5], 0.1) == 0.1 ** 3
    assert _native.cosine_annealing_lr_closed_form(0.1, 2, 4, 0.0) == pytest.approx(0.05, rel=1e-15)
    assert _native.linear_lr_closed_form(0.1, 9, 0.5, 1.0, 4) == 0.1
    assert _native.lambda_lr(0.1, 0.5) == 0.05
    lr, mom = _native.one_cycle(0, 10, 0.3, False, True, 0.04, 1.0, 4e-6, 0.95, 0.85)
    assert lr == pytest.approx(0.04, rel=1e-14) and mom == pytest.approx(0.95, rel=1e-14)
    lr, mom = _native.one_cycle(2, 10, 0.3, False, False, 0.04, 1.0, 4e-6, 0.95, 0.85)  # the peak, linear
    assert (lr, mom) == (1.0, 0.85)
    with pytest.raises(ValueError):
        _native.step_lr(0.1, 1, 0, 0.5)
    with pytest.raises(ValueError):
        _native.one_cycle(11, 10, 0.3, False, True, 0.04, 1.0, 4e-6, 0.95, 0.85)


# ---- a Python optimizer with PyTorch's semantics ----

class SignMomentum(loom.optim.Optimizer):
    """p -= lr * sign(buf), buf = momentum * buf + grad: written in Python against the Optimizer base class."""

    def __init__(self, params, lr=0.01, momentum=0.5):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @loom.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with loom.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["momentum_buffer"] = loom.zeros_like(p)
                state["step"] += 1
                buf = state["momentum_buffer"]
                buf.mul_(group["momentum"]).add_(p.grad)
                p.sub_(buf.sign() * group["lr"])
        return loss


def test_python_subclass_of_optimizer_with_closure_state_dict_and_scheduler():
    x = loom.tensor([2.0, -3.0], dtype=loom.float64)

    def run(reload):
        w = loom.tensor([1.0, 1.0], dtype=loom.float64).requires_grad_(True)
        b = loom.tensor([0.5], dtype=loom.float64).requires_grad_(True)
        opt = SignMomentum([{"params": [w]}, {"params": [b], "lr": 0.1}], lr=0.25)
        assert opt.param_groups[1]["momentum"] == 0.5 and opt.defaults == dict(lr=0.25, momentum=0.5)
        sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def closure():
            opt.zero_grad()
            loss = ((w * x).sum() + b.sum()) ** 2
            loss.backward()
            return loss

        losses = []
        for k in range(6):
            if reload and k == 3:
                sd, ssd = opt.state_dict(), sched.state_dict()
                assert sd["state"][0]["step"] == 3 and sd["param_groups"][0]["params"] == [0]
                opt = SignMomentum([{"params": [w]}, {"params": [b]}])
                opt.load_state_dict(sd)
                assert opt.param_groups[1]["lr"] == sd["param_groups"][1]["lr"]
                sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)  # keeps the loaded initial_lr
                sched.load_state_dict(ssd)
            losses.append(opt.step(closure).item())
            sched.step()
        return losses, values(w).tolist() + values(b).tolist(), [g["lr"] for g in opt.param_groups]

    losses, params, lrs = run(False)
    assert run(True) == (losses, params, lrs)
    assert lrs == [0.25 * 0.5 ** 3, 0.1 * 0.5 ** 3]  # the scheduler drives the Python groups
    # the first step by hand: loss = (2 - 3 + 0.5)^2, gradient sign = sign(2 * -0.5 * [2, -3, 1])
    assert losses[0] == pytest.approx(0.25)
    w0 = [1.0 - 0.25 * s for s in (-1.0, 1.0)]
    w = loom.tensor([1.0, 1.0], dtype=loom.float64).requires_grad_(True)
    b = loom.tensor([0.5], dtype=loom.float64).requires_grad_(True)
    opt = SignMomentum([{"params": [w]}, {"params": [b], "lr": 0.1}], lr=0.25)
    loss = ((w * x).sum() + b.sum()) ** 2
    loss.backward()
    opt.step()
    assert values(w).tolist() == w0 and values(b).tolist() == [0.5 + 0.1]
