"""Public names found by introspection that no family claims: called with random arguments,
they get the "no crash, normal exception" property. SKIP lists the names never called, and why."""
import numpy as np
from hypothesis import strategies as st

from . import references as R
from . import strategies as S
from .check import Example
from .ops import OPS, register

# Names not fuzzed, with the reason (global state, files, object protocol).
SKIP = {
    "loom.save": "writes files", "loom.load": "reads files", "loom.set_num_threads": "global thread pool",
    "loom.manual_seed": "global RNG state", "loom.set_grad_enabled": "global grad mode",
    "loom.no_grad": "context manager", "loom.enable_grad": "context manager", "loom.inference_mode": "context manager",
    "F.set_conv_backend": "global backend choice", "loom.get_num_threads": "no arguments",
    "loom.initial_seed": "no arguments", "loom.is_grad_enabled": "no arguments", "loom.get_default_dtype": "no arguments",
    "F.cudnn_available": "no arguments", "F.get_conv_backend": "no arguments",
    "F.conv_cache_clear": "global autotuner cache", "loom.use_deterministic_algorithms": "global switch",
    "loom.are_deterministic_algorithms_enabled": "no arguments",
    "loom.set_default_dtype": "global default dtype", "loom.set_printoptions": "global print options",
    "loom.seed": "global RNG state", "loom.set_rng_state": "global RNG state", "loom.get_rng_state": "no arguments",
    "loom.set_anomaly_enabled": "global switch", "loom.is_anomaly_enabled": "no arguments",
    "loom.is_anomaly_check_nan_enabled": "no arguments",
    "loom.Tensor": "the class", "loom.Size": "the class", "loom.device": "the class", "loom.dtype": "the class",
    "loom.OutOfMemoryError": "the exception class",
    "Tensor.register_hook": "takes a callable", "Tensor.backward": "autograd (not in this fuzzer's scope)",
}
OBJECT_PROTOCOL = {"__class__", "__delattr__", "__dir__", "__doc__", "__getattribute__", "__init__", "__init_subclass__",
                   "__new__", "__reduce__", "__reduce_ex__", "__setattr__", "__sizeof__", "__subclasshook__",
                   "__getstate__", "__hash__", "__format__", "__array_priority__", "__dict__", "__module__",
                   "_pybind11_conduit_v1_", "__weakref__", "__eq__"}


def public_names():
    """Every public callable or attribute of loom, loom.Tensor and loom.nn.functional."""
    import loom
    import loom.nn.functional as F

    names = []
    for n in dir(loom):
        if n.startswith("_"):
            continue
        v = getattr(loom, n)
        if callable(v) and not isinstance(v, type(loom)) and not isinstance(v, loom.dtype):
            names.append("loom." + n)
    for n in dir(loom.Tensor):
        if n in OBJECT_PROTOCOL or (n.startswith("_") and not n.startswith("__")):
            continue
        names.append("Tensor." + n)
    for n in dir(F):
        if n.startswith("_") or not callable(getattr(F, n)) or isinstance(getattr(F, n), type(F)):
            continue
        names.append("F." + n)
    return sorted(set(names))


def _arg():
    return st.one_of(
        S.tensors(S.FLOATS, max_dims=4),
        S.tensors(),
        S.python_scalars(),
        st.sampled_from([None, -1, 0, 1, 2, 3, 2**40, -(2**40), (2, 3), [0, 1], "a", S.Raw("loom.float32"), S.Raw("loom.int64")]),
    )


ATTR_REF = {
    "T": lambda x: R.value(x.arr.T, x.dtype) if x.ndim <= 2 else R.either(R.value(x.arr.T, x.dtype)),
    "mT": lambda x: R.value(np.swapaxes(x.arr, -1, -2), x.dtype) if x.ndim >= 2 else R.raises("mT needs >= 2 dims"),
    "shape": lambda x: R.Expect(R.Expect.VALUE, check=lambda r, ns: None if tuple(r) == x.shape else "shape %s, expected %s" % (tuple(r), x.shape)),
    "dtype": lambda x: R.Expect(R.Expect.VALUE, check=lambda r, ns: None if str(r) == "loom." + x.dtype else "dtype %s, expected %s" % (r, x.dtype)),
    "is_contiguous": None,
}


@st.composite
def generic_examples(draw, op, is_attr):
    owner, name = op.split(".", 1)
    if owner == "Tensor" and is_attr:
        x = draw(S.tensors())
        ref = ATTR_REF.get(name)
        return Example(op, {"x": x}, "r = x.%s" % name, ref(x) if ref else R.anything())
    args = draw(st.lists(_arg(), max_size=3))
    inputs = {}
    srcs = []
    for k, a in enumerate(args):
        if isinstance(a, S.T):
            inputs["a%d" % k] = a
            srcs.append("a%d" % k)
        else:
            srcs.append(S.fmt(a))
    if owner == "Tensor":
        inputs = dict({"x": draw(S.tensors())}, **inputs)
        if name.startswith("__") and name.endswith("__"):
            call = "r = x.%s(%s)" % (name, ", ".join(srcs))
        else:
            call = "r = x.%s(%s)" % (name, ", ".join(srcs))
    else:
        call = "r = %s.%s(%s)" % ("loom" if owner == "loom" else "F", name, ", ".join(srcs))
    return Example(op, inputs, call, R.anything(why="no reference"))


def register_all():
    import loom

    for op in public_names():
        if op in OPS or op in SKIP:
            continue
        owner, name = op.split(".", 1)
        is_attr = owner == "Tensor" and not callable(getattr(loom.Tensor, name, None))
        register(op, generic_examples(op, is_attr), has_ref=name in ATTR_REF and ATTR_REF[name] is not None, family="generic")
