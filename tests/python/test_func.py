"""loom.func (torch.func): grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call and
stack_module_state, against closed forms, loom.autograd.functional (itself checked against PyTorch) and
per-index loops; nesting, pytrees, has_aux, randomness and the errors PyTorch raises."""
import numpy as np
import pytest

import loom
from loom import func as F

F64 = loom.float64


def x3():
    return loom.tensor([0.5, -1.0, 2.0], dtype=F64)


def f(x):
    return (x.sin() * x).sum()


def df(x):  # d/dx sum(x sin x)
    return x.sin() + x * x.cos()


def test_grad_and_value_closed_forms():
    x = x3()
    np.testing.assert_allclose(F.grad(f)(x).numpy(), df(x).numpy(), rtol=1e-12)
    g, v = F.grad_and_value(f)(x)
    np.testing.assert_allclose(v.item(), f(x).item())
    assert not g.requires_grad and not v.requires_grad and not x.requires_grad
    # second and third derivatives of sin, by nesting
    t = loom.tensor(0.7, dtype=F64)
    np.testing.assert_allclose(F.grad(F.grad(loom.sin))(t).item(), -np.sin(0.7), rtol=1e-12)
    np.testing.assert_allclose(F.grad(F.grad(F.grad(loom.sin)))(t).item(), -np.cos(0.7), rtol=1e-12)
    # argnums, pytrees, has_aux
    a, b = x3(), loom.tensor([1.0, 2.0, 3.0], dtype=F64)
    ga, gb = F.grad(lambda p, q: (p * q * q).sum(), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga.numpy(), (b * b).numpy())
    np.testing.assert_allclose(gb.numpy(), (2 * a * b).numpy())
    gd = F.grad(lambda d: (d["w"] * d["v"][0]).sum())({"w": a, "v": (b,)})
    np.testing.assert_allclose(gd["w"].numpy(), b.numpy())
    np.testing.assert_allclose(gd["v"][0].numpy(), a.numpy())
    g, aux = F.grad(lambda x: (f(x), x.cos()), has_aux=True)(x)
    np.testing.assert_allclose(aux.numpy(), x.cos().numpy())
    # a closed-over tensor an outer transform differentiates: d/dy d/dx (x^2 y^3) at (x, y) = 6 x y^2
    y0 = loom.tensor(1.5, dtype=F64)
    h = F.grad(lambda y: F.grad(lambda x: x * x * y ** 3)(loom.tensor(2.0, dtype=F64)))(y0)
    np.testing.assert_allclose(h.item(), 6 * 2.0 * 1.5 ** 2, rtol=1e-12)


def test_vjp_jvp_jacobians_hessian():
    x = x3()
    out, fn = F.vjp(lambda x: x.sin() * 2, x)
    (g,) = fn(loom.ones(3, dtype=F64))
    np.testing.assert_allclose(g.numpy(), (2 * x.cos()).numpy(), rtol=1e-12)
    out, jv = F.jvp(lambda x: x.exp() * x, (x,), (loom.tensor([1.0, 0.0, 2.0], dtype=F64),))
    np.testing.assert_allclose(jv.numpy(), ((x.exp() * (x + 1)) * loom.tensor([1.0, 0.0, 2.0], dtype=F64)).numpy(),
                               rtol=1e-12)
    g2 = lambda a, b: (a.unsqueeze(1) * b.unsqueeze(0)).tanh()  # noqa: E731
    a, b = x3(), loom.tensor([0.1, 0.3], dtype=F64)
    want = loom.autograd.functional.jacobian(g2, (a, b))
    got = F.jacrev(g2, argnums=(0, 1))(a, b)
    for w, o in zip(want, got):
        np.testing.assert_allclose(o.numpy(), w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.jacfwd(g2)(a, b).numpy(), want[0].numpy(), rtol=1e-12)
    H = F.hessian(f)(x)
    np.testing.assert_allclose(H.numpy(), loom.autograd.functional.hessian(f, x).numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.jacrev(F.jacrev(f))(x).numpy(), H.numpy(), rtol=1e-12)


def test_vmap():
    x = loom.randn(4, 3, dtype=F64)
    np.testing.assert_allclose(F.vmap(lambda v: v.sum())(x).numpy(), x.sum(1).numpy())
    np.testing.assert_allclose(F.vmap(lambda v: v.sum(), in_dims=1)(x).numpy(), x.sum(0).numpy())
    w = loom.arange(3.0, dtype=F64)
    np.testing.assert_allclose(F.vmap(lambda v, u: v * u, in_dims=(0, None))(x, w).numpy(), (x * w).numpy())
    a, s = F.vmap(lambda v: (v * 2, v.sum()), out_dims=(1, 0))(x)
    assert a.shape == (3, 4) and s.shape == (4,)
    # per-sample gradients: vmap of grad, and nested vmap
    per = F.vmap(F.grad(f))(x)
    np.testing.assert_allclose(per.numpy(), df(x).numpy(), rtol=1e-12)
    outer = F.vmap(F.vmap(lambda p, q: p * q, in_dims=(None, 0)), in_dims=(0, None))(x[:, 0], w)
    np.testing.assert_allclose(outer.numpy(), np.outer(x[:, 0].numpy(), w.numpy()))
    # gradients flow through the map
    xg = x.clone().requires_grad_(True)
    F.vmap(lambda v: (v * v).sum())(xg).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), 2 * x.numpy())
    assert F.vmap(lambda v: v.sum())(loom.ones(0, 3)).shape == (0,)


def test_vmap_randomness():
    with pytest.raises(RuntimeError, match="randomness error mode"):
        F.vmap(lambda v: loom.rand(3) + v)(loom.zeros(2, 3))
    same = F.vmap(lambda v: loom.rand(3) + v, randomness="same")(loom.zeros(3, 3))
    np.testing.assert_array_equal(same[0].numpy(), same[2].numpy())
    diff = F.vmap(lambda v: loom.rand(3) + v, randomness="different")(loom.zeros(2, 3))
    assert not np.array_equal(diff[0].numpy(), diff[1].numpy())
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        F.vmap(lambda v: v, randomness="sometimes")


def test_ensembles_with_functional_call():
    loom.manual_seed(0)
    models = [loom.nn.Linear(3, 2) for _ in range(4)]
    params, buffers = F.stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].requires_grad
    x = loom.randn(5, 3)

    def run(p, b, data):
        return F.functional_call(models[0], (p, b), (data,))

    out = F.vmap(run, in_dims=(0, 0, None))(params, buffers, x)
    for i, m in enumerate(models):
        np.testing.assert_allclose(out[i].detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
    g = F.grad(lambda p, data: F.functional_call(models[0], p, (data,)).sum())(dict(models[0].named_parameters()), x)
    np.testing.assert_allclose(g["bias"].numpy(), [5.0, 5.0])
    np.testing.assert_allclose(g["weight"].numpy(), np.tile(x.sum(0).numpy(), (2, 1)), rtol=1e-6)


def test_errors():
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims"):
        F.grad(lambda v: v * 2)(x3())
    with pytest.raises(RuntimeError, match="argnums"):
        F.grad(f, argnums=3)(x3())
    with pytest.raises(RuntimeError, match="floating point"):
        F.grad(lambda v: v.sum())(loom.arange(3))
    with pytest.raises(ValueError, match="same size in the mapped dimension, got sizes \\[2, 3\\]"):
        F.vmap(lambda a, b: a + b)(loom.ones(2, 3), loom.ones(3, 3))
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        F.vmap(lambda a: a)(3.0)
    with pytest.raises(ValueError, match="must only return Tensors"):
        F.vmap(lambda a: 3)(loom.ones(2, 3))
    with pytest.raises(RuntimeError, match="same shape"):
        F.jvp(loom.sin, (x3(),), (loom.ones(2, dtype=F64),))
    _, fn = F.vjp(loom.sin, x3())
    with pytest.raises(RuntimeError, match="cotangent of shape"):
        fn(loom.ones(2, dtype=F64))
