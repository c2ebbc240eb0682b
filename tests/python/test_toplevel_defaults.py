"""set_default_dtype, the global generator's state (loom.random) and anomaly detection, with PyTorch's
behaviour written out (checked against PyTorch 2.15)."""
import warnings

import numpy as np
import pytest

import loom
import loom.nn as nn


@pytest.fixture
def float64_default():
    loom.set_default_dtype(loom.float64)
    try:
        yield
    finally:
        loom.set_default_dtype(loom.float32)


def test_default_dtype_is_float32():
    assert loom.get_default_dtype() == loom.float32
    assert loom.tensor([1.5]).dtype == loom.float32


def test_set_default_dtype_float64(float64_default):
    assert loom.get_default_dtype() == loom.float64
    for t in (loom.tensor([1.5]), loom.tensor(1.5), loom.zeros(2), loom.ones(2, 3), loom.empty(2), loom.rand(2),
              loom.randn(2), loom.arange(0.0, 1.0, 0.5), loom.full((2,), 1.5), loom.linspace(0, 1, 3), loom.eye(2),
              loom.scalar_tensor(1), loom.Tensor(2, 3), loom.Tensor([1, 2])):
        assert t.dtype == loom.float64, t
    i = loom.tensor([1, 2])
    assert i.dtype == loom.int64 and loom.randint(0, 3, (2,)).dtype == loom.int64
    assert (i * 1.5).dtype == loom.float64
    assert (i / i).dtype == loom.float64
    assert i.sqrt().dtype == loom.float64
    assert i.float().dtype == loom.float32
    assert loom.tensor(np.array([1.5], dtype=np.float32)).dtype == loom.float32
    assert loom.tensor([True]).dtype == loom.bool
    lin = nn.Linear(2, 3)
    assert lin.weight.dtype == loom.float64 and lin.bias.dtype == loom.float64
    assert lin(loom.ones(4, 2)).dtype == loom.float64
    assert loom.finfo().bits == 64
    # Values beyond float32 survive the float64 default.
    assert loom.tensor([1e300]).item() == 1e300


def test_repr_names_dtypes_other_than_the_default(float64_default):
    assert "dtype" not in repr(loom.ones(2))
    assert "dtype=loom.float32" in repr(loom.ones(2, dtype=loom.float32))


def test_repr_float32_default():
    assert "dtype" not in repr(loom.ones(2))
    assert "dtype=loom.float64" in repr(loom.ones(2, dtype=loom.float64))


def test_set_default_dtype_errors():
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        loom.set_default_dtype(loom.int64)
    with pytest.raises(TypeError, match="must be a loom.dtype"):
        loom.set_default_dtype("float64")
    assert loom.get_default_dtype() == loom.float32


def test_training_step_in_float64(float64_default):
    loom.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = loom.optim.SGD(model.parameters(), lr=0.1)
    x, y = loom.randn(8, 3), loom.randn(8, 1)
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    assert loss.dtype == loom.float64
    assert all(p.grad.dtype == loom.float64 for p in model.parameters())


# ---- loom.random ----

def test_rng_state_round_trip():
    loom.manual_seed(123)
    state = loom.get_rng_state()
    assert state.dtype == loom.int64 and tuple(state.shape) == (2,)
    a = loom.rand(5)
    loom.set_rng_state(state)
    b = loom.rand(5)
    assert loom.equal(a, b)
    assert loom.random.get_rng_state is loom.get_rng_state or loom.equal(loom.random.get_rng_state(),
                                                                          loom.get_rng_state())


def test_seed_returns_the_seed():
    s = loom.seed()
    assert isinstance(s, int) and 0 <= s < 2**64
    assert loom.initial_seed() == s
    loom.manual_seed(s)
    a = loom.randn(3)
    loom.random.manual_seed(s)
    assert loom.equal(a, loom.randn(3))


def test_fork_rng_restores_the_state():
    loom.manual_seed(7)
    with loom.random.fork_rng():
        loom.rand(100)
        loom.manual_seed(99)
    a = loom.rand(3)
    loom.manual_seed(7)
    assert loom.equal(a, loom.rand(3))
    with loom.random.fork_rng(enabled=False):
        loom.rand(1)
    loom.manual_seed(7)
    loom.rand(3)
    b = loom.rand(1)
    loom.manual_seed(7)
    loom.rand(3)
    with loom.random.fork_rng(devices=[]):
        loom.rand(1)
    assert loom.equal(b, loom.rand(1))


def test_set_rng_state_errors():
    with pytest.raises(TypeError, match="must be a loom.Tensor"):
        loom.set_rng_state([1, 2])
    with pytest.raises(ValueError, match=r"int64 tensor of shape \[2\]"):
        loom.set_rng_state(loom.zeros(2))


def test_rng_state_matches_generator_format():
    g = loom.Generator().manual_seed(5)
    loom.manual_seed(5)
    assert loom.equal(g.get_state(), loom.get_rng_state())


# ---- anomaly detection ----

def test_anomaly_switches():
    assert not loom.is_anomaly_enabled() and loom.is_anomaly_check_nan_enabled()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ctx = loom.autograd.detect_anomaly(check_nan=False)
    with ctx:
        assert loom.is_anomaly_enabled() and not loom.is_anomaly_check_nan_enabled()
    assert not loom.is_anomaly_enabled() and loom.is_anomaly_check_nan_enabled()
    loom.autograd.set_detect_anomaly(True, False)
    assert loom.is_anomaly_enabled() and not loom.is_anomaly_check_nan_enabled()
    loom.autograd.set_detect_anomaly(False)
    assert not loom.is_anomaly_enabled() and loom.is_anomaly_check_nan_enabled()
    with loom.autograd.set_detect_anomaly(True):
        assert loom.is_anomaly_enabled()
    assert not loom.is_anomaly_enabled()


def _nan_backward():
    x = loom.tensor([0.0, 1.0], requires_grad=True)
    (x / x).sum().backward()  # d(x/x)/dx at 0 is NaN


def test_anomaly_nan_names_the_node_and_the_forward_line():
    _nan_backward()  # without anomaly mode NaN gradients pass silently, as in PyTorch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with loom.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match=r"Function 'DivBackward0' returned nan values in its 1th output"):
                _nan_backward()
    texts = [str(w.message) for w in caught]
    report = [t for t in texts if t.startswith("Error detected in DivBackward0")]
    assert report, texts
    assert "test_toplevel_defaults.py" in report[0] and "(x / x).sum().backward()" in report[0]
    assert "loom/" not in report[0].replace("test_toplevel_defaults", "")


def test_anomaly_check_nan_off():
    with pytest.warns(UserWarning):
        with loom.autograd.detect_anomaly(check_nan=False):
            _nan_backward()


def test_anomaly_reports_a_failing_custom_backward():
    class Bad(loom.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("backward failed on purpose")

    x = loom.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with loom.autograd.detect_anomaly():
            y = Bad.apply(x)
            with pytest.raises(ValueError, match="on purpose"):
                y.sum().backward()
    report = [str(w.message) for w in caught if "Error detected in" in str(w.message)]
    assert report and "y = Bad.apply(x)" in report[0]


def test_anomaly_without_forward_information():
    x = loom.tensor([0.0, 1.0], requires_grad=True)
    y = (x / x).sum()  # made before anomaly mode was on
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with loom.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="returned nan values"):
                y.backward()
    assert any("No forward pass information available" in str(w.message) for w in caught)


def test_anomaly_mode_leaves_correct_gradients_alone():
    x = loom.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning):
        with loom.autograd.detect_anomaly():
            (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_gradgradcheck_and_variable_are_exported():
    x = loom.randn(3, dtype=loom.float64, requires_grad=True)
    assert loom.autograd.gradgradcheck(lambda t: (t * t * t).sum(), (x,))
    v = loom.autograd.Variable(loom.ones(2), requires_grad=True)
    assert v.requires_grad and isinstance(v, loom.Tensor)
    with pytest.raises(TypeError, match="has to be a tensor"):
        loom.autograd.Variable([1.0])


def test_float64_default_leaves_float32_datasets(float64_default):
    from loom.multimodal import Shapes
    ds = Shapes(4, seed=1)
    assert ds[0]["image"].dtype == loom.float32
    assert ds.images([0, 1]).dtype == loom.float32
