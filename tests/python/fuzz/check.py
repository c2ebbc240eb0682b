"""One fuzz example and the property every call must satisfy.

Property: the call either returns what the reference expects (shape, dtype, values) or
raises a normal Python exception with a non-empty message; inputs hold what the snippet
says they hold; in-place ops leave their target as expected.
"""
import math
import warnings

import numpy as np

from .references import Expect, close, compare, loom_dtype_name
from .strategies import T

PRELUDE = "import loom\nimport loom.nn.functional as F\nimport numpy as np\nfrom math import nan, inf\n"

# failure kinds, most severe first (crash and hang come from the runner)
SEVERITY = ("crash", "hang", "abnormal-exception", "setup-mismatch", "wrong-dtype", "wrong-shape", "wrong-value",
            "raised-on-valid", "accepted-invalid", "missing-api")


class Example:
    def __init__(self, op, inputs, call, expect, tags=()):
        self.op = op
        self.inputs = inputs  # ordered {name: T or Raw-source string}
        self.call = call  # statements that leave the result in `r`
        self.expect = expect
        self.tags = set(tags)
        for v in inputs.values():
            if isinstance(v, T):
                self.tags |= v.tags

    def setup_lines(self):
        return ["%s = %s" % (n, v.expr if isinstance(v, T) else v) for n, v in self.inputs.items()]

    def snippet(self):
        return PRELUDE + "\n".join(self.setup_lines() + [self.call, "print(r)"]) + "\n"

    def size(self):
        return len(self.snippet())


class Failure:
    def __init__(self, kind, detail, subkey=""):
        self.op = None  # set when the failure belongs to another op than the example's
        self.kind = kind
        self.detail = detail
        self.subkey = subkey


def is_normal(exc, loom):
    """A user-facing exception of an expected type with a non-empty message."""
    normal = (TypeError, ValueError, IndexError, RuntimeError, NotImplementedError, OverflowError)
    if isinstance(exc, RecursionError) or not isinstance(exc, normal):
        return False
    return bool(str(exc).strip())


def namespace(loom):
    import loom.nn.functional as F

    return {"loom": loom, "F": F, "np": np, "nan": math.nan, "inf": math.inf}


def _verify_input(name, t, v, loom):
    if not isinstance(v, loom.Tensor):
        return "%s is %s, not a Tensor" % (name, type(v).__name__)
    d = loom_dtype_name(v)
    if d != t.dtype:
        return "%s has dtype %s, expected %s" % (name, d, t.dtype)
    if tuple(v.shape) != t.shape:
        return "%s has shape %s, expected %s" % (name, tuple(v.shape), t.shape)
    err = close(v.detach().cpu().contiguous().numpy(), t.arr, t.dtype, 0.0, 0.0)
    return err and "%s: %s" % (name, err)


def run_example(ex, loom):
    """Executes the example; returns None when the property holds, else a Failure."""
    ns = namespace(loom)
    exp = ex.expect
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            try:
                for line in ex.setup_lines():
                    exec(line, ns)
            except Exception as e:  # building the inputs is itself a loom API call
                return Failure("setup-mismatch", "building the inputs raised %s: %s" % (type(e).__name__, e), type(e).__name__)
            for name, t in ex.inputs.items():
                if isinstance(t, T):
                    err = _verify_input(name, t, ns[name], loom)
                    if err:
                        f = Failure("setup-mismatch", "%s = %s: %s" % (name, t.expr[:80], err),
                                    " ".join(sorted(t.tags & {"0d", "empty", "noncontig", "sliced", "expanded"}) + [t.dtype]))
                        f.op = "loom.tensor/views (building inputs)"
                        return f
            try:
                exec(ex.call, ns)
            except BaseException as e:  # noqa: B902 (anything escaping is what we judge)
                if isinstance(e, KeyboardInterrupt):
                    raise
                if isinstance(e, AttributeError) and ex.op.startswith("Tensor.") and ex.op.split(".")[1] in str(e):
                    return Failure("missing-api", "raised %s(%r)" % (type(e).__name__, str(e)), "AttributeError")
                if not is_normal(e, loom):
                    return Failure("abnormal-exception", "raised %s(%r)" % (type(e).__name__, str(e)), type(e).__name__)
                if exp.kind == Expect.VALUE:
                    return Failure("raised-on-valid", "raised %s: %s; expected to %s" % (type(e).__name__, str(e)[:300], exp.describe()), type(e).__name__)
                return None
            r = ns.get("r")
            if exp.kind == Expect.RAISES:
                return Failure("accepted-invalid", "returned %s; expected to %s" % (_short(r, loom), exp.describe()))
            if exp.check is not None:
                err = exp.check(r, ns)
            elif exp.kind in (Expect.VALUE, Expect.EITHER):
                err = compare(r, exp.value, exp.dtype, exp.rtol, exp.atol, loom.Tensor, exp.ignore)
            elif exp.dtype is not None and isinstance(r, loom.Tensor):
                err = None if loom_dtype_name(r) == exp.dtype else "dtype %s, expected %s" % (loom_dtype_name(r), exp.dtype)
            else:
                err = None
            if not err:
                for name, (arr, dtype) in exp.after.items():
                    err = compare(ns[name], arr, dtype, exp.rtol, exp.atol, loom.Tensor)
                    if err:
                        err = "after the call, %s: %s" % (name, err)
                        break
            if err:
                kind = "wrong-dtype" if "dtype" in err.split(",")[0] else "wrong-shape" if "shape" in err.split(",")[0] or "items" in err else "wrong-value"
                sub = err.split(",")[0] if kind == "wrong-dtype" else ""
                return Failure(kind, "%s; got %s" % (err, _short(r, loom)), sub)
    return None


def _short(r, loom):
    try:
        if isinstance(r, loom.Tensor):
            return "tensor %s dtype %s shape %s" % (np.array2string(r.detach().cpu().contiguous().numpy(), threshold=12, separator=", "),
                                                    loom_dtype_name(r), tuple(r.shape))
        if isinstance(r, (tuple, list)):
            return "%s(%s)" % (type(r).__name__, ", ".join(_short(x, loom) for x in r[:4]))
        return repr(r)[:200]
    except Exception as e:  # describing must never hide the failure itself
        return "<%s, unprintable: %s>" % (type(r).__name__, e)
