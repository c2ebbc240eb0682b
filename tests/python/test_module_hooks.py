"""Module hooks (forward pre / post, full backward, global), parametrize, functional_call and the other
loom.nn.utils helpers: behaviour (test_nn_utils_torch.py compares the numbers with PyTorch)."""
import numpy as np
import pytest

import loom
from loom import nn
from loom.nn.modules import module as module_mod
from loom.nn.utils import parametrize
from loom.nn.utils.stateless import functional_call


class Scale(nn.Module):
    def forward(self, x, factor=2.0):
        return x * factor


def test_forward_pre_and_post_hooks_order_and_replacement():
    m = Scale()
    log = []
    h1 = m.register_forward_pre_hook(lambda mod, args: log.append("pre1"))
    h2 = m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
    h3 = m.register_forward_pre_hook(lambda mod, args: log.append("pre0"), prepend=True)
    h4 = m.register_forward_hook(lambda mod, args, out: out * 10)
    out = m(loom.tensor([1.0]))
    assert log == ["pre0", "pre1"] and out.item() == 40.0
    for h in (h1, h2, h3, h4):
        h.remove()
    assert m(loom.tensor([1.0])).item() == 2.0
    assert not m._forward_hooks and not m._forward_pre_hooks


def test_hooks_with_kwargs():
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, dict(kwargs, factor=5.0)), with_kwargs=True)
    seen = {}
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.update(kwargs), with_kwargs=True)
    assert m(loom.tensor([1.0]), factor=3.0).item() == 5.0
    assert seen == {"factor": 5.0}


def test_pre_hook_bad_return_with_kwargs():
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: 3, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        m(loom.tensor([1.0]))


def test_always_call_hooks_run_when_forward_raises():
    class Bad(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Bad()
    log = []
    m.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, args, out: log.append("normal"))
    with pytest.raises(ValueError, match="boom"):
        m(loom.zeros(1))
    assert log == [("always", None)]


def test_handle_as_context_manager_and_global_hooks():
    m = nn.Linear(2, 2)
    calls = []
    with m.register_forward_hook(lambda mod, args, out: calls.append("local")):
        m(loom.zeros(1, 2))
    m(loom.zeros(1, 2))
    assert calls == ["local"]
    h = module_mod.register_module_forward_hook(lambda mod, args, out: calls.append(type(mod).__name__))
    try:
        nn.Sequential(nn.Linear(2, 2), nn.ReLU())(loom.zeros(1, 2))
    finally:
        h.remove()
    assert calls[1:] == ["Linear", "ReLU", "Sequential"]
    nn.ReLU()(loom.zeros(1))
    assert len(calls) == 4


def test_feature_extraction_with_forward_hooks():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    feats = {}
    net[1].register_forward_hook(lambda mod, args, out: feats.__setitem__("relu", out.detach()))
    x = loom.randn(5, 3)
    net(x)
    np.testing.assert_allclose(feats["relu"].numpy(), net[0](x).relu().detach().numpy(), rtol=1e-6)


def test_full_backward_hook_without_input_grad_sees_none():
    m = nn.Linear(3, 2)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, tuple(g.shape for g in go))))
    m(loom.randn(4, 3)).sum().backward()
    assert seen == [((None,), ((4, 2),))]
    assert m.weight.grad is not None


def test_full_backward_hook_non_tensor_arguments_and_global():
    m = Scale()
    seen = []
    h = module_mod.register_module_full_backward_hook(lambda mod, gi, go: seen.append(len(gi)))
    try:
        x = loom.ones(2, requires_grad=True)
        m(x, 3.0).sum().backward()
    finally:
        h.remove()
    assert seen == [2] and x.grad.tolist() == [3.0, 3.0]  # (grad of x, None for 3.0), as PyTorch


def test_backward_hook_wrong_arity():
    m = nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    x = loom.ones(1, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid number of grad_input"):
        m(x).sum().backward()


# ---- parametrize ----

class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(0, 1)

    def right_inverse(self, A):
        return A.triu()


def test_register_parametrization_and_assignment():
    m = nn.Linear(3, 3)
    parametrize.register_parametrization(m, "weight", Symmetric())
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias")
    assert parametrize.type_before_parametrizations(m) is nn.Linear and isinstance(m, nn.Linear)
    w = m.weight
    np.testing.assert_allclose(w.detach().numpy(), w.detach().numpy().T)
    sym = loom.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]])
    m.weight = sym
    np.testing.assert_allclose(m.weight.detach().numpy(), sym.numpy())
    m(loom.randn(2, 3)).sum().backward()
    assert m.parametrizations.weight.original.grad is not None
    assert "parametrizations.weight.original" in m.state_dict()
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), sym.numpy())


def test_parametrization_may_not_change_shape_unless_unsafe():
    class Drop(nn.Module):
        def forward(self, X):
            return X[:1]

    with pytest.raises(ValueError, match="may not change the dtype or shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Drop())
    m = nn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", Drop(), unsafe=True)
    assert m.weight.shape == (1, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nope", Symmetric())


def test_cached_and_chained_parametrizations():
    class Double(nn.Module):
        def forward(self, X):
            return X * 2

    m = nn.Linear(2, 2)
    parametrize.register_parametrization(m, "weight", Symmetric())
    parametrize.register_parametrization(m, "weight", Double())
    assert len(m.parametrizations.weight) == 2
    orig = m.parametrizations.weight.original.detach().numpy()
    want = 2 * (np.triu(orig) + np.triu(orig, 1).T)
    np.testing.assert_allclose(m.weight.detach().numpy(), want, rtol=1e-6)
    assert m.weight is not m.weight
    with parametrize.cached():
        assert m.weight is m.weight
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_allclose(m.weight.detach().numpy(), orig)


def test_parametrized_buffer_stays_a_buffer():
    bn = nn.BatchNorm1d(3)

    class Abs(nn.Module):
        def forward(self, x):
            return x.abs()

    parametrize.register_parametrization(bn, "running_mean", Abs(), unsafe=True)
    assert "parametrizations.running_mean.original" in dict(bn.named_buffers())


# ---- functional_call, skip_init, sparse_ ----

def test_functional_call_swaps_and_restores():
    m = nn.Linear(2, 1)
    w0 = m.weight
    out = functional_call(m, {"weight": loom.zeros(1, 2), "bias": loom.full((1,), 3.0)}, (loom.randn(4, 2),))
    assert out.tolist() == [[3.0]] * 4
    assert m.weight is w0
    # gradients flow to the given tensors
    w = loom.ones(1, 2, requires_grad=True)
    functional_call(m, {"weight": w}, loom.ones(3, 2)).sum().backward()
    assert w.grad.tolist() == [[3.0, 3.0]]
    with pytest.raises(RuntimeError, match="missing keys \\['bias'\\]"):
        functional_call(m, {"weight": w}, loom.ones(3, 2), strict=True)
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    out = functional_call(net, {"0.weight": loom.eye(2), "0.bias": loom.zeros(2)}, (loom.tensor([[1.0, -1.0]]),))
    assert out.tolist() == [[1.0, 0.0]]


def test_skip_init_and_sparse_init():
    m = nn.utils.skip_init(nn.Linear, 3, 4)
    assert m.weight.shape == (4, 3)
    s = loom.empty(20, 5)
    nn.init.sparse_(s, 0.25)
    assert ((s == 0).sum(0) >= 5).all().item()
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.sparse_(loom.empty(2, 2, 2), 0.1)
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        nn.init.dirac_(loom.empty(2, 2))


def test_weight_norm_errors_and_remove():
    m = nn.Linear(2, 2)
    nn.utils.weight_norm(m)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(m)
    nn.utils.remove_weight_norm(m)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        nn.utils.fuse_conv_bn_eval(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1))
