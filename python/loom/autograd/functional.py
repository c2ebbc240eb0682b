"""torch.autograd.functional: derivatives of whole functions, built on loom.autograd.grad.

vjp(func, inputs, v) and jvp(func, inputs, v) return (func(inputs), product); jacobian and hessian return
the full matrices (one backward per output element, or with vectorize=False in PyTorch's terms); hvp and
vhp give Hessian-vector products (equal for the twice-differentiable functions loom computes). jvp uses
the double-backward trick (a vjp of a vjp), so func must be twice differentiable. create_graph=True keeps
the results differentiable; strict=True raises when an output does not depend on an input.
"""
from .. import _C
from .._C import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, name, arg):
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for t in xs:
        if not isinstance(t, Tensor):
            raise TypeError(f"The {arg} given to {name} must be either a Tensor or a tuple of Tensors but the "
                            f"value at index {xs.index(t) if t in xs else 0} has type {type(t).__name__}.")
    return is_tuple, xs


def _grad_inputs(inputs, create_graph):
    return tuple(t.detach().requires_grad_(True) if not create_graph or not t.requires_grad else t.view_as(t)
                 for t in inputs)


def _zeros(t):
    from .._factories import zeros_like
    return zeros_like(t)


def _grads(outputs, inputs, grad_outputs, create_graph, strict, name):
    from . import grad
    outs = [o for o in outputs]
    gos = list(grad_outputs)
    pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
    if not pairs:
        if strict:
            raise RuntimeError(f"{name}: the output does not require grad: it is independent of the inputs")
        return tuple(_zeros(i) for i in inputs)
    res = grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], retain_graph=True,
               create_graph=create_graph, allow_unused=True)
    out = []
    for i, r in zip(inputs, res):
        if r is None:
            if strict:
                raise RuntimeError(f"{name}: an output is independent of input {list(inputs).index(i)}; "
                                   "strict=True forbids it")
            r = _zeros(i)
        out.append(r)
    return tuple(out)


def _restore(is_tuple, xs):
    return xs if is_tuple else xs[0]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ J): the vector-Jacobian product (v may be omitted for a one-element output)."""
    in_tuple, ins = _as_tuple(inputs, "vjp", "inputs")
    with _C_grad(True):
        ins = _grad_inputs(ins, create_graph)
        outputs = func(*ins)
        out_tuple, outs = _as_tuple(outputs, "vjp", "outputs of the user-provided function")
        if v is None:
            if any(o.numel() != 1 for o in outs):
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
            from .._factories import ones_like
            vs = tuple(ones_like(o) for o in outs)
        else:
            _, vs = _as_tuple(v, "vjp", "v")
            if len(vs) != len(outs):
                raise RuntimeError(f"v has {len(vs)} tensors, the function returned {len(outs)} outputs")
            for o, w in zip(outs, vs):
                if tuple(o.shape) != tuple(w.shape):
                    raise RuntimeError(f"Mismatch in shape: output has shape {list(o.shape)} and v has shape "
                                       f"{list(w.shape)}")
        res = _grads(outs, ins, vs, create_graph, strict, "vjp")
    outs = tuple(o if create_graph else o.detach() for o in outs)
    res = tuple(r if create_graph else r.detach() for r in res)
    return _restore(out_tuple, outs), _restore(in_tuple, res)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by differentiating a vector-Jacobian product with
    respect to its vector."""
    in_tuple, ins = _as_tuple(inputs, "jvp", "inputs")
    with _C_grad(True):
        ins = _grad_inputs(ins, create_graph)
        if v is None:
            if any(i.numel() != 1 for i in ins):
                raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                                   "single Tensor with a single element.")
            from .._factories import ones_like
            vs = tuple(ones_like(i) for i in ins)
        else:
            _, vs = _as_tuple(v, "jvp", "v")
            for i, w in zip(ins, vs):
                if tuple(i.shape) != tuple(w.shape):
                    raise RuntimeError(f"Mismatch in shape: input has shape {list(i.shape)} and v has shape "
                                       f"{list(w.shape)}")
        outputs = func(*ins)
        out_tuple, outs = _as_tuple(outputs, "jvp", "outputs of the user-provided function")
        from .._factories import zeros_like
        dummies = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        g = _grads(outs, ins, dummies, True, strict, "jvp")
        pairs = [(gi, vi) for gi, vi in zip(g, vs) if gi.requires_grad]
        if not pairs:
            res = tuple(_zeros(o) for o in outs)
        else:
            from . import grad
            res = grad([gi for gi, _ in pairs], list(dummies), [vi for _, vi in pairs], create_graph=create_graph,
                       allow_unused=True)
            res = tuple(r if r is not None else _zeros(o) for r, o in zip(res, outs))
    outs = tuple(o if create_graph else o.detach() for o in outs)
    res = tuple(r if create_graph else r.detach() for r in res)
    return _restore(out_tuple, outs), _restore(out_tuple, res)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: for one input and one output a tensor of shape
    output.shape + input.shape; tuples of them otherwise (indexed [output][input])."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    in_tuple, ins = _as_tuple(inputs, "jacobian", "inputs")
    from . import grad
    from .._factories import zeros
    with _C_grad(True):
        ins = _grad_inputs(ins, create_graph)
        outputs = func(*ins)
        out_tuple, outs = _as_tuple(outputs, "jacobian", "outputs of the user-provided function")
        jac = []
        for oi, o in enumerate(outs):
            rows = [[] for _ in ins]
            flat = o.reshape(-1)
            for k in range(flat.numel()):
                if flat.requires_grad:
                    gs = grad([flat[k]], list(ins), retain_graph=True, create_graph=create_graph, allow_unused=True)
                else:
                    gs = [None] * len(ins)
                for j, (i, g) in enumerate(zip(ins, gs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {oi} of the user-provided function is independent of input "
                                               f"{j}. This is not allowed in strict mode.")
                        g = zeros(tuple(i.shape), dtype=i.dtype, device=i.device)
                    rows[j].append(g)
            per_in = []
            for j, i in enumerate(ins):
                if rows[j]:
                    m = _C.stack(rows[j], 0).reshape(tuple(o.shape) + tuple(i.shape))
                else:
                    m = zeros(tuple(o.shape) + tuple(i.shape), dtype=i.dtype, device=i.device)
                per_in.append(m if create_graph else m.detach())
            jac.append(tuple(per_in))
    if not out_tuple and not in_tuple:
        return jac[0][0]
    if not out_tuple:
        return jac[0]
    if not in_tuple:
        return tuple(j[0] for j in jac)
    return tuple(jac)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: for one input a tensor of shape input.shape * 2, tuples of tuples
    for several."""
    in_tuple, ins = _as_tuple(inputs, "hessian", "inputs")

    def grad_func(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single "
                               "element")
        return vjp(func, xs, create_graph=True, strict=strict)[1] if len(xs) > 1 else \
            vjp(func, xs[0], create_graph=True, strict=strict)[1]

    h = jacobian(grad_func, ins if in_tuple else ins[0], create_graph=create_graph, strict=strict)
    return h


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ H) for a scalar func."""
    in_tuple, ins = _as_tuple(inputs, "vhp", "inputs")
    with _C_grad(True):
        ins = _grad_inputs(ins, True)
        out = func(*ins)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to vhp should return a single Tensor with a single element")
        g = _grads([out], ins, [out.new_ones(out.shape)], True, strict, "vhp")
        _, vs = _as_tuple(v, "vhp", "v") if v is not None else (False, tuple(_zeros(i) + 1 for i in ins))
        pairs = [(gi, vi) for gi, vi in zip(g, vs) if gi.requires_grad]
        from . import grad
        if pairs:
            res = grad([gi for gi, _ in pairs], list(ins), [vi for _, vi in pairs], create_graph=create_graph,
                       allow_unused=True)
            res = tuple(r if r is not None else _zeros(i) for r, i in zip(res, ins))
        else:
            res = tuple(_zeros(i) for i in ins)
    out = out if create_graph else out.detach()
    res = tuple(r if create_graph else r.detach() for r in res)
    return out, _restore(in_tuple, res)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar func (H is symmetric: the same as vhp)."""
    return vhp(func, inputs, v, create_graph, strict)


class _C_grad:
    def __init__(self, mode):
        self.mode = mode

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self.mode)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
