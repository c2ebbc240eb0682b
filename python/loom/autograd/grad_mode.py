"""Grad mode switches, usable as context managers and decorators."""
import functools
import inspect

from .. import _C


class _DecoratorContextManager:
    def __call__(self, fn):
        if inspect.isclass(fn):
            raise TypeError("grad mode decorators apply to functions, not classes")
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen(*args, **kwargs):
                g = fn(*args, **kwargs)
                with self.__class__._clone(self):
                    resp = g.send(None)
                while True:
                    try:
                        with self.__class__._clone(self):
                            msg = yield resp
                            resp = g.send(msg)
                    except StopIteration as e:
                        return e.value

            return gen

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__._clone(self):
                return fn(*args, **kwargs)

        return wrapper

    def _clone(self):
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """Also usable as a bare decorator: ``@loom.no_grad``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecoratorContextManager):
    """Disables gradient recording in its scope: ``with loom.no_grad():`` or ``@loom.no_grad()``."""

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


class enable_grad(_NoParamDecoratorContextManager):
    """Enables gradient recording in its scope (inside no_grad, for instance)."""

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(True)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


class set_grad_enabled(_DecoratorContextManager):
    """Sets grad mode on or off; takes effect immediately and also works as a context manager."""

    def __init__(self, mode):
        self.prev = _C.is_grad_enabled()
        self.mode = bool(mode)
        _C._set_grad_enabled(self.mode)

    def _clone(self):
        return self.__class__(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


class inference_mode(_DecoratorContextManager):
    """Like no_grad (loom has no separate inference tensors)."""

    def __init__(self, mode=True):
        self.mode = mode

    def _clone(self):
        return self.__class__(self.mode)

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(not self.mode and self.prev)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False
