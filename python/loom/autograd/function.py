"""Custom differentiable functions written in Python (torch.autograd.Function).

    class Exp(loom.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

forward runs with grad mode off. backward receives one gradient per forward
output and returns one per forward argument (None for non-tensors or inputs
that need none). The C++ node calls backward with the GIL held.
"""
from .. import _C
from .._C import Tensor


class FunctionCtx:
    """The ``ctx`` of a Function: saved tensors, flags, and any attribute you set."""

    def __init__(self):
        self._to_save = None
        self._saved = None
        self._non_differentiable = None
        self._materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors, but argument {type(t).__name__} was given")
        self._to_save = tensors

    @property
    def saved_tensors(self):
        if self._saved is None:
            if self._to_save is not None:  # inside forward, or a function that did not need grad
                return tuple(self._to_save)
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after they "
                "have already been freed). Saved intermediate values of the graph are freed when you call "
                ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
                "graph a second time or if you need to access saved tensors after calling backward.")
        return self._saved

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self._materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        pass


class Function:
    """Base class for custom autograd functions; subclass and define forward/backward."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Function subclasses are not instantiated: call YourFunction.apply(...)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not overridden")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        separate_setup = cls.setup_context is not Function.setup_context
        prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)
        try:
            if separate_setup:
                outputs = cls.forward(*args)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args)
        finally:
            _C._set_grad_enabled(prev)
        return _C._wire_function(cls, ctx, args, outputs)
