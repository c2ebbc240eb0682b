"""loom.optim / loom.optim.lr_scheduler / loom.nn.utils clipping: optimizer steps against the update
formulas computed in NumPy, scheduler curves against PyTorch's closed forms, state-dict round trips."""
import math

import numpy as np
import pytest

import loom
import loom.optim
from loom.optim import lr_scheduler


def f64(values):
    # through a float64 NumPy array: loom.tensor(list, dtype=float64) currently rounds through float32
    return loom.tensor(np.asarray(values, dtype=np.float64))


def param(values):
    return f64(values).requires_grad_(True)


def vals(t):
    return np.array(t.tolist(), dtype=np.float64)


def quad_grad(p, c):
    """Gradient of sum(c * p^2) set directly: 2 c p."""
    p.grad = f64(2 * np.asarray(c) * vals(p))


def test_sgd_plain_and_weight_decay_momentum_dampening():
    p = param([1.0, 2.0])
    opt = loom.optim.SGD([p], lr=0.1)
    p.grad = f64([0.5, -1.0])
    opt.step()
    np.testing.assert_allclose(vals(p), [0.95, 2.1], rtol=0, atol=1e-12)

    p = param([1.0, 2.0])
    opt = loom.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)
    for _ in range(2):
        p.grad = f64([0.5, -1.0])
        opt.step()
    # step 1: d = [0.51, -0.98], buf = d, p = [0.949, 2.098]
    # step 2: d = [0.50949, -0.97902], buf = 0.9 buf + 0.9 d
    want = [0.949 - 0.1 * (0.459 + 0.9 * 0.50949), 2.098 - 0.1 * (-0.882 + 0.9 * -0.97902)]
    np.testing.assert_allclose(vals(p), want, rtol=0, atol=1e-12)
    assert "momentum_buffer" in opt.state[p]


def test_sgd_nesterov_against_formula():
    c = np.array([0.5, 1.5, -0.25])
    ref = np.array([1.0, -2.0, 0.5])
    p = param(ref.tolist())
    opt = loom.optim.SGD([p], lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)
    buf = None
    for _ in range(4):
        quad_grad(p, c)
        opt.step()
        d = 2 * c * ref + 0.1 * ref
        buf = d if buf is None else 0.8 * buf + d
        ref = ref - 0.05 * (d + 0.8 * buf)
    np.testing.assert_allclose(vals(p), ref, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        loom.optim.SGD([param([1.0])], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)


def adam_ref(p, c, steps, lr, b1, b2, eps, wd, decoupled):
    p = np.array(p, dtype=np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t in range(1, steps + 1):
        g = 2 * c * p
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p


@pytest.mark.parametrize("cls,decoupled", [(loom.optim.Adam, False), (loom.optim.AdamW, True)])
def test_adam_adamw_against_formula(cls, decoupled):
    c = np.array([0.5, 1.5, -0.25, 2.0])
    init = [1.0, -2.0, 0.5, 0.1]
    p = param(init)
    opt = cls([p], lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
    for _ in range(5):
        quad_grad(p, c)
        opt.step()
    np.testing.assert_allclose(vals(p), adam_ref(init, c, 5, 0.01, 0.8, 0.95, 1e-6, 0.1, decoupled),
                               rtol=1e-9, atol=1e-10)
    assert opt.state[p]["step"].item() == 5


def test_adamw_defaults_and_decoupled_decay_with_zero_grad():
    p = param([1.0, -2.0])
    opt = loom.optim.AdamW([p], lr=0.1)
    assert opt.param_groups[0]["weight_decay"] == 1e-2
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)
    p.grad = loom.zeros(2, dtype=loom.float64)
    opt.step()
    # zero gradient: only the decoupled decay moves p
    np.testing.assert_allclose(vals(p), [1.0 * (1 - 0.1 * 0.01), -2.0 * (1 - 0.1 * 0.01)], rtol=0, atol=1e-12)
    assert loom.optim.Adam([param([1.0])], amsgrad=True).defaults["amsgrad"]  # amsgrad: test_optimizers_torch.py


@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.5)])
def test_rmsprop_against_formula(centered, momentum):
    c = np.array([0.5, 1.5])
    ref = np.array([1.0, -2.0])
    p = param(ref.tolist())
    opt = loom.optim.RMSprop([p], lr=0.01, alpha=0.9, weight_decay=0.05, momentum=momentum, centered=centered)
    sq = np.zeros(2)
    ga = np.zeros(2)
    buf = np.zeros(2)
    for _ in range(3):
        quad_grad(p, c)
        opt.step()
        g = 2 * c * ref + 0.05 * ref
        sq = 0.9 * sq + 0.1 * g * g
        if centered:
            ga = 0.9 * ga + 0.1 * g
            avg = np.sqrt(sq - ga * ga) + 1e-8
        else:
            avg = np.sqrt(sq) + 1e-8
        if momentum > 0:
            buf = momentum * buf + g / avg
            ref = ref - 0.01 * buf
        else:
            ref = ref - 0.01 * g / avg
    np.testing.assert_allclose(vals(p), ref, rtol=1e-9, atol=1e-10)


def test_param_groups_lr_changes_zero_grad_and_errors():
    a, b = param([1.0]), param([1.0])
    opt = loom.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0
    a.grad = loom.ones(1, dtype=loom.float64)
    b.grad = loom.ones(1, dtype=loom.float64)
    opt.step()
    np.testing.assert_allclose(vals(a), [0.9], atol=1e-12)
    np.testing.assert_allclose(vals(b), [0.5], atol=1e-12)
    opt.param_groups[0]["lr"] = 0.2  # takes effect at the next step
    opt.step()
    np.testing.assert_allclose(vals(a), [0.7], atol=1e-12)
    opt.zero_grad(set_to_none=False)
    assert vals(a.grad).tolist() == [0.0]
    opt.zero_grad()
    assert a.grad is None
    opt.step()  # parameters without gradients are skipped
    np.testing.assert_allclose(vals(a), [0.7], atol=1e-12)
    with pytest.raises(ValueError):
        loom.optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(ValueError):
        loom.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError):
        loom.optim.SGD(a, lr=0.1)
    c = param([3.0])
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert opt.param_groups[2]["dampening"] == 0


def test_step_with_closure_on_a_real_graph():
    w = param([1.0, -1.0])
    x = f64([2.0, 3.0])
    opt = loom.optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * x).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert abs(loss.item() - (-1.0)) < 1e-12
    np.testing.assert_allclose(vals(w), [0.8, -1.3], atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda ps: loom.optim.Adam(ps, lr=0.05),
    lambda ps: loom.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: loom.optim.RMSprop(ps, lr=0.01, momentum=0.3, centered=True),
])
def test_state_dict_round_trip_continues_identically(make):
    c = np.array([0.5, 1.5])

    def run(reload):
        p, q = param([1.0, -2.0]), param([0.3])
        opt = make([{"params": [p]}, {"params": [q], "lr": 0.01}])
        for _ in range(3):
            quad_grad(p, c)
            quad_grad(q, [1.0])
            opt.step()
        if reload:
            sd = opt.state_dict()
            assert set(sd) == {"state", "param_groups"}
            assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1]
            assert sd["param_groups"][1]["lr"] == 0.01
            assert set(sd["state"]) == {0, 1}
            fresh = make([{"params": [p]}, {"params": [q]}])
            fresh.load_state_dict(sd)
            assert fresh.param_groups[1]["lr"] == 0.01
            assert fresh.param_groups[0]["params"][0] is p
            opt = fresh
        for _ in range(3):
            quad_grad(p, c)
            quad_grad(q, [1.0])
            opt.step()
        return vals(p).tolist() + vals(q).tolist()

    assert run(False) == run(True)


def test_load_state_dict_rejects_mismatched_groups():
    one = loom.optim.SGD([param([1.0])], lr=0.1)
    two = loom.optim.SGD([{"params": [param([1.0])]}, {"params": [param([2.0])]}], lr=0.1)
    with pytest.raises(ValueError):
        one.load_state_dict(two.state_dict())
    big = loom.optim.SGD([param([1.0]), param([2.0])], lr=0.1)
    with pytest.raises(ValueError):
        one.load_state_dict(big.state_dict())


def curve(sched, opt, n):
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr()[0] == out[-1]
        opt.step()
        sched.step()
    return out


def sgd(lr, **kw):
    return loom.optim.SGD([param([1.0])], lr=lr, **kw)


def test_step_lr_and_multistep_lr():
    opt = sgd(0.1)
    np.testing.assert_allclose(curve(lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), opt, 8),
                               [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025], rtol=1e-12)
    opt = sgd(1.0)
    np.testing.assert_allclose(curve(lr_scheduler.MultiStepLR(opt, milestones=[2, 5], gamma=0.1), opt, 7),
                               [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01], rtol=1e-12)


def test_cosine_annealing_matches_closed_form():
    opt = sgd(0.1)
    got = curve(lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001), opt, 11)
    want = [0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_lambda_lr_per_group_and_linear_lr():
    opt = loom.optim.SGD([{"params": [param([1.0])]}, {"params": [param([1.0])], "lr": 1.0}], lr=0.1)
    s = lr_scheduler.LambdaLR(opt, [lambda e: 1.0 / (e + 1), lambda e: 0.5 ** e])
    for e in range(4):
        np.testing.assert_allclose(s.get_last_lr(), [0.1 / (e + 1), 0.5 ** e], rtol=1e-12)
        opt.step()
        s.step()
    opt = sgd(0.1)
    np.testing.assert_allclose(curve(lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3), opt, 6),
                               [0.025, 0.05, 0.075, 0.1, 0.1, 0.1], rtol=1e-12)


def test_linear_warmup_chained_with_cosine():
    opt = sgd(0.1)
    warm = lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    cos = lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    got = []
    for _ in range(4):
        got.append(opt.param_groups[0]["lr"])
        opt.step()
        warm.step()
        cos.step()
    # the product of the two closed forms (PyTorch's chaining of recursive schedulers)
    want = [0.1 * (0.5 + 0.5 * min(e, 2) / 2) * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def cos_anneal(a, b, pct):
    return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)


def test_one_cycle_lr_and_momentum():
    opt = sgd(0.1, momentum=0.9)
    s = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    init, minlr = 1.0 / 25, 1.0 / 25 / 1e4
    lrs, moms = [], []
    for e in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        if e < 9:
            s.step()
    want = [cos_anneal(init, 1.0, e / 2) if e <= 2 else cos_anneal(1.0, minlr, (e - 2) / 7) for e in range(10)]
    wmom = [cos_anneal(0.95, 0.85, e / 2) if e <= 2 else cos_anneal(0.85, 0.95, (e - 2) / 7) for e in range(10)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    np.testing.assert_allclose(moms, wmom, rtol=1e-12)
    s.step()
    with pytest.raises(ValueError):
        s.step()
    # Adam: beta1 cycles; linear annealing; epochs * steps_per_epoch
    opt = loom.optim.Adam([param([1.0])], lr=0.1)
    s = lr_scheduler.OneCycleLR(opt, max_lr=0.01, epochs=2, steps_per_epoch=5, anneal_strategy="linear")
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01 / 25)
    opt.step()
    s.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01 / 25 + (0.01 - 0.01 / 25) * 0.5)


def test_scheduler_state_dict_resume():
    opt = sgd(0.1)
    s = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        s.step()
    sd, osd = s.state_dict(), opt.state_dict()
    assert sd["last_epoch"] == 3 and "optimizer" not in sd
    opt2 = sgd(0.1)
    opt2.load_state_dict(osd)
    s2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    s2.load_state_dict(sd)
    for _ in range(3):
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_clip_grad_norm():
    a, b, c = param([3.0, 0.0]), param([0.0, 4.0]), param([1.0])
    a.grad = f64([3.0, 0.0])
    b.grad = f64([0.0, 4.0])
    total = loom.nn.utils.clip_grad_norm_([a, b, c], max_norm=1.0)
    assert isinstance(total, loom.Tensor) and total.dim() == 0
    assert total.item() == pytest.approx(5.0, abs=1e-12)
    np.testing.assert_allclose(vals(a.grad), [3.0 / (5 + 1e-6), 0.0], atol=1e-12)
    np.testing.assert_allclose(vals(b.grad), [0.0, 4.0 / (5 + 1e-6)], atol=1e-12)
    a.grad = f64([0.3, 0.0])
    loom.nn.utils.clip_grad_norm_(a, 1.0)  # a single tensor; below the limit: unchanged
    np.testing.assert_allclose(vals(a.grad), [0.3, 0.0], atol=1e-12)
    a.grad = f64([-3.0, 1.0])
    b.grad = f64([2.0, 0.0])
    assert loom.nn.utils.clip_grad_norm_([a, b], 1.5, norm_type=float("inf")).item() == 3.0
    np.testing.assert_allclose(vals(a.grad), [-1.5, 0.5], atol=1e-6)
    a.grad = f64([-3.0, 1.0])
    b.grad = f64([2.0, 0.0])
    assert loom.nn.utils.clip_grad_norm_([a, b], 100.0, norm_type=1).item() == pytest.approx(6.0)
    a.grad = f64([float("nan"), 1.0])
    with pytest.raises(RuntimeError):
        loom.nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    assert loom.nn.utils.clip_grad_norm_([param([1.0])], 1.0).item() == 0.0


def test_clip_grad_value():
    a, c = param([1.0, 1.0]), param([1.0])
    a.grad = f64([-3.0, 0.2])
    loom.nn.utils.clip_grad_value_([a, c], 0.5)
    np.testing.assert_allclose(vals(a.grad), [-0.5, 0.2])


_native = getattr(loom._C._functional, "_optim", None)
requires_native = pytest.mark.skipif(_native is None, reason="loom._C built without python/src/nn_optim.cpp")


@requires_native
def test_native_cpp_optimizers_match_python():
    c = np.array([0.5, 1.5])
    for make_py, make_cpp in [
        (lambda ps: loom.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
         lambda ps: _native.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1)),
        (lambda ps: loom.optim.AdamW(ps, lr=0.05, betas=(0.8, 0.9)),
         lambda ps: _native.AdamW(ps, lr=0.05, betas=(0.8, 0.9))),
        (lambda ps: loom.optim.RMSprop(ps, lr=0.01, momentum=0.2, centered=True),
         lambda ps: _native.RMSprop(ps, lr=0.01, momentum=0.2, centered=True)),
    ]:
        p, q = param([1.0, -2.0]), param([1.0, -2.0])
        a, b = make_py([p]), make_cpp([q])
        for _ in range(3):
            quad_grad(p, c)
            quad_grad(q, c)
            a.step()
            b.step()
        np.testing.assert_allclose(vals(p), vals(q), rtol=1e-12, atol=1e-14)


@requires_native
def test_native_state_dict_layout_groups_and_schedulers():
    p, q = param([1.0, -2.0]), param([3.0])
    opt = _native.Adam([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1)
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[0]["beta1"] == 0.9
    quad_grad(p, [1.0, 1.0])
    quad_grad(q, [1.0])
    opt.step()
    sd = opt.state_dict()
    assert {"state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step", "state.1.step", "param_groups.0.lr",
            "param_groups.1.params"} <= set(sd)
    assert sd["param_groups.1.lr"].dtype == loom.float64 and sd["param_groups.1.lr"].dim() == 0
    assert sd["state.0.step"].item() == 1
    fresh = _native.Adam([{"params": [p]}, {"params": [q]}])
    fresh.load_state_dict(sd)
    assert fresh.param_groups[1]["lr"] == 0.5
    opt.set_option(0, "lr", 0.25)
    assert opt.param_groups[0]["lr"] == 0.25
    s = _native.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        lrs.append(s.get_last_lr()[0])
        s.step()
    np.testing.assert_allclose(lrs, [0.25, 0.25, 0.125, 0.125, 0.0625])
    g = param([3.0, 4.0])
    g.grad = f64([3.0, 4.0])
    assert _native.clip_grad_norm_([g], 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(vals(g.grad), [3 / (5 + 1e-6), 4 / (5 + 1e-6)])


def test_cosine_annealing_past_t_max_follows_the_periodic_closed_form():
    opt = sgd(0.1)
    got = curve(lr_scheduler.CosineAnnealingLR(opt, T_max=3, eta_min=0.01), opt, 9)
    want = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 3)) / 2 for e in range(9)]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_adam_float32_parameters():
    c = np.array([0.5, 1.5, -0.25, 2.0], dtype=np.float32)
    init = [1.0, -2.0, 0.5, 0.1]
    p = loom.tensor(np.array(init, dtype=np.float32), requires_grad=True)
    opt = loom.optim.Adam([p], lr=0.01)
    for _ in range(5):
        p.grad = loom.tensor((2 * c * np.array(p.tolist(), dtype=np.float32)).astype(np.float32))
        opt.step()
    assert p.dtype == loom.float32 and opt.state[p]["exp_avg"].dtype == loom.float32
    np.testing.assert_allclose(vals(p), adam_ref(init, c.astype(np.float64), 5, 0.01, 0.9, 0.999, 1e-8, 0.0, False),
                               rtol=1e-5, atol=1e-6)


def test_parameters_to_vector_and_back():
    m = loom.nn.Sequential(loom.nn.Linear(3, 2), loom.nn.Linear(2, 1, bias=False))
    v = loom.nn.utils.parameters_to_vector(m.parameters())
    assert v.shape == (3 * 2 + 2 + 2,)
    expect = np.concatenate([p.detach().numpy().reshape(-1) for p in m.parameters()])
    np.testing.assert_array_equal(v.detach().numpy(), expect)
    loom.nn.utils.vector_to_parameters(v * 2, m.parameters())
    np.testing.assert_allclose(np.concatenate([p.detach().numpy().reshape(-1) for p in m.parameters()]), expect * 2)
    assert all(p.requires_grad for p in m.parameters())
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        loom.nn.utils.vector_to_parameters([1.0], m.parameters())
    with pytest.raises(RuntimeError, match="1-D vector of 10 elements"):
        loom.nn.utils.vector_to_parameters(loom.zeros(9), m.parameters())
