"""In-place ops through views under autograd, as PyTorch records them: writing through a view changes
its base's history (CopySlices), other views of the base see the change, subscript assignment into a
tensor that did not require grad makes it require grad. Gradients are checked numerically (gradcheck,
gradgradcheck) and against hand-derived values; leaf views and split/chunk/unbind pieces raise."""
import numpy as np
import pytest

import loom
from loom.autograd import gradcheck
from loom.autograd.gradcheck import gradgradcheck


def leaf(rng, *shape):
    return loom.tensor(rng.standard_normal(shape), requires_grad=True)


def setitem_row(l, a):
    x = l * 1
    x[1] = a[0] * 3
    return x * x


def views_of_views(l, a):
    x = l * 1
    x[:, 1].mul_(2)
    x[1:][0].add_(a[0])
    return x.exp()


def overlapping_siblings(l, a):
    x = l * 1
    v1, v2 = x[:2], x[1:3]
    v1.mul_(a[:2])
    return v2 * 2 + x.sum()


def base_changed_after_view(l, a):
    x = l * 1
    h = x[:, 0]
    x.mul_(a)
    return h * h


def loop_into_zeros(l, a):
    out = loom.zeros(3, 4, dtype=loom.float64)
    for t in range(4):
        out[:, t] = (a[:, t] * (t + 1)).tanh() * l[:, t]
    return out * out


def transposed_views(l, a):
    x = l * 1
    x.t()[0].add_(a[:, 0])
    x.t()[2].copy_(a[:, 1] * a[:, 2])
    return x * x


def mixed_inplace_ops(l, a):
    x = l * 1
    x.narrow(1, 1, 2).clamp_(-0.5, 0.5)
    x[2].masked_fill_(x[2] > 0, 0.5)
    x[0, 0:2].scatter_add_(0, loom.tensor([1, 1]), a[0, :2])
    x[1, :].scatter_reduce_(0, loom.tensor([0, 3]), a[1, :2], "prod")
    v = x[1:, 1:]
    v[0].fill_(2.0)
    v.mul_(a[1:, 1:])
    return x.sin()


def read_then_write(l, a):
    x = l * 1
    h = x[0]
    x[0] = h * 2 + a[0]
    return x * x


PATTERNS = [setitem_row, views_of_views, overlapping_siblings, base_changed_after_view, loop_into_zeros,
            transposed_views, mixed_inplace_ops, read_then_write]


@pytest.mark.parametrize("f", PATTERNS, ids=lambda f: f.__name__)
def test_gradcheck(rng, f):
    l, a = leaf(rng, 3, 4), leaf(rng, 3, 4)
    assert gradcheck(f, (l, a))


@pytest.mark.parametrize("f", [setitem_row, base_changed_after_view, loop_into_zeros, read_then_write],
                         ids=lambda f: f.__name__)
def test_gradgradcheck(rng, f):
    l, a = leaf(rng, 3, 4), leaf(rng, 3, 4)
    assert gradgradcheck(lambda p, q: f(p, q).sum(), (l, a))


def test_assignment_gradients_by_hand():
    l = loom.ones(4, dtype=loom.float64, requires_grad=True)
    a = loom.ones(2, dtype=loom.float64, requires_grad=True)
    x = l * 1
    x[:2] = a * 3
    x.sum().backward()
    assert l.grad.tolist() == [0, 0, 1, 1]  # the overwritten elements get nothing
    assert a.grad.tolist() == [3, 3]
    z = loom.zeros(4)
    assert not z.requires_grad
    z[1:3] = a.float() * 2
    assert z.requires_grad and z.grad_fn.name() == "CopySlices"
    v = z[2:]  # a view made after the write sees its history
    assert v.requires_grad


def test_views_made_earlier_follow_the_base():
    l = loom.tensor([1.0, 2.0, 3.0], dtype=loom.float64, requires_grad=True)
    x = l * 1
    h = x[1:]
    x.mul_(10)  # h's values change with x: its history must too
    (h * h).sum().backward()
    np.testing.assert_allclose(l.grad.numpy(), [0, 2 * 10 * 20, 2 * 10 * 30])


def test_errors_and_no_grad():
    w = loom.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[:2].mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0] = 5.0
    b = loom.ones(3, 2, requires_grad=True) * 1
    for piece in (lambda: b.unbind(0)[1], lambda: b.split(1, 1)[0], lambda: b.chunk(3, 0)[0]):
        with pytest.raises(RuntimeError, match="split, chunk or unbind"):
            piece().mul_(2)
    with loom.no_grad():  # no history is recorded: both are allowed
        w[:2].mul_(2)
        b.unbind(0)[1].zero_()
    assert w.tolist() == [2, 2, 1]
    assert b.tolist() == [[1, 1], [0, 0], [1, 1]]


def test_integer_and_no_grad_tensors_are_untouched_by_autograd():
    x = loom.zeros(2, 3, dtype=loom.int64)
    x[0] = loom.tensor([1, 2, 3])
    x[:, 1].add_(5)
    assert x.tolist() == [[1, 7, 3], [0, 5, 0]] and not x.requires_grad
    y = loom.zeros(2, 2)
    y[1].fill_(3.0)
    assert not y.requires_grad and y.grad_fn is None


@pytest.mark.skipif(not loom.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("f", [setitem_row, loop_into_zeros, mixed_inplace_ops], ids=lambda f: f.__name__)
def test_cuda_matches_cpu(rng, f):
    la, aa = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    grads = []
    for dev in ("cpu", "cuda"):
        l = loom.tensor(la, device=dev, requires_grad=True)
        a = loom.tensor(aa, device=dev, requires_grad=True)
        f(l, a).sum().backward()
        grads.append((l.grad.cpu().numpy(), a.grad.cpu().numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-6, atol=1e-8)


def test_view_made_in_no_grad_mode_and_written_in_grad_mode_raises():
    x = loom.ones(4, requires_grad=True) * 1
    with loom.no_grad():
        v = x[:2]
    for write in (lambda: v.mul_(2), lambda: v.fill_(1.0), lambda: v.copy_(loom.zeros(2)),
                  lambda: v.__setitem__(0, 3.0)):
        with pytest.raises(RuntimeError, match="no_grad mode"):
            write()
    with loom.no_grad():
        v.mul_(2)  # allowed: nothing is recorded
    z = loom.zeros(3)
    w = z[1:]
    w.add_(1)  # the base needs no grad: nothing to keep in step
    assert z.tolist() == [0, 1, 1]
