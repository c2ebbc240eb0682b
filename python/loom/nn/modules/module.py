"""loom.nn.Module and Parameter, mirroring torch.nn.Module."""
from collections import OrderedDict

from ... import _C
from ..._C import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ["Module", "Parameter", "Buffer"]  # the register_module_*_hook functions: loom.nn.modules.module

# Hooks every module runs (before its own), as torch.nn.modules.module's global hooks.
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()
_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks", "_forward_hooks_with_kwargs",
               "_forward_hooks_always_called", "_backward_pre_hooks", "_backward_hooks")


def _handle(hooks, extra=None):
    from ...utils.hooks import RemovableHandle
    return RemovableHandle(hooks, extra_dict=extra)


def register_module_forward_pre_hook(hook):
    """hook(module, args) before every module's forward (and its own pre-hooks); a non-None result
    replaces args."""
    h = _handle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[h.id] = hook
    return h


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """hook(module, args, output) after every module's forward; a non-None result replaces the output."""
    h = _handle(_global_forward_hooks, [_global_forward_hooks_always_called, _global_forward_hooks_with_kwargs])
    _global_forward_hooks[h.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[h.id] = True
    if always_call:
        _global_forward_hooks_always_called[h.id] = True
    return h


def register_module_full_backward_pre_hook(hook):
    """hook(module, grad_output) when the gradients of any module's outputs arrive."""
    h = _handle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[h.id] = hook
    return h


def register_module_full_backward_hook(hook):
    """hook(module, grad_input, grad_output) when the gradients of any module's inputs are computed."""
    h = _handle(_global_backward_hooks)
    _global_backward_hooks[h.id] = hook
    return h


def _uninitialized(t):
    return hasattr(t, "materialize")  # the lazy modules' UninitializedParameter / UninitializedBuffer


def _has_global_hooks():
    return bool(_global_forward_pre_hooks or _global_forward_hooks or _global_backward_pre_hooks or
                _global_backward_hooks)


class Parameter(Tensor):
    """A leaf tensor that a Module registers as a parameter: ``loom.nn.Parameter(t)`` shares t's data."""

    def __new__(cls, data=None, requires_grad=True):
        return super().__new__(cls)

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from ..._factories import empty

            data = empty(0)
        super().__init__(data.detach())
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, proto):
        return (Parameter, (Tensor.detach(self), self.requires_grad))


class Buffer:
    """Marker: ``self.x = Buffer(t)`` registers t as a buffer (torch.nn.Buffer)."""

    def __init__(self, data, persistent=True):
        self.data = data
        self.persistent = persistent


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


class Module:
    """Base class of all layers; subclass it, assign Parameters and Modules as attributes, define forward."""

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() takes no arguments")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        for name in _HOOK_DICTS:
            object.__setattr__(self, name, OrderedDict())

    # ---- forward ----
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d.get("_forward_pre_hooks") or d.get("_forward_hooks") or d.get("_backward_hooks") or
                d.get("_backward_pre_hooks") or _has_global_hooks()):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _hooks(self, name):
        return self.__dict__.get(name) or {}

    def _call_with_hooks(self, args, kwargs):
        """forward with the hooks: full backward hooks wire the inputs, forward pre-hooks (global, then the
        module's) may replace the arguments, forward hooks the output; always_call hooks run even when forward
        raises."""
        bw_hooks = list(_global_backward_hooks.values()) + list(self._hooks("_backward_hooks").values())
        bw_pre = list(_global_backward_pre_hooks.values()) + list(self._hooks("_backward_pre_hooks").values())
        bw = None
        if bw_hooks or bw_pre:
            from ...utils.hooks import BackwardHook
            bw = BackwardHook(self, bw_hooks, bw_pre)
            args = bw.setup_input_hook(args)
        called = set()
        try:
            pre_kw = self._hooks("_forward_pre_hooks_with_kwargs")
            for hid, hook in list(_global_forward_pre_hooks.items()) + list(self._hooks("_forward_pre_hooks").items()):
                if hid in pre_kw:
                    res = hook(self, args, kwargs)
                    if res is not None:
                        if not (isinstance(res, tuple) and len(res) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, "
                                               f"new_kwargs), but got {res}.")
                        args, kwargs = res
                else:
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
            result = self.forward(*args, **kwargs)
            post_kw = {**_global_forward_hooks_with_kwargs, **self._hooks("_forward_hooks_with_kwargs")}
            for hid, hook in list(_global_forward_hooks.items()) + list(self._hooks("_forward_hooks").items()):
                called.add(hid)
                res = hook(self, args, kwargs, result) if hid in post_kw else hook(self, args, result)
                if res is not None:
                    result = res
        except Exception:
            post_kw_all = {**_global_forward_hooks_with_kwargs, **self._hooks("_forward_hooks_with_kwargs")}
            always = {**_global_forward_hooks_always_called, **self._hooks("_forward_hooks_always_called")}
            for hid, hook in list(_global_forward_hooks.items()) + list(self._hooks("_forward_hooks").items()):
                if hid in always and hid not in called:
                    try:
                        if hid in post_kw_all:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception:
                        pass
            raise
        if bw is not None:
            result = bw.setup_output_hook(result)
        return result

    # ---- hooks ----
    def _hook_store(self, name):
        store = self.__dict__.get(name)
        if store is None:
            store = OrderedDict()
            object.__setattr__(self, name, store)
        return store

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or new args (a value or a tuple), run before forward; with_kwargs:
        hook(module, args, kwargs) -> None or (new_args, new_kwargs). Returns a handle with remove()."""
        hooks = self._hook_store("_forward_pre_hooks")
        kw = self._hook_store("_forward_pre_hooks_with_kwargs")
        h = _handle(hooks, [kw])
        hooks[h.id] = hook
        if with_kwargs:
            kw[h.id] = True
        if prepend:
            hooks.move_to_end(h.id, last=False)
        return h

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) -> None or a new output, run after forward; with_kwargs:
        hook(module, args, kwargs, output); always_call: also when forward raises (output None)."""
        hooks = self._hook_store("_forward_hooks")
        kw = self._hook_store("_forward_hooks_with_kwargs")
        always = self._hook_store("_forward_hooks_always_called")
        h = _handle(hooks, [kw, always])
        hooks[h.id] = hook
        if with_kwargs:
            kw[h.id] = True
        if always_call:
            always[h.id] = True
        if prepend:
            hooks.move_to_end(h.id, last=False)
        return h

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) -> None or new grad_output, when the gradients of the outputs arrive."""
        hooks = self._hook_store("_backward_pre_hooks")
        h = _handle(hooks)
        hooks[h.id] = hook
        if prepend:
            hooks.move_to_end(h.id, last=False)
        return h

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) -> None or new grad_input, when the gradients of the inputs
        (the positional tensor arguments; None for the others) are computed."""
        hooks = self._hook_store("_backward_hooks")
        h = _handle(hooks)
        hooks[h.id] = hook
        if prepend:
            hooks.move_to_end(h.id, last=False)
        return h

    def register_backward_hook(self, hook):
        """The deprecated form of register_full_backward_hook (same behaviour here)."""
        return self.register_full_backward_hook(hook)

    # ---- registration ----
    def _check_init(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameters/modules before Module.__init__() call")

    def register_parameter(self, name, param):
        self._check_init()
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f'parameter name can\'t be empty or contain ".", got: {name!r}')
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' (loom.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        self._check_init()
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f'buffer name can\'t be empty or contain ".", got: {name!r}')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_module(self, name, module):
        self._check_init()
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f'module name can\'t be empty or contain ".", got: {name!r}')
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    add_module = register_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_attr(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' (loom.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if d.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_attr(name)
            self._modules[name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or None expected)")
            self._modules[name] = value
        elif isinstance(value, Buffer):
            self._remove_attr(name)
            self.register_buffer(name, value.data, value.persistent)
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _remove_attr(self, name):
        self.__dict__.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            self.__dict__[key].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(key, {}):
                del self.__dict__[key][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def get_submodule(self, target):
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            if not hasattr(mod, item) or not isinstance(getattr(mod, item), Module):
                raise AttributeError(f"{type(mod).__name__} has no submodule `{item}`")
            mod = getattr(mod, item)
        return mod

    def get_parameter(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return mod._parameters[name]

    # ---- traversal ----
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        if memo is None:
            memo = set()
        if self in memo and remove_duplicate:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        # Duplicates are the same tensor, not the same Python object: a C++ module's parameter reached through two
        # wrapping modules (a shared encoder) comes back as two objects with one _impl_id.
        memo = {}  # identity -> object, kept alive so identities are not reused
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                key = getattr(v, "_impl_id", None) or id(v)
                if v is None or (remove_duplicate and key in memo):
                    continue
                if remove_duplicate:
                    memo[key] = v
                yield module_prefix + ("." if module_prefix else "") + k, v

    def _own_parameters(self):
        return list(self._parameters.items())

    def _own_buffers(self):
        return list(self._buffers.items())

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._own_parameters(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._own_buffers(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- mode, device, grads ----
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                with no_grad():
                    p.grad.zero_()

    def _apply(self, fn):
        for m in self.children():
            m._apply(fn)
        for key, p in list(self._parameters.items()):
            if p is None:
                continue
            with no_grad():
                new = fn(p)
            if new is p:
                continue
            newp = Parameter(new, p.requires_grad)
            if p.grad is not None:
                with no_grad():
                    newp.grad = fn(p.grad)
            self._parameters[key] = newp
        for key, b in list(self._buffers.items()):
            if b is not None:
                with no_grad():
                    self._buffers[key] = fn(b)
        return self

    def apply(self, fn):
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, _C.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            else:
                device = a
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")

        if device is not None and not isinstance(device, _C.device):
            device = _C.device(device)

        # A tensor already in place is kept as it is (the same object), so that an optimizer built
        # before .to() still holds the module's parameters, as in PyTorch.
        def convert(t):
            out = t
            if device is not None and out.device != device:
                out = out.to(device)
            if dtype is not None and out.is_floating_point() and out.dtype != dtype:
                out = out.to(dtype)
            return out

        return self._apply(convert)

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def cpu(self):
        return self.to("cpu")

    def float(self):
        return self._apply(lambda t: t.to(_C.float32) if t.is_floating_point() else t)

    def double(self):
        return self._apply(lambda t: t.to(_C.float64) if t.is_floating_point() else t)

    # ---- checkpoints ----
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._own_parameters():
            if p is not None:  # a lazy module's placeholder stays one (it has no values to save)
                destination[prefix + name] = p if keep_vars or _uninitialized(p) else p.detach()
        for name, b in self._own_buffers():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars or _uninitialized(b) else b.detach()

    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _load_targets(self, prefix, out):
        """(key, tensor) slots that load_state_dict copies into, in state_dict order."""
        for name, p in self._own_parameters():
            if p is not None:
                out.append((prefix + name, p))
        for name, b in self._own_buffers():
            if b is not None and name not in self._non_persistent_buffers_set:
                out.append((prefix + name, b))
        for name, module in self._modules.items():
            if module is not None:
                module._load_targets(prefix + name + ".", out)
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        for prefix, m in self.named_modules():
            if hasattr(m, "_materialize_from"):  # lazy modules take the checkpoint's shapes first
                m._materialize_from(prefix + "." if prefix else "", state_dict)
        targets = self._load_targets("", [])
        names = {k for k, _ in targets}
        missing = [k for k, _ in targets if k not in state_dict]
        unexpected = [k for k in state_dict.keys() if k not in names]
        errors = []
        for key, dst in targets:
            if key not in state_dict:
                continue
            src = state_dict[key]
            if not isinstance(src, Tensor):
                errors.append(
                    f'While copying the parameter named "{key}", expected Tensor as element in state_dict, but got {type(src)}.'
                )
            elif tuple(src.shape) != tuple(dst.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {src.shape} from checkpoint, "
                    f"the shape in current model is {dst.shape}."
                )
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__, "\n\t".join(errors))
            )
        with no_grad():
            for key, dst in targets:
                if key in state_dict:
                    dst.copy_(state_dict[key])
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing ----
    def extra_repr(self):
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for key, module in self._modules.items():
            lines.append("(" + key + "): " + _addindent(repr(module), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def num_parameters(self, trainable_only=False):
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def summary(self):
        """repr plus a parameter-count line."""
        n, t = self.num_parameters(), self.num_parameters(True)
        return repr(self) + f"\n# parameters: {n:,}" + (f" ({t:,} trainable)" if t != n else "")

    def __setstate__(self, state):
        self.__dict__.update(state)


class _IncompatibleKeys:
    def __init__(self, missing_keys, unexpected_keys):
        self.missing_keys = missing_keys
        self.unexpected_keys = unexpected_keys

    def __iter__(self):
        return iter((self.missing_keys, self.unexpected_keys))

    def __eq__(self, other):
        return tuple(self) == tuple(other)

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"
