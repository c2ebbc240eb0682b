"""Anomaly detection for the autograd engine, as ``torch.autograd.detect_anomaly``.

While it is on, each backward node remembers the Python stack of the forward call that made it; a
backward that fails then warns ``Error detected in <Node>. Traceback of forward call that caused the
error: ...`` before its exception propagates, and (``check_nan=True``) a backward that returns a NaN
raises ``RuntimeError: Function '<Node>' returned nan values in its <i>th output.`` It slows every op
(the stack is recorded for each node) and synchronizes after each backward node: for debugging only.
"""
import os
import traceback
import warnings

from .. import _C

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "set_anomaly_enabled"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _capture():
    frames = [f for f in traceback.extract_stack()[:-1] if not os.path.abspath(f.filename).startswith(_PACKAGE)]
    return "".join(traceback.format_list(frames))


def _report(name, trace):
    if trace:
        text = f"Error detected in {name}. Traceback of forward call that caused the error:\n{trace}"
    else:
        text = (f"Error detected in {name}. No forward pass information available. Enable detect anomaly "
                "during forward pass for more information.")
    warnings.warn(text, UserWarning, stacklevel=2)


_C._set_anomaly_hooks(_capture, _report)


def is_anomaly_enabled():
    return _C._is_anomaly_enabled()


def is_anomaly_check_nan_enabled():
    return _C._is_anomaly_check_nan_enabled()


def set_anomaly_enabled(enabled, check_nan=True):
    _C._set_anomaly_enabled(bool(enabled), bool(check_nan))


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on for its block."""

    def __init__(self, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only "
                      "be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapped


class set_detect_anomaly:
    """Turns anomaly detection on or off: at once when called, back to what it was as a context manager."""

    def __init__(self, mode, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)

    def clone(self):
        return self.__class__(is_anomaly_enabled(), is_anomaly_check_nan_enabled())
