"""loom.nn modules (torch.nn names, parameter names, shapes and default initialisation).

The public names are collected from the ``__all__`` of every submodule of this package, imported in
sorted file-name order: a class listed in its file's ``__all__`` is exported from loom.nn.modules and
loom.nn with no other edit. Every submodule must define ``__all__``, and a name may be exported by one
submodule only.
"""
import importlib as _importlib
import pkgutil as _pkgutil


def _collect():
    names, owner = [], {}
    for info in sorted(_pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        sub = _importlib.import_module(f"{__name__}.{info.name}")
        exported = getattr(sub, "__all__", None)
        if exported is None:
            raise ImportError(f"{sub.__name__} defines no __all__ (every loom.nn.modules file lists its public names)")
        for name in exported:
            if name in owner:
                raise ImportError(f"{name!r} is exported by both {owner[name]} and {sub.__name__}")
            owner[name] = sub.__name__
            globals()[name] = getattr(sub, name)
            names.append(name)
    return names


__all__ = _collect()
del _collect, _importlib, _pkgutil
