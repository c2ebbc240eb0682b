"""Hook handles and the machinery of a module's full backward hooks, as torch.utils.hooks.

RemovableHandle removes a hook from the dictionaries it was registered in. BackwardHook wraps a module
call: the tensors going in and coming out pass through identity autograd functions, so that when the
gradients of the outputs arrive the backward pre-hooks run (and may replace them), and when the gradients
of the inputs are ready the backward hooks run with (grad_input, grad_output) (and may replace grad_input).
"""
import itertools
import weakref
from collections import OrderedDict

from .._C import Tensor

__all__ = ["RemovableHandle", "BackwardHook"]


class RemovableHandle:
    """A handle returned by register_*_hook: remove() unregisters the hook (also on leaving a with block)."""

    _ids = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._ids)
        if extra_dict is None:
            extra_dict = []
        elif isinstance(extra_dict, (dict, set)):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) if isinstance(d, dict) else d for d in extra_dict)

    def remove(self):
        hooks = self.hooks_dict_ref()
        if hooks is not None and self.id in hooks:
            del hooks[self.id]
        for ref in self.extra_dict_ref:
            d = ref() if isinstance(ref, weakref.ref) else ref
            if d is not None:
                d.discard(self.id) if isinstance(d, set) else d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _Identity:
    """Builds the identity autograd function whose backward calls a Python callback (lazily: the autograd
    module imports this one)."""
    cls = None

    @classmethod
    def get(cls):
        if cls.cls is None:
            from ..autograd.function import Function

            class BackwardHookFunction(Function):
                @staticmethod
                def forward(ctx, callback, *tensors):
                    ctx.callback = callback
                    outs = tuple(t.view_as(t) for t in tensors)
                    return outs if len(outs) > 1 else outs[0]

                @staticmethod
                def backward(ctx, *grads):
                    new = ctx.callback(grads)
                    return (None,) + tuple(new if new is not None else grads)

            cls.cls = BackwardHookFunction
        return cls.cls


def _replacement(out, current, what):
    """A hook's result: None keeps current, else a tuple of the same length replaces it."""
    if out is None:
        return current
    out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if len(out) != len(current):
        raise RuntimeError(f"Backward {what} returned an invalid number of grad_{'output' if 'pre' in what else 'input'}"
                           f", got {len(out)}, but expected {len(current)}")
    return out


def _grad_needed(tensors):
    from .. import _C
    return _C.is_grad_enabled() and any(t.requires_grad for t in tensors)


class BackwardHook:
    """One module call's full backward hooks (see the module docstring)."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_positions = []
        self.inputs_wired = False

    def _run_hooks(self, grad_input):
        result = tuple(grad_input)
        for hook in self.user_hooks:
            result = _replacement(hook(self.module, result, self.grad_outputs), result, "hook")
        return result

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        self.input_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in self.input_positions]
        if not tensors or not _grad_needed(tensors):
            return args
        self.inputs_wired = True
        requires = [t.requires_grad for t in tensors]

        def on_input_grads(grads):
            full = [None] * self.n_inputs
            for pos, g, r in zip(self.input_positions, grads, requires):
                full[pos] = g if r else None
            result = self._run_hooks(full)
            return tuple(result[pos] if r else g for pos, g, r in zip(self.input_positions, grads, requires))

        wired = _Identity.get().apply(on_input_grads, *tensors)
        wired = wired if isinstance(wired, tuple) else (wired,)
        out = list(args)
        for pos, t in zip(self.input_positions, wired):
            out[pos] = t
        return tuple(out)

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        items = list(result) if is_tuple else [result]
        positions = [i for i, r in enumerate(items) if isinstance(r, Tensor)]
        tensors = [items[i] for i in positions]
        if not tensors or not _grad_needed(tensors):
            return result

        def on_output_grads(grads):
            grads = tuple(grads)
            for hook in self.user_pre_hooks:
                grads = _replacement(hook(self.module, grads), grads, "pre hook")
            self.grad_outputs = grads
            if not self.inputs_wired:  # no input needs a gradient: the hooks run now, with grad_input all None
                self._run_hooks([None] * self.n_inputs)
            return grads

        wired = _Identity.get().apply(on_output_grads, *tensors)
        wired = wired if isinstance(wired, tuple) else (wired,)
        for pos, t in zip(positions, wired):
            items[pos] = t
        return tuple(items) if is_tuple else items[0]


def new_hook_dict():
    return OrderedDict()
