"""torch.nn.utils: gradient clipping (clip_grad_norm_, clip_grad_value_) and, in loom.nn.utils.rnn,
pad_sequence."""
import math

from ... import _C
from ..._factories import tensor as _tensor, zeros_like as _zeros_like
from ...autograd.grad_mode import no_grad

from . import rnn  # noqa: E402  (loom.nn.utils.rnn.pad_sequence)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]


def _grads(parameters):
    if isinstance(parameters, _C.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their joint norm is at most max_norm; returns the total norm.

    The scale min(1, max_norm / (total + 1e-6)) stays a tensor: no host synchronization (except for
    error_if_nonfinite=True, which reads the norm).
    """
    grads = _grads(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if len(grads) == 0:
        return _tensor(0.0)
    with no_grad():
        device = grads[0].device
        if math.isinf(norm_type):
            norms = [g.abs().max().to(device) for g in grads]
            total = norms[0] if len(norms) == 1 else _C.stack(norms).max()
        else:
            norms = [g.norm(norm_type).to(device) for g in grads]
            total = _C.stack(norms).norm(norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                               "so it cannot be clipped. To disable this error and scale the gradients by the "
                               "non-finite norm anyway, set `error_if_nonfinite=False`")
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.device, g.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(min=-clip_value, max=clip_value)
