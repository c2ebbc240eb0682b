"""Free functions mirroring Tensor methods (loom.exp(x), loom.sum(x, dim), ...)."""
from ._C import Tensor
from ._C import _registry_ops  # the ops bound from core/ops.toml


def _method(name):
    meth = getattr(Tensor, name)

    def f(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
        return meth(input, *args, **kwargs)

    f.__name__ = name
    f.__qualname__ = name
    # The method's docstring (the registry's for the ops of core/ops.toml).
    f.__doc__ = meth.__doc__ or f"loom.{name}(input, ...): same as Tensor.{name}"
    return f


__all__ = [
    "neg", "negative", "abs", "absolute", "sign", "exp", "log", "sqrt", "rsqrt", "reciprocal", "sin", "cos",
    "tanh", "sigmoid", "relu", "silu", "square", "logical_not", "logical_and", "logical_or", "logical_xor", "add", "sub", "mul", "div", "true_divide", "pow",
    "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "clamp", "clip", "masked_fill", "sum", "mean", "prod",
    "amax", "amin", "max", "min", "argmax", "argmin", "var", "std", "norm", "logsumexp", "mm", "bmm", "softmax",
    "log_softmax", "index_select", "gather", "scatter_add", "scatter_reduce", "masked_select", "nonzero", "reshape", "flatten",
    "unflatten", "squeeze", "unsqueeze", "transpose", "permute", "narrow", "select", "split", "chunk", "unbind",
    "t", "clone", "detach", "numel", "flip", "any", "all", "gelu", "swapaxes", "isclose", "allclose",
    "floor_divide", "remainder", "fmod", "equal", "isnan", "isinf", "isposinf", "isneginf", "isfinite",
    "nan_to_num", "clamp_min", "clamp_max", "frac", "broadcast_to", "movedim", "moveaxis", "tile", "roll", "diff",
    "tril", "triu", "diagonal", "trace", "diag", "outer", "ger", "dot", "vdot", "mv", "addmm", "baddbmm", "lerp",
    "addcmul", "addcdiv", "logit", "deg2rad", "rad2deg", "heaviside", "count_nonzero", "aminmax", "var_mean",
    "std_mean", "dist", "cumsum", "cumprod", "cummax", "cummin", "sort", "argsort", "topk", "msort", "kthvalue",
    "median", "unique", "unique_consecutive", "index_add", "index_copy", "index_fill",
    "scatter", "logcumsumexp",
]

# Every op of the registry gets its free function, with the method's docstring.
__all__ += [n for n in _registry_ops if n not in __all__]

for _name in __all__:
    globals()[_name] = _method(_name)

for _name in ("subtract", "multiply", "divide"):
    globals()[_name] = _method(_name)
__all__ += ["subtract", "multiply", "divide"]
del _name
