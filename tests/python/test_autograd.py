"""Autograd from Python: backward/grad, hooks, grad modes, custom Functions,
retain_graph and version-counter errors, gradcheck."""
import threading

import numpy as np
import pytest

import loom
from loom.autograd import Function, gradcheck


def test_backward_accumulates():
    x = loom.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0, 9.0]
    x.grad = None
    assert x.grad is None
    (2 * x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_backward_with_gradient_and_nonscalar_error():
    x = loom.ones(2, 2, requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(loom.full((2, 2), 2.0))
    assert x.grad.tolist() == [[6.0, 6.0], [6.0, 6.0]]


def test_grad_fn_and_leaf():
    x = loom.ones(2, requires_grad=True)
    y = (x * 2).sum()
    assert x.is_leaf and not y.is_leaf
    assert y.grad_fn is not None and "Backward" in y.grad_fn.name()
    assert x.grad_fn is None
    nxt = y.grad_fn.next_functions
    assert len(nxt) == 1 and nxt[0][0] is not None
    assert loom.ones(2).grad_fn is None


def test_autograd_grad():
    x = loom.tensor([1.0, 2.0], requires_grad=True)
    y = loom.tensor([3.0, 4.0], requires_grad=True)
    z = (x * y).sum()
    gx, gy = loom.autograd.grad(z, (x, y))
    assert gx.tolist() == [3.0, 4.0] and gy.tolist() == [1.0, 2.0]
    assert x.grad is None
    w = loom.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError):
        loom.autograd.grad((x * 2).sum(), [x, w])
    g = loom.autograd.grad((x * 2).sum(), [x, w], allow_unused=True)
    assert g[1] is None
    (g0,) = loom.autograd.grad(x * 2, x, grad_outputs=loom.tensor([1.0, 10.0]))
    assert g0.tolist() == [2.0, 20.0]


def test_higher_order_grad():
    x = loom.tensor([2.0], requires_grad=True)
    y = x**3
    (g,) = loom.autograd.grad(y, x, create_graph=True)
    assert g.item() == 12.0 and g.requires_grad
    (g2,) = loom.autograd.grad(g, x)
    assert g2.item() == 12.0  # 6x


def test_backward_inputs():
    a = loom.ones(2, requires_grad=True)
    b = loom.ones(2, requires_grad=True)
    (a * b * 2).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0, 2.0] and b.grad is None


def test_retain_graph_error_and_retain():
    x = loom.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_inplace_version_counter_error():
    x = loom.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    w = y.sin()  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_leaf_inplace_error():
    x = loom.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        x.add_(1)
    with loom.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 2.0]


def test_requires_grad_setter():
    x = loom.ones(2)
    x.requires_grad = True
    assert x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        loom.ones(2, dtype=loom.int64).requires_grad_()
    y = loom.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_no_grad_enable_grad_set_grad_enabled():
    x = loom.ones(2, requires_grad=True)
    with loom.no_grad():
        assert not loom.is_grad_enabled()
        y = x * 2
        with loom.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad and loom.is_grad_enabled()

    @loom.no_grad()
    def f(t):
        return t * 2

    @loom.no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    with loom.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert loom.is_grad_enabled()
    loom.set_grad_enabled(False)
    assert not loom.is_grad_enabled()
    loom.set_grad_enabled(True)
    with loom.inference_mode():
        assert not (x * 2).requires_grad
    with loom.autograd.no_grad():
        pass


def test_no_grad_is_thread_local():
    seen = []
    with loom.no_grad():
        t = threading.Thread(target=lambda: seen.append(loom.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_tensor_hooks():
    x = loom.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.tolist()))
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    h.remove()
    (x * 3).sum().backward()
    assert len(seen) == 1

    x.grad = None
    x.register_hook(lambda g: g * 10)  # replaces the gradient
    (x * 1).sum().backward()
    assert x.grad.tolist() == [10.0, 10.0]


def test_nonleaf_hook_and_retain_grad():
    x = loom.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    (y * y).sum().backward()
    assert y.retains_grad
    # hook doubles dL/dy = 2y before it flows on to x
    assert x.grad.tolist() == [16.0, 32.0]
    assert y.grad is not None


def test_hook_exception_propagates():
    x = loom.ones(2, requires_grad=True)

    def bad(g):
        raise ValueError("hook failed")

    x.register_hook(bad)
    with pytest.raises(ValueError, match="hook failed"):
        (x * 2).sum().backward()


class MulAdd(Function):
    @staticmethod
    def forward(ctx, a, b, c, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale + c

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, True, False, False)
        return g * b * ctx.scale, g * a * ctx.scale, None, None


def test_custom_function():
    rng = np.random.default_rng(0)
    a = loom.tensor(rng.standard_normal(3), requires_grad=True)
    b = loom.tensor(rng.standard_normal(3), requires_grad=True)
    c = loom.tensor(rng.standard_normal(3))
    y = MulAdd.apply(a, b, c, 2.0)
    assert y.grad_fn.name() == "MulAddBackward"
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * b.detach().numpy())
    np.testing.assert_allclose(b.grad.numpy(), 2 * a.detach().numpy())
    assert gradcheck(lambda x, z: MulAdd.apply(x, z, c, 3.0), (a, b))


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)  # an output
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


def test_custom_function_saving_output_and_second_backward():
    x = loom.tensor([0.5, 1.0], dtype=loom.float64, requires_grad=True)
    assert gradcheck(Exp.apply, (x,))
    y = Exp.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


class SortLike(Function):
    @staticmethod
    def forward(ctx, x):
        idx = loom.arange(x.numel()).flip(0)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        return x.index_select(0, idx), idx

    @staticmethod
    def backward(ctx, g, gidx):
        (idx,) = ctx.saved_tensors
        assert gidx is None or gidx.dtype == loom.int64
        return loom.zeros_like(g).scatter_add(0, idx, g)


def test_custom_function_multiple_outputs_non_differentiable():
    x = loom.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y, idx = SortLike.apply(x)
    assert y.requires_grad and not idx.requires_grad
    (y * loom.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 10.0, 1.0]


class WrongCount(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g


def test_custom_function_wrong_gradient_count():
    x = loom.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        WrongCount.apply(x, x).sum().backward()


class Identity(Function):
    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_custom_function_returning_input_and_no_grad_inputs():
    x = loom.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    z = Identity.apply(loom.ones(2))
    assert not z.requires_grad


class SetupCtx(Function):
    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


def test_custom_function_setup_context():
    x = loom.tensor([3.0], requires_grad=True)
    SetupCtx.apply(x).backward()
    assert x.grad.item() == 6.0


def test_custom_function_backward_from_thread():
    """The engine may run Python backward with the GIL released; it must take the GIL itself."""
    errors = []

    def work():
        try:
            for _ in range(20):
                x = loom.randn(50, dtype=loom.float64, requires_grad=True)
                Exp.apply(x).sum().backward()
                np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()))
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_gradcheck_detects_wrong_gradient():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = loom.randn(3, dtype=loom.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(Bad.apply, (x,))
    assert gradcheck(Bad.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="float64"):
        gradcheck(lambda t: t * 2, (loom.randn(2, requires_grad=True),))


def test_gradcheck_tuple_outputs_and_gradgradcheck():
    x = loom.randn(3, dtype=loom.float64, requires_grad=True)
    assert gradcheck(lambda t: (t.sin(), t * t), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
    from loom.autograd.gradcheck import gradgradcheck

    assert gradgradcheck(lambda t: (t * t * t).sum(), (x,))


def test_deep_chain_backward():
    x = loom.ones(1, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def _leaf(*shape, lo=None):
    t = loom.randn(shape, dtype=loom.float64)
    return (t.abs() + lo if lo is not None else t).requires_grad_()


@pytest.mark.parametrize("name, fn, shapes", [
    ("avg_pool2d", lambda a: loom.nn.functional.avg_pool2d(a, 2, 1, 1, True, False), [(1, 2, 3, 4)]),
    ("avg_pool2d unbatched", lambda a: loom.nn.functional.avg_pool2d(a, 2), [(2, 3, 4)]),
    ("max_pool2d", lambda a: loom.nn.functional.max_pool2d(a, 2, 1, 1), [(1, 2, 3, 4)]),
    ("max_pool1d", lambda a: loom.nn.functional.max_pool1d(a * a, 2), [(2, 3, 4)]),
    ("max_pool3d", lambda a: loom.nn.functional.max_pool3d(a, 2), [(1, 2, 2, 3, 4)]),
    ("avg_pool3d", lambda a: loom.nn.functional.avg_pool3d(a, 2, 1, 1, divisor_override=3), [(1, 2, 2, 3, 4)]),
    ("adaptive_avg_pool2d", lambda a: loom.nn.functional.adaptive_avg_pool2d(a, (2, 3)), [(1, 2, 3, 4)]),
    ("adaptive_max_pool2d", lambda a: loom.nn.functional.adaptive_max_pool2d(a, (2, 3)), [(2, 3, 4)]),
    ("lp_pool2d", lambda a: loom.nn.functional.lp_pool2d(a.abs() + 0.2, 2, 1, 1), [(1, 1, 2, 2)]),
    ("std", lambda a: a.std(1), [(3, 4)]),
    ("var", lambda a: a.var([0, 1], True, True), [(3, 4)]),
    ("std of one element", lambda a: a.std([0], False, True), [(1,)]),
    ("cumprod", lambda a: (a.abs() + 0.5).cumprod(1), [(3, 4)]),
    ("attention", lambda q, k, v: loom.nn.functional.scaled_dot_product_attention(q, k, v), [(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)]),
    ("attention causal 3-D", lambda q, k, v: loom.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
     [(2, 3, 4), (2, 3, 4), (2, 3, 2)]),
    ("attention bool mask", lambda q, k, v: loom.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=loom.tensor([[True, False, True], [True, True, False], [False, True, True]])),
     [(2, 3, 4), (2, 3, 4), (2, 3, 2)]),
])
def test_double_backward(name, fn, shapes):
    # The backward's own gradients (create_graph) against central differences.
    assert loom.autograd.gradgradcheck(fn, tuple(_leaf(*s) for s in shapes)), name


def test_double_backward_of_a_constant_std_is_zero_and_unsupported_cases_say_so():
    x = loom.tensor([[-0.99421875]], dtype=loom.float64, requires_grad=True)
    assert loom.autograd.gradgradcheck(lambda t: t.expand(3, 4).std([-2, 1]), (x,))
    z = loom.tensor([1.0, 0.0, 2.0], dtype=loom.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="cumprod: double backward"):
        loom.autograd.gradgradcheck(lambda t: t.cumprod(0), (z,))
    assert loom.autograd.gradcheck(lambda t: t.cumprod(0), (z,))  # the first derivative handles zeros
    q = _leaf(1, 2, 3)
    y = loom.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    with pytest.raises(NotImplementedError, match="dropout_p > 0"):  # the create_graph backward itself
        loom.autograd.grad(y.sum(), [q], create_graph=True)
    loom.autograd.grad(y.sum(), [q])  # without create_graph: the kernel


def test_conv_transpose_double_backward_with_output_padding_at_stride_one():
    # output_padding 1 at stride 1 (allowed by dilation 2): the composed input gradient, a convolution of the
    # output gradient, has one row more than the input; it is cut back to the input's size.
    F = loom.nn.functional
    x = _leaf(2, 4, 3, 3)
    w = _leaf(4, 2, 2, 2)
    y = F.conv_transpose2d(x, w, None, 1, 1, (1, 0), 2, (2, 1))
    (gx,) = loom.autograd.grad(y.sum(), [x], create_graph=True)
    assert gx.shape == x.shape
    x1 = _leaf(1, 1, 3, 1)
    assert loom.autograd.gradgradcheck(lambda a, b: F.conv_transpose2d(a.expand(2, 4, 3, 3), b, None, 1, 1, (1, 0), 2,
                                                                       (2, 1)), (x1, w))


def test_a_gradient_of_the_wrong_shape_is_an_error():
    class Bad(loom.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return loom.ones(5, dtype=g.dtype)

    x = loom.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient"):
        (Bad.apply(x) * 1.0).sum().backward()
