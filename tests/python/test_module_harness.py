"""Every name exported by loom.nn.modules against its entry in module_db.py: construction, forward on the
sample, finite output, backward to every parameter and input, state_dict round trip, float64, repr,
unique parameters, deepcopy, and the entry's flags. An exported name with neither an entry nor a reason
in module_db.SKIPS fails."""
import copy

import numpy as np
import pytest

import loom
import loom.nn.modules as modules
from loom.nn import Module

from _helpers import close
from module_db import MODULE_DB, SKIPS

EXPORTED = sorted(modules.__all__)
# Everything exported, and every entry (a stale entry fails too).
NAMES = sorted(set(EXPORTED) | set(MODULE_DB))


def info_for(name):
    """The entry of name; skips a name of SKIPS, fails on a name without an entry."""
    if name not in EXPORTED:
        pytest.fail(f"tests/python/module_db.py has an entry for {name}, which loom.nn.modules does not export",
                    pytrace=False)
    if name in SKIPS:
        pytest.skip(f"{name}: {SKIPS[name]}")
    if name not in MODULE_DB:
        pytest.fail(f"module {name} has no entry in tests/python/module_db.py", pytrace=False)
    return MODULE_DB[name]


def tensors(out):
    """The tensors of a forward result (nested tuples flattened, None skipped)."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in tensors(o)]
    return [] if out is None else [out]


def differentiable(info, inputs):
    """The inputs that get a gradient: floating ones, the target of a loss excepted."""
    args = inputs[:-1] if info.loss else inputs
    return [x for x in args if x.is_floating_point()]


def run(info, module, inputs, seed=0):
    """Forward with a fixed seed (dropout draws the same mask), as a list of output tensors."""
    loom.manual_seed(seed)
    return tensors(module(*inputs))


def fresh(inputs, dtype=None):
    """Detached copies of the inputs; floating ones converted to dtype when given."""
    out = []
    for x in inputs:
        x = x.detach().clone()
        if dtype is not None and x.is_floating_point():
            x = x.to(dtype)
        out.append(x)
    return tuple(out)


def assert_same(actual, expected, **tol):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert tuple(a.shape) == tuple(e.shape)
        close(a, e, **tol)


@pytest.mark.parametrize("name", NAMES)
def test_entry(name):
    info = info_for(name)
    assert isinstance(info.cls, type) and issubclass(info.cls, Module), f"{name} is not a loom.nn.Module subclass"
    assert info.cls.forward is not Module.forward, f"{name} defines no forward"
    assert info.input_shapes or info.inputs is not None, f"module_db entry {name} gives no sample input"


def test_missing_entry_fails_with_its_name():
    with pytest.raises(pytest.fail.Exception, match="module NoSuchModule has no entry in tests/python/module_db.py"):
        EXPORTED.append("NoSuchModule")
        try:
            info_for("NoSuchModule")
        finally:
            EXPORTED.remove("NoSuchModule")


@pytest.mark.parametrize("name", NAMES)
def test_forward_backward(name, rng):
    info = info_for(name)
    m = info.make()
    assert isinstance(m, info.cls)
    params = list(m.parameters())
    assert bool(params) == info.has_parameters, f"{name}: has_parameters={info.has_parameters} in module_db"
    inputs = info.sample(rng)
    args = inputs[:-1] if info.loss else inputs
    assert any(not x.is_floating_point() for x in args) == info.integer_input, \
        f"{name}: integer_input={info.integer_input} in module_db"
    for x in differentiable(info, inputs):
        x.requires_grad_(True)

    out = m(*inputs)
    assert isinstance(out, tuple) == info.returns_tuple, f"{name}: returns_tuple={info.returns_tuple} in module_db"
    outs = tensors(out)
    assert outs, f"{name}: forward returned no tensor"
    for o in outs:
        assert o.is_floating_point(), f"{name}: output of dtype {o.dtype}"
        assert o.dtype == info.dtype, f"{name}: output of dtype {o.dtype}, input {info.dtype}"
        assert np.isfinite(o.detach().numpy()).all(), f"{name}: non-finite output"
    if info.loss:
        assert outs[0].dim() == 0, f"{name}: a loss with reduction='mean' gives a 0-d tensor"

    total = outs[0].sum()
    for o in outs[1:]:
        total = total + o.sum()
    total.backward()
    for pname, p in m.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, f"{name}: no gradient reached parameter {pname}"
            assert tuple(p.grad.shape) == tuple(p.shape), f"{name}: gradient of {pname} has shape {p.grad.shape}"
            assert np.isfinite(p.grad.numpy()).all(), f"{name}: non-finite gradient of {pname}"
    for i, x in enumerate(differentiable(info, inputs)):
        assert x.grad is not None, f"{name}: no gradient reached input {i}"
        assert tuple(x.grad.shape) == tuple(x.shape)


@pytest.mark.parametrize("name", NAMES)
def test_train_eval(name, rng):
    info = info_for(name)
    m = info.make()
    inputs = info.sample(rng)
    train = run(info, m, inputs)
    evaluated = run(info, m.eval(), inputs)
    assert not m.training and all(not c.training for c in m.modules())
    differ = any(not np.allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
                 for a, b in zip(train, evaluated))
    assert differ == info.train_eval_differ, f"{name}: train_eval_differ={info.train_eval_differ} in module_db"


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip(name, rng):
    info = info_for(name)
    m = info.make().eval()
    loom.manual_seed(1)  # other initial values for the second instance
    m2 = info.make().eval()
    sd = m.state_dict()
    assert list(sd) == list(m2.state_dict())
    m2.load_state_dict(sd)
    for k, v in m2.state_dict().items():
        close(v, sd[k], rtol=0, atol=0)
    inputs = info.sample(rng)
    assert_same(run(info, m2, inputs), run(info, m, inputs))


@pytest.mark.parametrize("name", NAMES)
def test_double(name, rng):
    info = info_for(name)
    m = info.make().eval()
    inputs = info.sample(rng)
    expected = run(info, m, inputs)
    assert m.double() is m
    for pname, p in list(m.named_parameters()) + list(m.named_buffers()):
        if p.is_floating_point():
            assert p.dtype == loom.float64, f"{name}: {pname} is {p.dtype} after double()"
    outs = run(info, m, fresh(inputs, loom.float64))
    for o in outs:
        assert o.dtype == loom.float64, f"{name}: float64 forward gave {o.dtype}"
        assert np.isfinite(o.detach().numpy()).all(), f"{name}: non-finite float64 output"
    assert_same(outs, expected, rtol=info.double_rtol, atol=info.double_atol)
    m.to(loom.float32)
    assert_same(run(info, m, inputs), expected, rtol=info.double_rtol, atol=info.double_atol)


@pytest.mark.parametrize("name", NAMES)
def test_repr(name):
    info = info_for(name)
    text = repr(info.make())
    assert text.startswith(name + "("), f"{name}: repr {text!r}"


@pytest.mark.parametrize("name", NAMES)
def test_parameters_unique(name):
    info = info_for(name)
    m = info.make()
    params = list(m.parameters())
    named = list(m.named_parameters())
    assert len(named) == len(params)
    assert len({id(p) for p in params}) == len(params)
    assert len({p.data_ptr() for p in params if p.numel()}) == len([p for p in params if p.numel()])
    assert len({k for k, _ in named}) == len(named)


@pytest.mark.parametrize("name", NAMES)
def test_deepcopy(name, rng):
    info = info_for(name)
    m = info.make().eval()
    c = copy.deepcopy(m)
    assert type(c) is type(m) and not c.training
    assert list(c.state_dict()) == list(m.state_dict())
    cp, mp = list(c.parameters()), list(m.parameters())
    assert all(a.data_ptr() != b.data_ptr() for a, b in zip(cp, mp) if a.numel())
    inputs = info.sample(rng)
    expected = run(info, m, inputs)
    assert_same(run(info, c, inputs), expected)
    with loom.no_grad():  # the copy owns its tensors
        for p in cp:
            p.add_(1.0)
    assert_same(run(info, m, inputs), expected)
