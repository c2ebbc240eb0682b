"""torch.nn.utils: gradient clipping (clip_grad_norm_, clip_grad_value_) and, in loom.nn.utils.rnn,
padded and packed sequences (pad_sequence, PackedSequence, pack_padded_sequence, pad_packed_sequence, ...)."""
from ... import _C

from . import rnn  # noqa: E402  (loom.nn.utils.rnn: pad_sequence, PackedSequence, ...)

_O = _C._functional._optim  # nn/optim, where clipping is implemented

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "rnn"]


def _params(parameters):
    return [parameters] if isinstance(parameters, _C.Tensor) else list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their joint norm is at most max_norm; returns the total norm.

    The scale min(1, max_norm / (total + 1e-6)) stays a tensor: no host synchronization (except for
    error_if_nonfinite=True, which reads the norm). loom::nn::utils::clip_grad_norm_ (nn/optim/clip_grad.h),
    the function C++ training uses.
    """
    return _O.clip_grad_norm_(_params(parameters), float(max_norm), float(norm_type), bool(error_if_nonfinite))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient to [-clip_value, clip_value] in place (loom::nn::utils::clip_grad_value_)."""
    _O.clip_grad_value_(_params(parameters), float(clip_value))


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated into one 1-D tensor (a copy)."""
    params = _params(parameters)
    if not params:
        raise RuntimeError("parameters_to_vector: received no parameters")
    device = params[0].device
    for p in params:
        if p.device != device:
            raise TypeError(f"Found two parameters on different devices, this is currently not supported "
                            f"({device} and {p.device})")
    return _C.cat([p.reshape(-1) for p in params], 0)


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D vec into the parameters, in order (the inverse of
    parameters_to_vector)."""
    from ...autograd.grad_mode import no_grad

    if not isinstance(vec, _C.Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D vector of {total} elements for the parameters, "
                           f"got {list(vec.shape)}")
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec.narrow(0, offset, n).reshape(tuple(p.shape)))
            offset += n
