"""Finite-difference gradient checks, as torch.autograd.gradcheck.

Compares the analytical Jacobian (one backward per output element, through
loom.autograd.grad) with central differences (perturbing each input element
in place). Works for functions returning a tensor or a tuple of tensors.
"""
import numpy as np

from .. import _C
from .._C import Tensor


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _outputs(fn, inputs):
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numerical(fn, inputs, x, eps):
    n_in = x.numel()
    flat = x.detach()
    arr = flat.numpy()  # shares memory: perturbs x in place
    cols = []
    # Grad mode stays on: fn may itself differentiate (gradgradcheck).
    for i in range(n_in):
        idx = np.unravel_index(i, arr.shape) if arr.ndim else ()
        orig = arr[idx]
        arr[idx] = orig + eps
        plus = [o.detach().cpu().numpy().astype(np.float64).ravel() for o in _outputs(fn, inputs)]
        arr[idx] = orig - eps
        minus = [o.detach().cpu().numpy().astype(np.float64).ravel() for o in _outputs(fn, inputs)]
        arr[idx] = orig
        cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    if not cols:  # an empty input: a [n_out, 0] Jacobian per output
        return [np.zeros((o.numel(), 0)) for o in _outputs(fn, inputs)]
    # per output: [n_out, n_in]
    return [np.stack([c[k] for c in cols], axis=1) for k in range(len(cols[0]))]


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, fast_mode=False, **kwargs):
    """Returns True when analytical and numerical gradients agree; raises GradcheckError otherwise."""
    inputs = _as_tuple(inputs)
    diff = [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i, x in diff:
        if x.dtype != _C.float64:
            raise GradcheckError(f"gradcheck: input {i} requires grad but is {x.dtype}; use float64 inputs")
        if x.is_cuda:
            raise GradcheckError("gradcheck: inputs must be CPU tensors")
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    outs = _outputs(func, inputs)

    def fail(msg):
        if raise_exception:
            raise GradcheckError(msg)
        return False

    for k, (i, x) in enumerate(diff):
        numerical = _numerical(func, inputs, x, eps)
        for j, out in enumerate(outs):
            n_out = out.numel()
            analytical = np.zeros((n_out, x.numel()))
            if out.requires_grad:
                for r in range(n_out):
                    res = _outputs(func, inputs)
                    seed = np.zeros(n_out, dtype=res[j].detach().numpy().dtype)
                    seed[r] = 1.0
                    g = _C._grad([res[j]], [x], [_C._from_numpy_copy(seed.reshape(res[j].shape), None, None)],
                                 False, False, True)[0]
                    if g is not None:
                        analytical[r] = g.detach().numpy().astype(np.float64).ravel()
            num = numerical[j]
            if not np.allclose(analytical, num, rtol=rtol, atol=atol):
                bad = np.argwhere(~np.isclose(analytical, num, rtol=rtol, atol=atol))[0]
                return fail(
                    f"Jacobian mismatch for output {j} with respect to input {i},\n"
                    f"numerical:{num}\nanalytical:{analytical}\n"
                    f"first mismatch at (output element {bad[0]}, input element {bad[1]}): "
                    f"numerical {num[tuple(bad)]} vs analytical {analytical[tuple(bad)]}")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, **kwargs):
    """Checks second derivatives: gradcheck of the function's vector-Jacobian product."""
    from . import grad as _grad

    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [_C._from_numpy_copy(rng.standard_normal(o.shape), None, None).requires_grad_(True)
                        for o in outs]

    def vjp(*args):
        ins, gos = args[:len(inputs)], args[len(inputs):]
        res = _outputs(func, ins)
        return _grad(res, [ins[i] for i in diff_idx], list(gos), create_graph=True, allow_unused=True)

    return gradcheck(vjp, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol, **kwargs)
