"""The activations of loom.nn.functional (leaky_relu, elu, celu, selu, softplus, hardtanh, relu6, hardsigmoid,
hardswish, mish, logsigmoid, softsign, tanhshrink, threshold, hardshrink, softshrink: one kernel each way; glu,
softmin composed) against NumPy references of PyTorch's definitions: values, gradients (gradcheck away from the
kinks, and PyTorch's values at them), second derivatives, finite gradients at large inputs, dtypes, one op in
the profiler, in-place forms and bad arguments."""
import numpy as np
import pytest

import loom
import loom.nn as nn
import loom.nn.functional as F
from loom.autograd import gradcheck


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.log1p(np.exp(np.minimum(x * beta, threshold))) / beta)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# name: (call on a loom tensor, NumPy reference)
CASES = {
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (lambda t: F.elu(t, 0.7), lambda x: _elu(x, 0.7)),
    "celu": (lambda t: F.celu(t, 2.0), lambda x: np.where(x > 0, x, 2.0 * np.expm1(np.minimum(x, 0) / 2.0))),
    "selu": (F.selu, lambda x: SELU_S * _elu(x, SELU_A)),
    "softplus": (lambda t: F.softplus(t, 2.0, 5.0), lambda x: _softplus(x, 2.0, 5.0)),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 2.0), lambda x: np.clip(x, -0.5, 2.0)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6)),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "mish": (F.mish, lambda x: x * np.tanh(_softplus(x))),
    "logsigmoid": (F.logsigmoid, lambda x: -_softplus(-x)),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "threshold": (lambda t: F.threshold(t, 0.5, -3.0), lambda x: np.where(x > 0.5, x, -3.0)),
    "hardshrink": (lambda t: F.hardshrink(t, 0.5), lambda x: np.where(np.abs(x) > 0.5, x, 0.0)),
    "softshrink": (lambda t: F.softshrink(t, 0.5),
                   lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0))),
    "glu": (lambda t: F.glu(t, 1), lambda x: x[:, :2] / (1 + np.exp(-x[:, 2:]))),
    "softmin": (lambda t: F.softmin(t, dim=1),
                lambda x: np.exp(-x - (-x).max(1, keepdims=True)) / np.exp(-x - (-x).max(1, keepdims=True)).sum(1, keepdims=True)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_numpy(rng, name):
    fn, ref = CASES[name]
    x = rng.standard_normal((5, 4)) * 4
    x[0] = [-30.0, 30.0, 100.0, -100.0]  # saturated regions
    np.testing.assert_allclose(fn(loom.tensor(x, dtype=loom.float64)).numpy(), ref(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fn(loom.tensor(x, dtype=loom.float32)).numpy(), ref(x), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients(name):
    fn, _ = CASES[name]
    # Away from every kink (0, +-0.5, -3, 3, 6, thresholds).
    x = loom.tensor([[-4.2, -1.3, 0.21, 0.8], [1.7, 2.6, -0.37, 7.3]], dtype=loom.float64, requires_grad=True)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["elu", "celu", "selu", "softplus", "mish", "logsigmoid"])
def test_gradients_stay_finite_at_large_inputs(name):
    fn, _ = CASES[name]
    x = loom.tensor([-1000.0, -90.0, 90.0, 1000.0], requires_grad=True)
    fn(x).sum().backward()
    assert np.isfinite(x.grad.numpy()).all(), x.grad.tolist()


def test_leaky_relu_and_hardtanh_gradients_at_the_kinks_follow_pytorch():
    x = loom.tensor([0.0, -1.0, 1.0], requires_grad=True)
    F.leaky_relu(x, 0.1).sum().backward()
    assert x.grad.tolist() == pytest.approx([0.1, 0.1, 1.0])
    y = loom.tensor([-1.0, 1.0, 0.0], requires_grad=True)
    F.hardtanh(y).sum().backward()
    assert y.grad.tolist() == [0.0, 0.0, 1.0]  # 0 at the bounds, as PyTorch


def test_relu_backward_is_one_kernel_with_pytorchs_rules_and_differentiable_twice():
    # threshold_backward at 0: g where relu(x) > 0, 0 at the kink and below; a NaN output lets g through.
    x = loom.tensor([-1.0, 0.0, 2.0, float("nan"), 3.0], requires_grad=True)
    g = loom.tensor([5.0, 5.0, 5.0, 5.0, float("nan")])
    F.relu(x).backward(g)
    got = x.grad.tolist()
    assert got[:4] == [0.0, 0.0, 5.0, 5.0] and np.isnan(got[4])
    # float64, strided, and create_graph: d/dg of relu's backward is the same mask.
    xd = loom.tensor(np.array([[-1.0, 2.0], [3.0, -4.0]]), requires_grad=True)
    y = F.relu(xd.t())
    gy = loom.ones(2, 2, dtype=loom.float64, requires_grad=True)
    (gx,) = loom.autograd.grad(y, xd, gy, create_graph=True)
    assert gx.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    gx.sum().backward()
    assert gy.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert gradcheck(lambda t: F.relu(t) * t, (loom.tensor(np.array([[-1.5, 0.7], [2.0, -0.3]]),
                                                                requires_grad=True),))


FUSED = ["leaky_relu", "elu", "celu", "selu", "softplus", "hardtanh", "hardsigmoid", "hardswish", "mish",
         "logsigmoid", "softsign", "tanhshrink", "threshold", "hardshrink", "softshrink"]


@pytest.mark.parametrize("name", FUSED)
def test_second_derivatives(name):
    fn, _ = CASES[name]
    x = loom.tensor([[-4.2, -1.3, 0.21, 0.8], [1.7, 2.6, -0.37, 7.3]], dtype=loom.float64, requires_grad=True)
    assert loom.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", FUSED)
def test_one_op_in_the_profiler_each_way(name):
    fn, _ = CASES[name]
    x = loom.randn(3, 5, requires_grad=True)
    with loom.profiler.profile() as prof:
        y = fn(x)
    assert [e.name for e in prof.events()] == [name]
    node = y.grad_fn.name()
    with loom.profiler.profile() as prof:
        y.backward(loom.ones(3, 5))
    (event,) = [e for e in prof.events() if e.name == node]
    assert event.cpu_children == []  # one kernel, no composed ops
    assert tuple(x.grad.shape) == (3, 5)


def test_gradients_at_the_kinks_follow_pytorch():
    def grad(fn, values):
        x = loom.tensor(values, dtype=loom.float64, requires_grad=True)
        fn(x).sum().backward()
        return x.grad.tolist()
    assert grad(F.elu, [0.0, -1.0]) == pytest.approx([1.0, np.exp(-1.0)])
    assert grad(F.hardsigmoid, [-3.0, 3.0, 0.0]) == pytest.approx([0.0, 0.0, 1 / 6])
    assert grad(F.hardswish, [-3.0, 3.0, -3.5, 3.5]) == pytest.approx([-0.5, 1.5, 0.0, 1.0])
    assert grad(lambda t: F.hardshrink(t, 0.5), [-0.5, 0.5, 0.6]) == [0.0, 0.0, 1.0]
    assert grad(lambda t: F.softshrink(t, 0.5), [-0.5, 0.5, -0.6]) == [0.0, 0.0, 1.0]
    assert grad(lambda t: F.threshold(t, 0.5, 2.0), [0.5, 0.6]) == [0.0, 1.0]
    assert grad(F.relu6, [0.0, 6.0, 3.0]) == [0.0, 0.0, 1.0]


def test_dtypes_follow_pytorch():
    i = loom.tensor([-4, 1, 5])
    assert F.hardtanh(i).dtype == loom.int64 and F.hardtanh(i).tolist() == [-1, 1, 1]
    assert F.relu6(i).tolist() == [0, 1, 5]
    assert F.threshold(i, 0, 7).dtype == loom.int64 and F.threshold(i, 0, 7).tolist() == [7, 1, 5]
    assert F.softsign(i).dtype == loom.float32 and F.softsign(i).tolist() == pytest.approx([-0.8, 0.5, 5 / 6])
    assert F.tanhshrink(i).dtype == loom.float32
    for fn in (F.leaky_relu, F.elu, F.selu, F.softplus, F.hardsigmoid, F.hardswish, F.mish, F.logsigmoid,
               F.hardshrink, F.softshrink):
        with pytest.raises(NotImplementedError, match="int64"):
            fn(i)
    for fn in (F.hardtanh, F.softsign, F.tanhshrink, lambda t: F.threshold(t, 0, 1), F.mish):
        with pytest.raises(NotImplementedError):
            fn(i > 0)
    y = F.mish(loom.randn(4, dtype=loom.float64))
    assert y.dtype == loom.float64
    t = loom.randn(6, 4).t()  # a strided view gives the same values as its contiguous copy
    for name in FUSED:
        fn, _ = CASES[name]
        assert loom.equal(fn(t), fn(t.contiguous())), name


def test_in_place_forms():
    for fn in (lambda t: F.leaky_relu(t, 0.1, inplace=True), lambda t: F.elu(t, inplace=True),
               lambda t: F.relu6(t, inplace=True), lambda t: F.hardswish(t, inplace=True),
               lambda t: F.threshold(t, 0.0, 5.0, inplace=True), lambda t: nn.SELU(inplace=True)(t)):
        x = loom.tensor([-2.0, 0.5, 7.0])
        want = fn(x.clone()).tolist()
        out = fn(x)
        assert out is x and x.tolist() == want


def test_modules_match_functions():
    x = loom.randn(3, 4)
    assert loom.equal(nn.LeakyReLU(0.3)(x), F.leaky_relu(x, 0.3))
    assert loom.equal(nn.Softplus(beta=2.0)(x), F.softplus(x, 2.0))
    assert loom.equal(nn.GLU()(x), F.glu(x))
    assert repr(nn.LeakyReLU(0.3)) == "LeakyReLU(negative_slope=0.3)"
    assert repr(nn.ELU(alpha=0.5, inplace=True)) == "ELU(alpha=0.5, inplace=True)"
    assert repr(nn.Threshold(0.1, 20.0)) == "Threshold(threshold=0.1, value=20.0)"


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(loom.zeros(2, 3))
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(loom.tensor(1.0))
    with pytest.raises(ValueError, match="max_val"):
        F.hardtanh(loom.zeros(2), 1.0, -1.0)
    assert F.hardtanh(loom.tensor([-2.0, 0.5, 3.0]), 0.5, 0.5).tolist() == [0.5, 0.5, 0.5]  # equal bounds: PyTorch's F
    with pytest.raises(AssertionError):
        nn.Hardtanh(0.5, 0.5)  # the module asks for max_val > min_val, as PyTorch's
    with pytest.raises(RuntimeError, match="lambda"):
        F.softshrink(loom.zeros(2), -1.0)
    with pytest.raises(RuntimeError, match="celu"):
        F.celu(loom.zeros(2), 0.0)
    with pytest.raises(TypeError, match="dim"):
        F.softmin(loom.zeros(2, 2))


PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", sorted(PAD_MODES))
@pytest.mark.parametrize("pad", [(1, 2), (2, 1, 1, 3), (0, 3, 2, 0, 1, 1), (3, 3)])
def test_pad_matches_numpy(mode, pad):
    a = np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    widths = [(0, 0)] * 4
    for k in range(len(pad) // 2):
        widths[3 - k] = (pad[2 * k], pad[2 * k + 1])
    got = F.pad(loom.tensor(a), pad, mode=mode)
    np.testing.assert_array_equal(got.numpy(), np.pad(a, widths, mode=PAD_MODES[mode]))


def test_pad_constant_value_crop_and_gradient():
    a = np.arange(20.0).reshape(4, 5)
    got = F.pad(loom.tensor(a), (-1, 2, 1, -2), value=7.0)
    np.testing.assert_array_equal(got.numpy(), np.pad(a[:2, 1:], [(1, 0), (0, 2)], constant_values=7.0))
    assert F.pad(loom.tensor([1, 2]), (1, 1)).tolist() == [0, 1, 2, 0]  # the dtype is kept
    for mode in PAD_MODES:
        x = loom.tensor([[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]], dtype=loom.float64, requires_grad=True)
        assert gradcheck(lambda t: F.pad(t, (2, 1, 1, 0), mode=mode), (x,)), mode


def test_pad_bad_arguments():
    x = loom.zeros(2, 3)
    with pytest.raises(RuntimeError, match="divisible by 2"):  # PyTorch's type
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="less than"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="negative padding"):
        F.pad(x, (-1, 0), mode="replicate")
    with pytest.raises(NotImplementedError, match="mode"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(RuntimeError, match="negative size"):
        F.pad(x, (-2, -2))
    with pytest.raises(TypeError, match="pad"):
        F.pad([1.0], (1, 1))


def test_padding_modules():
    a = np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    x = loom.tensor(a)
    np.testing.assert_array_equal(nn.ReflectionPad2d((1, 2, 2, 1))(x).numpy(),
                                  np.pad(a, [(0, 0), (0, 0), (2, 1), (1, 2)], mode="reflect"))
    np.testing.assert_array_equal(nn.ZeroPad2d(1)(x).numpy(), np.pad(a, [(0, 0), (0, 0), (1, 1), (1, 1)]))
    np.testing.assert_array_equal(nn.ConstantPad1d(2, -1.0)(x).numpy(),
                                  np.pad(a, [(0, 0), (0, 0), (0, 0), (2, 2)], constant_values=-1.0))
    np.testing.assert_array_equal(nn.ReplicationPad3d(1)(x).numpy(),
                                  np.pad(a, [(0, 0), (1, 1), (1, 1), (1, 1)], mode="edge"))
    np.testing.assert_array_equal(nn.CircularPad1d((3, 1))(x).numpy(),
                                  np.pad(a, [(0, 0), (0, 0), (0, 0), (3, 1)], mode="wrap"))
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad1d((1, 2), 3.5)) == "ConstantPad1d((1, 2), value=3.5)"
    with pytest.raises(ValueError, match="padding"):
        nn.ReflectionPad2d((1, 2))
