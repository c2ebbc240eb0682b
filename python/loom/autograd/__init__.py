"""Reverse-mode automatic differentiation (mirrors torch.autograd)."""
from .. import _C
from .._C import Tensor
from . import functional  # noqa: E402,F401  (jacobian, hessian, vjp, jvp, hvp, vhp)
from .function import Function, FunctionCtx  # noqa: F401
from .grad_mode import enable_grad, no_grad, set_grad_enabled, inference_mode  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401


def _tensor_seq(x, what):
    if isinstance(x, Tensor):
        return [x]
    if x is None:
        return None
    seq = list(x)
    for t in seq:
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{what} must be Tensors, got {type(t).__name__}")
    return seq


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates into ``.grad`` of the leaves the gradients of ``tensors``."""
    tensors = _tensor_seq(tensors, "tensors")
    grads = _tensor_seq(grad_tensors, "grad_tensors") or [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(grads)} gradients for {len(tensors)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _tensor_seq(inputs, "inputs")
        gs = _C._grad(tensors, inputs, grads, retain_graph, create_graph, True)
        for x, g in zip(inputs, gs):
            if g is None:
                continue
            if not create_graph:
                g = g.detach()
            x.grad = g if x.grad is None else x.grad + g
        return
    _C._backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Returns the gradients of ``outputs`` w.r.t. ``inputs`` without touching ``.grad``."""
    single = isinstance(inputs, Tensor)
    outputs = _tensor_seq(outputs, "outputs")
    inputs = _tensor_seq(inputs, "inputs")
    grad_outputs = _tensor_seq(grad_outputs, "grad_outputs")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    result = _C._grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)
    if materialize_grads:
        from .._factories import zeros_like

        result = [zeros_like(x) if g is None else g for x, g in zip(inputs, result)]
    return tuple(result) if not single else (result[0],)


def Variable(data, requires_grad=False, volatile=False):
    """The pre-0.4 wrapper, now the tensor itself (torch.autograd.Variable): ``data`` with ``requires_grad``."""
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data
