"""torch.nn.utils: gradient clipping (clip_grad_norm_, clip_grad_value_, get_total_norm,
clip_grads_with_norm_), weight and spectral normalization (the hook forms here, the parametrizations in
loom.nn.utils.parametrizations), parametrize, conv / linear + batch-norm fusion for inference,
stateless.functional_call, prune (masking a module's tensors), and in loom.nn.utils.rnn padded and packed
sequences (pad_sequence, PackedSequence, pack_padded_sequence, pad_packed_sequence, ...)."""
import copy

from ... import _C

from . import rnn  # noqa: E402  (loom.nn.utils.rnn: pad_sequence, PackedSequence, ...)
from . import parametrize, parametrizations, stateless, prune  # noqa: E402
from .hook_norms import weight_norm, remove_weight_norm, spectral_norm, remove_spectral_norm  # noqa: E402

_O = _C._functional._optim  # nn/optim, where clipping is implemented

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters", "rnn", "parametrize", "parametrizations", "stateless",
           "prune", "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights", "skip_init",
           "convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _params(parameters):
    return [parameters] if isinstance(parameters, _C.Tensor) else list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their joint norm is at most max_norm; returns the total norm.

    The scale min(1, max_norm / (total + 1e-6)) stays a tensor: no host synchronization (except for
    error_if_nonfinite=True, which reads the norm). loom::nn::utils::clip_grad_norm_ (nn/optim/clip_grad.h),
    the function C++ training uses.
    """
    return _O.clip_grad_norm_(_params(parameters), float(max_norm), float(norm_type), bool(error_if_nonfinite))


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The deprecated name of clip_grad_norm_."""
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of the tensors (as if concatenated into one vector), a 0-d tensor."""
    from ... import linalg
    ts = _params(tensors)
    if not ts:
        return _C._zeros([], _C._default_dtype(), _C.device("cpu"), False)
    norms = [linalg.vector_norm(t.detach(), norm_type) for t in ts]
    devices = {str(n.device) for n in norms}
    if len(devices) > 1:
        norms = [n.to(ts[0].device) for n in norms]
    total = linalg.vector_norm(_C.stack(norms, 0), norm_type)
    if error_if_nonfinite and not bool(total.isfinite()):
        raise RuntimeError(f"The total norm of order {float(norm_type)} for gradients from `parameters` is "
                           "non-finite, so it cannot be clipped. To disable this error and scale the gradients by "
                           "the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients in place by min(1, max_norm / (total_norm + 1e-6)) (total_norm from
    get_total_norm); no host synchronization."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return
    coef = (total_norm.detach() + 1e-6).reciprocal().mul(float(max_norm)).clamp_max(1.0)
    from ...autograd.grad_mode import no_grad
    with no_grad():
        for g in grads:
            g.mul_(coef.to(g.device) if coef.device != g.device else coef)


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


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The convolution weight and bias that equal conv followed by batch norm in eval mode (Parameters)."""
    from ..modules.module import Parameter
    from ...autograd.grad_mode import no_grad
    with no_grad():
        if conv_b is None:
            conv_b = bn_rm.new_zeros(bn_rm.shape)
        if bn_w is None:
            bn_w = bn_rm.new_ones(bn_rm.shape)
        if bn_b is None:
            bn_b = bn_rm.new_zeros(bn_rm.shape)
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        shape = [1] * conv_w.dim()
        shape[1 if transpose else 0] = -1
        w = (conv_w * scale.reshape(shape)).to(conv_w.dtype)
        b = ((conv_b - bn_rm) * scale + bn_b).to(conv_w.dtype)
    return Parameter(w, conv_w.requires_grad), Parameter(b, conv_w.requires_grad)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of conv with bn (both in eval mode) folded into its weight and bias."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("fuse_conv_bn_eval: the batch norm must track running statistics")
    w, b = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
                                bn.bias, transpose)
    fused.weight = w
    fused.bias = b
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The linear weight and bias that equal linear followed by batch norm in eval mode (Parameters)."""
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def fuse_linear_bn_eval(linear, bn):
    """A copy of linear with bn (both in eval mode; bn over linear's outputs) folded into it."""
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if linear.out_features != bn.num_features:
        raise AssertionError("To fuse, linear.out_features must equal bn.num_features")
    return fuse_conv_bn_eval(linear, bn)


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) whose parameter values are unspecified (loom runs the usual initializer:
    it has no meta device to skip it on)."""
    kwargs.pop("device", None) if kwargs.get("device") == "meta" else None
    return module_cls(*args, **kwargs)


def convert_conv2d_weight_memory_format(module, memory_format):
    """module unchanged: loom's convolutions take NCHW weights only."""
    return module


convert_conv3d_weight_memory_format = convert_conv2d_weight_memory_format
