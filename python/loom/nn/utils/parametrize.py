"""torch.nn.utils.parametrize: a module's tensor computed from stored originals by parametrization modules.

register_parametrization(module, "weight", P) moves the weight to module.parametrizations.weight.original
(or original0, original1, ... when P.right_inverse returns several tensors) and makes module.weight a
property that returns P(original) on every access (once per `cached()` block). Assigning module.weight
stores right_inverse(value) into the originals. The state dict uses PyTorch's names
(``parametrizations.weight.original``), so checkpoints move between the two frameworks.
"""
from contextlib import contextmanager

from ..._C import Tensor
from ...autograd.grad_mode import no_grad
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module, Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "ParametrizationList", "type_before_parametrizations", "transfer_parametrizations_and_params"]

_cache_enabled = 0
_cache = {}


@contextmanager
def cached():
    """Within the block, each parametrized tensor is computed once (on first access) and reused."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and its originals."""

    def __init__(self, modules, original, unsafe=False):
        if not modules:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        object.__setattr__(self, "unsafe", unsafe)
        new = original
        with no_grad():
            for m in reversed(self):
                if hasattr(m, "right_inverse"):
                    new = m.right_inverse(new)
        object.__setattr__(self, "is_tensor", isinstance(new, Tensor))
        object.__setattr__(self, "ntensors", 1 if self.is_tensor else len(new))
        if self.is_tensor:
            if not unsafe and (new.dtype != original.dtype or tuple(new.shape) != tuple(original.shape)):
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change the dtype or shape: "
                                 f"{original.dtype} {list(original.shape)} -> {new.dtype} {list(new.shape)}")
            with no_grad():
                original.copy_(new)
            if isinstance(original, Parameter):
                self.register_parameter("original", original)
            else:
                self.register_buffer("original", original)
        else:
            for i, t in enumerate(new):
                if not isinstance(t, Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors, got {type(t)}")
                p = Parameter(t.detach().clone(), original.requires_grad)
                self.register_parameter(f"original{i}", p)
        if not unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(z).__name__}.")
            if z.dtype != original.dtype or tuple(z.shape) != tuple(original.shape):
                raise ValueError(f"Registering a parametrization may not change the dtype or shape of the tensor: "
                                 f"{original.dtype} {list(original.shape)} -> {z.dtype} {list(z.shape)}")

    def right_inverse(self, value):
        """Writes the originals for which the parametrized tensor equals value."""
        with no_grad():
            for m in reversed(self):
                if hasattr(m, "right_inverse"):
                    value = m.right_inverse(value)
                elif len(self) > 1 or not self.is_tensor:
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement right_inverse.")
            if self.is_tensor:
                self.original.copy_(value)
            else:
                if len(value) != self.ntensors:
                    raise ValueError(f"'right_inverse' must return a sequence of tensors of length {self.ntensors}."
                                     f" Got a sequence of length {len(value)}.")
                for i, t in enumerate(value):
                    getattr(self, f"original{i}").copy_(t)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in list(self)[1:]:
            x = m(x)
        return x


def _parametrized_class(module):
    """The module's class, or a subclass of it holding the properties of the parametrized tensors."""
    cls = type(module)
    if getattr(cls, "_is_parametrized_class", False):
        return cls
    new = type(f"Parametrized{cls.__name__}", (cls,), {"_is_parametrized_class": True,
                                                       "_original_class": cls})
    module.__class__ = new
    return new


def _make_property(name):
    def get(self):
        plist = self.parametrizations[name]
        if _cache_enabled:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = plist()
            return _cache[key]
        return plist()

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(get, set_)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Parametrizes module.<tensor_name> (a parameter or buffer) by the module parametrization; a second
    call on the same name appends to its list."""
    if not isinstance(module, Module):
        raise TypeError(f"register_parametrization(): expected a Module, got {type(module).__name__}")
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization(): the parametrization must be a Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            y = getattr(module, tensor_name)
            z = parametrization(y)
            if not isinstance(z, Tensor) or z.dtype != y.dtype or tuple(z.shape) != tuple(y.shape):
                raise ValueError("Registering a parametrization may not change the dtype or shape of the tensor")
        plist.append(parametrization)
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with "
                         f"name '{tensor_name}'")
    original = getattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if "parametrizations" not in module._modules:
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = plist
    cls = _parametrized_class(module)
    setattr(cls, tensor_name, _make_property(tensor_name))
    return module


def is_parametrized(module, tensor_name=None):
    """True when the module has parametrizations (for tensor_name, when given)."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if plists is None or not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Removes the parametrizations of module.<tensor_name>: the tensor becomes a parameter again, holding
    the parametrized value (or the original with leave_parametrized=False)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
            with no_grad():
                if t.dtype == original.dtype and tuple(t.shape) == tuple(original.shape):
                    original.copy_(t)
                else:
                    original = Parameter(t.detach().clone(), original.requires_grad)
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized "
                             "in terms of a sequence of tensors.")
        with no_grad():
            t = getattr(module, tensor_name)
        original = Parameter(t.detach().clone(), plist.original0.requires_grad)
    cls = type(module)
    delattr(cls, tensor_name)
    del module.parametrizations[tensor_name]
    module.register_parameter(tensor_name, original if isinstance(original, Parameter) else Parameter(original))
    if not is_parametrized(module):
        del module.parametrizations
        module.__class__ = cls._original_class
    return module


def type_before_parametrizations(module):
    """The module's class before any parametrization was registered."""
    cls = type(module)
    return cls._original_class if getattr(cls, "_is_parametrized_class", False) else cls


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Copies the parametrizations (and their originals) of from_module onto to_module."""
    if not is_parametrized(from_module):
        raise ValueError("transfer_parametrizations_and_params: from_module is not parametrized")
    names = [tensor_name] if tensor_name is not None else list(from_module.parametrizations.keys())
    for name in names:
        src = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            to_module.register_parameter(name, Parameter(getattr(from_module, name).detach().clone()))
        for p in src:
            if not is_parametrized(to_module, name):
                register_parametrization(to_module, name, p, unsafe=True)
            else:
                to_module.parametrizations[name].append(p)
        dst = to_module.parametrizations[name]
        with no_grad():
            for pname, p in src.named_parameters(recurse=False):
                getattr(dst, pname).copy_(p)
    return to_module

