"""Basic indexing as PyTorch records it: inside a tuple index a slice that keeps its whole dim is skipped
(x[:, 1:3] is one SliceBackward0 straight onto the leaf), an index that selects everything is a view of
the tensor (x[...], x[:, :]), never the tensor itself; the gradients of slices and of constant padding
(one pass: the gradient padded by the opposite amounts) match NumPy's adjoints."""
import numpy as np
import pytest

import loom
import loom.nn.functional as F


def _leaf(a):
    return loom.tensor(np.asarray(a, dtype=np.float64)).requires_grad_(True)


def test_a_whole_dim_slice_in_a_tuple_adds_no_node():
    x = _leaf(np.arange(12.0).reshape(3, 4))
    for key in (np.s_[:, 1:3], np.s_[0:3, 1:3], np.s_[-3:, 1:3], np.s_[0:100, 1:3], np.s_[..., 1:3]):
        y = x[key]
        assert y.grad_fn.name() == "SliceBackward0"
        assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"
        assert y.shape == (3, 2)
    # A single slice stays a slice, even over the whole dim (PyTorch too).
    assert x[:].grad_fn.name() == "SliceBackward0"
    assert x[0:3].grad_fn.name() == "SliceBackward0"


@pytest.mark.parametrize("key", [np.s_[...], np.s_[:, :], np.s_[()], np.s_[0:3, :]], ids=["ellipsis", "two", "empty", "full"])
def test_an_index_that_keeps_everything_is_a_view(key):
    x = _leaf(np.arange(12.0).reshape(3, 4))
    y = x[key]
    assert y is not x and y.grad_fn is not None and not y.is_leaf
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4)))
    z = loom.zeros(3, 4)
    v = z[key]
    v.add_(1.0)  # writes through to z
    np.testing.assert_array_equal(z.numpy(), np.ones((3, 4)))


@pytest.mark.parametrize(
    "key",
    [np.s_[:, 1:3], np.s_[1:2], np.s_[:, ::2], np.s_[1:, :, 2:4], np.s_[..., 0:0], np.s_[:, 1], np.s_[2:3, :, -1]],
)
def test_slice_gradients_match_numpy(key):
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    x = _leaf(a)
    y = x[key]
    g = np.random.default_rng(1).standard_normal(np.shape(a[key]))
    y.backward(loom.tensor(g))
    want = np.zeros_like(a)
    want[key] = g
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_slice_double_backward():
    x = _leaf(np.arange(6.0).reshape(2, 3))
    y = (x[:, 1:] ** 2).sum()
    (gx,) = loom.autograd.grad(y, x, create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), [[0, 2, 4], [0, 8, 10]])
    gx.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 2, 2], [0, 2, 2]])


def _np_constant_pad_adjoint(g, in_shape, pads):
    # The gradient of F.pad(x, pads) (constant): every output element adds into the input element it copied.
    out = np.zeros(in_shape)
    k = len(pads) // 2
    src = [slice(None)] * len(in_shape)
    dst = [slice(None)] * len(in_shape)
    for j in range(k):
        d = len(in_shape) - 1 - j
        left, right = pads[2 * j], pads[2 * j + 1]
        n = in_shape[d]
        lo, hi = max(0, -left), min(n, n + right)  # the input elements that survive
        src[d] = slice(lo, hi)
        dst[d] = slice(lo + left, hi + left)
    out[tuple(src)] = g[tuple(dst)]
    return out


@pytest.mark.parametrize(
    "pads", [(1, 1), (1, 2, 3, 0), (-1, 2), (2, -3, -1, 1), (0, 0, 1, 1, 1, 0), (-2, -2, 0, 0)], ids=str
)
def test_constant_pad_gradient_is_the_crop(pads):
    a = np.random.default_rng(2).standard_normal((2, 3, 5, 6))
    x = _leaf(a)
    y = F.pad(x, pads, value=0.5)
    g = np.random.default_rng(3).standard_normal(tuple(y.shape))
    y.backward(loom.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), _np_constant_pad_adjoint(g, a.shape, pads))
    # float32 and a non-contiguous gradient take the same path
    xf = loom.tensor(a.astype(np.float32)).requires_grad_(True)
    yf = F.pad(xf, pads)
    gt = loom.tensor(np.ascontiguousarray(np.swapaxes(g, 0, 1)).astype(np.float32)).transpose(0, 1)
    yf.backward(gt)
    np.testing.assert_allclose(xf.grad.numpy(), _np_constant_pad_adjoint(g.astype(np.float32), a.shape, pads))


def test_constant_pad_double_backward():
    x = _leaf(np.arange(6.0).reshape(2, 3))
    y = (F.pad(x, (1, -1)) ** 2).sum()  # keeps x[:, :2]
    (gx,) = loom.autograd.grad(y, x, create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), [[0, 2, 0], [6, 8, 0]])
    gx.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 2, 0], [2, 2, 0]])
