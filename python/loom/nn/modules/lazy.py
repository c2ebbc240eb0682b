"""Lazy modules (torch.nn.LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*):
the input size (in_features, in_channels, num_features) is read from the first input.

Until then the parameters are UninitializedParameter placeholders (empty, requires_grad) and the running
statistics UninitializedBuffer. The first call (a forward pre-hook) builds the module it becomes with the
inferred size, moves that module's freshly initialized values into the parameter placeholders in place
(the same Parameter objects, so an optimizer created earlier keeps them; buffers are replaced), and turns
the instance into that class (LazyLinear -> Linear). load_state_dict shapes the placeholders after the
checkpoint's tensors first.
"""
from ..._C import Tensor
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (empty until materialize)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return Tensor.__new__(cls)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        from ..._factories import empty
        super().__init__(empty(0, device=device, dtype=dtype), requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        """Gives the parameter its shape (uninitialized values) in place; it becomes a Parameter."""
        from ..._factories import empty
        self.data = empty(tuple(shape), device=device or self.device, dtype=dtype or self.dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedParameter>"

    def __deepcopy__(self, memo):
        p = UninitializedParameter(self.requires_grad, self.device, self.dtype)
        memo[id(self)] = p
        return p


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet."""

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        return super().__new__(cls)

    def __init__(self, requires_grad=False, device=None, dtype=None):
        from ..._factories import empty
        super().__init__(empty(0, device=device, dtype=dtype))

    def materialize(self, shape, device=None, dtype=None):
        """A new (uninitialized) tensor of the shape: the module registers it in this buffer's place."""
        from ..._factories import empty
        return empty(tuple(shape), device=device or self.device, dtype=dtype or self.dtype)

    def __repr__(self):
        return "<UninitializedBuffer>"

    def __deepcopy__(self, memo):
        b = UninitializedBuffer(False, self.device, self.dtype)
        memo[id(self)] = b
        return b


def _is_uninitialized(t):
    return isinstance(t, (UninitializedParameter, UninitializedBuffer))


class LazyModuleMixin:
    """The lazy machinery: subclasses name the class they become and the constructor argument read from the
    input (in_features from the last dimension, in_channels / num_features from dimension 1, or 0 for an
    unbatched input)."""

    cls_to_become = None
    _lazy_arg = None

    def _lazy_setup(self, placeholder, kwargs):
        """Runs cls_to_become.__init__ with a placeholder size (for every other attribute), then swaps the
        parameters and buffers for uninitialized ones."""
        self.cls_to_become.__init__(self, **{self._lazy_arg: placeholder}, **kwargs)
        for name, p in list(self._parameters.items()):
            if p is not None:
                self._parameters[name] = UninitializedParameter(p.requires_grad, p.device, p.dtype)
        for name, b in list(self._buffers.items()):
            if b is not None and b.dim() > 0:
                self._buffers[name] = UninitializedBuffer(False, b.device, b.dtype)
        object.__setattr__(self, "_lazy_kwargs", kwargs)
        object.__setattr__(self, "_initialize_hook", self.register_forward_pre_hook(LazyModuleMixin._infer))

    def has_uninitialized_params(self):
        return any(_is_uninitialized(t) for t in list(self._parameters.values()) + list(self._buffers.values()))

    def _input_size(self, input):
        if self._lazy_arg == "in_features":
            return input.shape[-1]
        n = getattr(self.cls_to_become, "_n", None)
        unbatched = n is not None and input.dim() == n + 1
        return input.shape[0 if unbatched else 1]

    def initialize_parameters(self, input, *args, **kwargs):
        """Builds the module this one becomes for input and takes over its initialized values in place."""
        if not self.has_uninitialized_params():
            return
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: the first input must be a Tensor to infer {self._lazy_arg}")
        real = self.cls_to_become(**{self._lazy_arg: self._input_size(input)}, **self._lazy_kwargs)
        real.train(self.training)
        for name, p in real._parameters.items():
            mine = self._parameters.get(name)
            if _is_uninitialized(mine):
                mine.data = p.detach()
                mine.__class__ = Parameter
        for name, b in real._buffers.items():
            if _is_uninitialized(self._buffers.get(name)):
                self._buffers[name] = b
        keep = {"_parameters", "_buffers", "_modules", "training", "_non_persistent_buffers_set"}
        for k, v in real.__dict__.items():
            if k not in keep and not k.startswith("_forward") and not k.startswith("_backward"):
                self.__dict__[k] = v

    @staticmethod
    def _infer(module, args):
        module.initialize_parameters(*args)
        if args and isinstance(args[0], Tensor):  # also after load_state_dict shaped the parameters
            setattr(module, module._lazy_arg, module._input_size(args[0]))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {type(module).__name__} has not been fully initialized")
        module._initialize_hook.remove()
        del module.__dict__["_initialize_hook"], module.__dict__["_lazy_kwargs"]
        module.__class__ = module.cls_to_become

    def _materialize_from(self, prefix, state_dict):
        """Shapes the placeholders after a checkpoint's tensors (load_state_dict calls this first)."""
        def given(name):  # a shaped tensor for this placeholder (an uninitialized one changes nothing)
            src = state_dict.get(prefix + name) if prefix + name in state_dict else None
            return src if isinstance(src, Tensor) and not _is_uninitialized(src) else None

        for name, t in self._parameters.items():
            if _is_uninitialized(t) and given(name) is not None:
                t.materialize(tuple(given(name).shape))
        for name, t in list(self._buffers.items()):
            if _is_uninitialized(t) and given(name) is not None:
                self._buffers[name] = t.materialize(tuple(given(name).shape))


def _lazy(name, base, arg, signature_doc):
    def __init__(self, *args, **kwargs):
        import inspect
        params = list(inspect.signature(base.__init__).parameters)[1:]
        params.remove(arg)
        bound = dict(zip(params, args))
        overlap = set(bound) & set(kwargs)
        if overlap:
            raise TypeError(f"{name}() got multiple values for argument '{sorted(overlap)[0]}'")
        bound.update(kwargs)
        Module.__init__(self)
        placeholder = bound.get("groups", 1) if arg == "in_channels" else 0
        self._lazy_setup(placeholder, bound)

    cls = type(name, (LazyModuleMixin, base), {"__init__": __init__, "cls_to_become": base, "_lazy_arg": arg,
                                                "__doc__": f"{base.__name__} whose {arg} is read from the first "
                                                           f"input: {name}({signature_doc})."})
    cls.__module__ = __name__
    return cls


LazyLinear = _lazy("LazyLinear", Linear, "in_features", "out_features, bias=True")
LazyConv1d = _lazy("LazyConv1d", Conv1d, "in_channels", "out_channels, kernel_size, stride=1, ...")
LazyConv2d = _lazy("LazyConv2d", Conv2d, "in_channels", "out_channels, kernel_size, stride=1, ...")
LazyConv3d = _lazy("LazyConv3d", Conv3d, "in_channels", "out_channels, kernel_size, stride=1, ...")
LazyConvTranspose1d = _lazy("LazyConvTranspose1d", ConvTranspose1d, "in_channels", "out_channels, kernel_size, ...")
LazyConvTranspose2d = _lazy("LazyConvTranspose2d", ConvTranspose2d, "in_channels", "out_channels, kernel_size, ...")
LazyConvTranspose3d = _lazy("LazyConvTranspose3d", ConvTranspose3d, "in_channels", "out_channels, kernel_size, ...")
LazyBatchNorm1d = _lazy("LazyBatchNorm1d", BatchNorm1d, "num_features", "eps=1e-5, momentum=0.1, ...")
LazyBatchNorm2d = _lazy("LazyBatchNorm2d", BatchNorm2d, "num_features", "eps=1e-5, momentum=0.1, ...")
LazyBatchNorm3d = _lazy("LazyBatchNorm3d", BatchNorm3d, "num_features", "eps=1e-5, momentum=0.1, ...")
LazyInstanceNorm1d = _lazy("LazyInstanceNorm1d", InstanceNorm1d, "num_features", "eps=1e-5, momentum=0.1, ...")
LazyInstanceNorm2d = _lazy("LazyInstanceNorm2d", InstanceNorm2d, "num_features", "eps=1e-5, momentum=0.1, ...")
LazyInstanceNorm3d = _lazy("LazyInstanceNorm3d", InstanceNorm3d, "num_features", "eps=1e-5, momentum=0.1, ...")
