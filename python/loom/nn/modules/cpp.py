"""CppModule: a C++-constructed loom::nn module inside a Python model.

The wrapper's parameters and buffers are the C++ module's own tensors (shared
leaves, not copies): gradients, optimizer steps and load_state_dict reach the
C++ module, and parameters()/state_dict() of an enclosing Python model cover
both kinds of submodule.
"""
from ... import _C
from .module import Module

__all__ = ["CppModule"]

# loom._C._functional._nn: the bound C++ modules. Reached as loom.nn.modules.cpp.cpp, not exported: the name
# would hide the submodule loom.nn.modules.cpp.
cpp = getattr(_C._functional, "_nn", None)


class CppModule(Module):
    def __init__(self, cpp_module):
        super().__init__()
        object.__setattr__(self, "cpp", cpp_module)

    @classmethod
    def create(cls, name, *args, **kwargs):
        """CppModule.create("Linear", 4, 8) builds loom::nn::Linear in C++."""
        if cpp is None:
            raise RuntimeError("loom._C was built without the C++ nn bindings (python/src/nn_module.cpp)")
        return cls(getattr(cpp, name)(*args, **kwargs))

    def _own_parameters(self):
        return list(self.cpp.named_parameters())

    def _own_buffers(self):
        return list(self.cpp.named_buffers())

    def forward(self, *args):
        return self.cpp.forward(*args)

    def train(self, mode=True):
        self.cpp.train(mode)
        return super().train(mode)

    def _apply(self, fn):
        # Only device/dtype conversions reach C++ modules: probe fn on a floating tensor, then convert when any
        # tensor differs (part of the module may have moved already, e.g. an encoder shared with another model).
        tensors = [t for _, t in self.cpp.named_parameters()] + [t for _, t in self.cpp.named_buffers()]
        floating = [t for t in tensors if t.is_floating_point()]
        if floating:
            probe = fn(floating[0])
            if any(t.device != probe.device for t in tensors):
                self.cpp.to_device(probe.device)
            if any(t.dtype != probe.dtype for t in floating):
                self.cpp.to_dtype(probe.dtype)
        return super()._apply(fn)

    def _get_name(self):
        return self.cpp.type_name

    def extra_repr(self):
        return self.cpp.extra_repr()
