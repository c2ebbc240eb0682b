"""Activation checkpointing, as torch.utils.checkpoint: run part of a model without keeping its
intermediate tensors, and compute them again during backward.

``checkpoint(fn, *args)`` runs ``fn`` under no_grad and keeps only its inputs (and the random generators'
state, so dropout draws the same masks again); backward runs ``fn`` once more with grad enabled and
backpropagates through that second graph, which also accumulates the gradients of the parameters ``fn``
uses into their ``.grad``. ``checkpoint_sequential`` checkpoints a Sequential in segments.

use_reentrant=True (the default when not given, with PyTorch's warning) behaves as PyTorch's reentrant
variant: when no input requires grad the output does not either. use_reentrant=False makes the output
require grad whenever grad mode is on, as PyTorch's non-reentrant variant, so parameters inside get their
gradients from a checkpoint on data inputs; both variants give parameters their gradients through an
inner backward, so ``loom.autograd.grad`` through a checkpoint returns the inputs' gradients, not the
parameters' (PyTorch's non-reentrant variant supports that, through saved-tensor hooks loom lacks).
"""
import warnings

from .. import _C
from .._C import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def _devices(args):
    from .. import cuda
    return ["cpu"] + (["cuda"] if cuda.is_available() and any(isinstance(a, Tensor) and a.is_cuda for a in args)
                      else [])


class _Checkpoint:
    """The autograd.Function doing the work (built on first use: loom.autograd imports late)."""
    fn = None


def _function():
    if _Checkpoint.fn is not None:
        return _Checkpoint.fn
    from ..autograd import Function, backward as autograd_backward
    from .. import enable_grad, no_grad

    class CheckpointFunction(Function):
        @staticmethod
        def forward(ctx, run, preserve_rng_state, anchor, *args):
            ctx.run, ctx.preserve = run, preserve_rng_state
            ctx.devices = _devices(args)
            if preserve_rng_state:
                ctx.rng = {d: _C._get_rng_state(d) for d in ctx.devices}
            ctx.positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
            ctx.others = [None if isinstance(a, Tensor) else a for a in args]
            ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
            with no_grad():
                return run(*args)

        @staticmethod
        def backward(ctx, *grads):
            args = list(ctx.others)
            tensors = []
            for pos, t in zip(ctx.positions, ctx.saved_tensors):
                x = t.detach().requires_grad_(t.requires_grad)
                args[pos] = x
                tensors.append(x)
            saved = {d: _C._get_rng_state(d) for d in ctx.devices}
            try:
                if ctx.preserve:
                    for d, (seed, offset) in ctx.rng.items():
                        _C._set_rng_state(d, seed, offset)
                with enable_grad():
                    out = ctx.run(*args)
            finally:
                for d, (seed, offset) in saved.items():
                    _C._set_rng_state(d, seed, offset)
            outs = out if isinstance(out, tuple) else (out,)
            pairs = [(o, g) for o, g in zip(outs, grads)
                     if isinstance(o, Tensor) and o.requires_grad and g is not None]
            if pairs:
                autograd_backward([o for o, _ in pairs], [g for _, g in pairs])
            arg_grads = [None] * len(ctx.others)
            for pos, x in zip(ctx.positions, tensors):
                arg_grads[pos] = x.grad if x.requires_grad else None
            return (None, None, None) + tuple(arg_grads)

    _Checkpoint.fn = CheckpointFunction
    return CheckpointFunction


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)`` without keeping its intermediate tensors; they are computed again
    during backward (see the module's docstring for the two variants)."""
    from .. import is_grad_enabled, ones
    if context_fn is not None:
        raise NotImplementedError("checkpoint(): context_fn is not supported")
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. In a "
                      "future release, calling checkpoint without use_reentrant will raise an exception. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default "
                      "behavior, you can pass use_reentrant=True.", UserWarning, stacklevel=2)
        use_reentrant = True
    if use_reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    run = function if not kwargs else (lambda *a: function(*a, **kwargs))
    if not is_grad_enabled():
        return run(*args)
    if use_reentrant:
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                          stacklevel=2)
        anchor = None
    else:
        anchor = ones((), requires_grad=True)  # the output then requires grad, so parameters inside get theirs
    return _function().apply(run, preserve_rng_state, anchor, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs ``functions`` (a Sequential or a list of modules / callables) in ``segments`` pieces, each but
    the last under checkpoint."""
    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential(): segments must be a positive int, got {segments!r}")

    def run_segment(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_segment(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run_segment(end + 1, len(functions) - 1)(input)
