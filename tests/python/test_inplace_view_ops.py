"""In-place views (t_, transpose_, swapaxes_, swapdims_, squeeze_, unsqueeze_, as_strided_): the same tensor
object with the view's geometry, the version counter advanced, and autograd as PyTorch records it."""
import numpy as np
import pytest

import loom


def test_geometry_and_identity():
    x = loom.arange(6.0).reshape(2, 1, 3)
    alias = x
    assert x.squeeze_() is x and x.shape == (2, 3) and alias.shape == (2, 3)
    assert x.unsqueeze_(0) is x and x.shape == (1, 2, 3)
    assert x.transpose_(0, 2) is x and x.shape == (3, 2, 1) and x.stride() == (1, 3, 6)
    assert x.swapaxes_(0, 1).shape == (2, 3, 1)
    assert x.swapdims_(0, 1).shape == (3, 2, 1)
    x.squeeze_(-1)
    assert x.t_() is x and x.shape == (2, 3)
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))
    y = loom.zeros(1, 2, 1, 1)
    y.squeeze_((0, 2))
    assert y.shape == (2, 1)
    z = loom.arange(6.0)
    z.as_strided_((2, 2), (1, 2), 1)
    np.testing.assert_array_equal(z.numpy(), [[1, 3], [2, 4]])
    v = loom.arange(3.0)
    assert v.t_().shape == (3,)


def test_data_is_shared_and_version_advances():
    base = loom.zeros(2, 3)
    x = base[0]
    v0 = x._version
    x.unsqueeze_(0)
    assert x._version == v0 + 1 and base._version == v0 + 1
    x.fill_(5.0)
    np.testing.assert_array_equal(base.numpy(), [[5, 5, 5], [0, 0, 0]])
    assert base.shape == (2, 3)


def test_errors_match_pytorch():
    with pytest.raises(RuntimeError, match="t_\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"):
        loom.zeros(2, 3, 4).t_()
    with pytest.raises(IndexError, match="Dimension out of range"):
        loom.zeros(2, 1, 3).squeeze_(5)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        loom.zeros(1, 1, 2).squeeze_((0, 0))
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        loom.zeros(1, 1, 2).squeeze((0, 0))
    w = loom.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w.t_()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w[0].unsqueeze_(0)
    with pytest.raises(RuntimeError, match="split"):
        (w * 1).unbind(0)[0].unsqueeze_(0)
    with loom.no_grad():  # allowed without autograd, as in PyTorch
        w.t_()
    assert w.shape == (3, 2) and w.is_leaf and w.requires_grad


def test_gradients_flow_through_the_new_history():
    w = loom.randn(2, 3, dtype=loom.float64, requires_grad=True)
    y = w * 2
    y.t_()
    assert y.grad_fn is not None and y.shape == (3, 2)
    weights = loom.arange(6.0, dtype=loom.float64).reshape(3, 2)
    (y * weights).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * weights.numpy().T)


def test_a_saved_tensor_changed_in_place_raises():
    w = loom.randn(2, 3, requires_grad=True)
    y = w * 1
    z = y * y
    y.t_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_views_of_the_tensor_follow_its_new_history():
    w = loom.randn(2, 3, dtype=loom.float64, requires_grad=True)
    y = w * 3
    u = y[0]  # a view made before y is transposed in place
    y.t_()
    (u.sum() + (y * loom.arange(6.0, dtype=loom.float64).reshape(3, 2)).sum()).backward()
    want = np.arange(6.0).reshape(3, 2).T * 3
    want[0] += 3
    np.testing.assert_allclose(w.grad.numpy(), want)
