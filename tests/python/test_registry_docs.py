"""The hand-written bindings (python/src/<family>.cpp) carry the registry's docstring (registry_doc of the
generated python/ops_docs.h): each Python object bound for a manual op of core/ops.toml has the op's doc line."""
import tomllib
from pathlib import Path

import pytest

import loom
import loom.nn.functional as F

_OPS = Path(__file__).resolve().parents[2] / "core" / "ops.toml"

with open(_OPS, "rb") as _f:
    REGISTRY = {op["name"]: op for op in tomllib.load(_f)["op"] if "name" in op}

_C = loom._C
_native = loom._C._functional  # private bindings stay there (loom.nn.functional re-exports public names only)
Tensor = loom.Tensor

# (python object, registry op): every def bound by hand for an op of the registry.
DOCUMENTED = [
    # view
    (Tensor.view, "view"),
    (Tensor.reshape, "reshape"),
    (Tensor.permute, "permute"),
    (Tensor.narrow, "narrow"),
    (Tensor.__getitem__, "slice"),
    (Tensor.select, "select"),
    (Tensor.expand, "expand"),
    (Tensor.squeeze, "squeeze"),
    (Tensor.unsqueeze, "unsqueeze"),
    (Tensor.as_strided, "as_strided"),
    # copy
    (Tensor.contiguous, "contiguous"),
    (Tensor.to, "to_dtype"),
    (Tensor.to, "to_device"),
    (Tensor.clone, "clone"),
    (Tensor.flip, "flip"),
    (loom.flip, "flip"),
    (Tensor.copy_, "copy_"),
    (Tensor.fill_, "fill_"),
    (loom.cat, "cat"),
    (loom.concat, "cat"),
    (loom.stack, "stack"),
    (loom._C._searchsorted, "searchsorted"),
    # pointwise
    (Tensor.add, "add"),
    (Tensor.sub, "sub"),
    (Tensor.mul, "mul"),
    (Tensor.div, "div"),
    (Tensor.true_divide, "div"),
    (Tensor.pow, "pow"),
    (Tensor.floor_divide, "floor_divide"),
    (Tensor.remainder, "remainder"),
    (Tensor.fmod, "fmod"),
    (Tensor.eq, "compare"),
    (Tensor.ne, "compare"),
    (Tensor.lt, "compare"),
    (Tensor.le, "compare"),
    (Tensor.gt, "compare"),
    (Tensor.ge, "compare"),
    (Tensor.where, "where"),
    (loom.where, "where"),
    (Tensor.clamp, "clamp"),
    (Tensor.lerp, "lerp"),
    (Tensor.addcmul, "addcmul"),
    (Tensor.addcdiv, "addcdiv"),
    (Tensor.tril, "tril"),
    (Tensor.triu, "triu"),
    (Tensor.clip, "clamp"),
    (Tensor.masked_fill, "masked_fill"),
    (Tensor.bitwise_and, "bitwise_and"),
    (Tensor.bitwise_or, "bitwise_or"),
    (Tensor.bitwise_xor, "bitwise_xor"),
    (Tensor.bitwise_left_shift, "bitwise_left_shift"),
    (Tensor.bitwise_right_shift, "bitwise_right_shift"),
    (Tensor.bitwise_not, "bitwise_not"),
    # reduce
    (Tensor.sum, "sum"),
    (Tensor.mean, "mean"),
    (Tensor.prod, "prod"),
    (Tensor.amax, "amax"),
    (Tensor.amin, "amin"),
    (Tensor.max, "max_dim"),
    (Tensor.min, "min_dim"),
    (Tensor.argmax, "argmax"),
    (Tensor.argmin, "argmin"),
    (Tensor.var, "var"),
    (Tensor.std, "std"),
    (Tensor.norm, "norm"),
    (Tensor.logsumexp, "logsumexp"),
    (Tensor.cumsum, "cumsum"),
    (Tensor.cumprod, "cumprod"),
    (Tensor.cummax, "cummax"),
    (Tensor.cummin, "cummin"),
    (Tensor.logcumsumexp, "logcumsumexp"),
    (Tensor.sort, "sort"),
    (Tensor.argsort, "argsort"),
    (Tensor.topk, "topk"),
    # matmul, softmax, index
    (Tensor.matmul, "matmul"),
    (loom.matmul, "matmul"),
    (Tensor.softmax, "softmax"),
    (Tensor.log_softmax, "log_softmax"),
    (Tensor.index_select, "index_select"),
    (Tensor.gather, "gather"),
    (Tensor.scatter_add, "scatter_add"),
    (Tensor.scatter_reduce, "scatter_reduce"),
    (Tensor.index_add, "index_add"),
    (Tensor.index_copy, "index_copy"),
    (Tensor.index_fill, "index_fill"),
    (Tensor.nonzero, "nonzero"),
    (_C.one_hot, "one_hot"),
    # random and factories: the bindings behind loom.rand, ... (python/loom/_factories.py)
    (_C._rand, "rand"),
    (_C._randn, "randn"),
    (_C._randint, "randint"),
    (_C._arange, "arange"),
    (_C._linspace, "linspace"),
    # nn.functional
    (F.conv2d, "conv2d"),
    (F.conv_transpose2d, "conv_transpose2d"),
    (F.conv3d, "conv3d"),
    (F.conv_transpose3d, "conv_transpose3d"),
    (F.max_pool2d, "max_pool2d"),
    (F.avg_pool2d, "avg_pool2d"),
    (F.adaptive_avg_pool2d, "adaptive_avg_pool2d"),
    (F.adaptive_max_pool2d, "adaptive_max_pool2d"),
    (F.max_pool3d, "max_pool3d"),
    (F.avg_pool3d, "avg_pool3d"),
    (F.lstm_cell, "lstm_cell"),
    (_native._lstm, "lstm"),
    (F.gru_cell, "gru_cell"),
    (_native._gru, "gru"),
    (F.rnn_tanh_cell, "rnn_tanh_cell"),
    (_native._rnn_tanh, "rnn_tanh"),
    (F.rnn_relu_cell, "rnn_relu_cell"),
    (_native._rnn_relu, "rnn_relu"),
    (_native._upsample_nearest2d, "upsample_nearest2d"),
    (_native._upsample_bilinear2d, "upsample_bilinear2d"),
    (_native._upsample_bicubic2d, "upsample_bicubic2d"),
    (_native._pad, "pad"),
    (F.grid_sample, "grid_sample"),
    (F.affine_grid, "affine_grid"),
    (F.scaled_dot_product_attention, "attention"),
    (F.layer_norm, "layer_norm"),
    (F.group_norm, "group_norm"),
    (F.batch_norm, "batch_norm"),
    (F.cross_entropy, "cross_entropy"),
    (F.nll_loss, "nll_loss"),
    (F.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits"),
    (F.huber_loss, "huber_loss"),
    (F.smooth_l1_loss, "smooth_l1_loss"),
    (F.ctc_loss, "ctc_loss"),
    (F.embedding_bag, "embedding_bag"),
    (F.embedding, "embedding"),
    (F.dropout, "dropout"),
    (_native._sgd_step_, "optim_step"),
    (_native._adam_step_, "optim_step"),
    (F.gated_fusion, "gated_fusion"),
    (F.film, "film"),
    (F.linear2, "linear2"),
    (F.bilinear_pool, "bilinear_pool"),
    (F.clip_loss, "clip_loss"),
    (F.linear, "linear"),
    # activation
    (_native.leaky_relu, "leaky_relu"),
    (_native.elu, "elu"),
    (_native.celu, "celu"),
    (_native.selu, "selu"),
    (_native.softplus, "softplus"),
    (_native.hardtanh, "hardtanh"),
    (_native.hardsigmoid, "hardsigmoid"),
    (_native.hardswish, "hardswish"),
    (_native.mish, "mish"),
    (_native.logsigmoid, "logsigmoid"),
    (_native.softsign, "softsign"),
    (_native.tanhshrink, "tanhshrink"),
    (_native.threshold, "threshold"),
    (_native.nan_to_num, "nan_to_num"),
    (_native.hardshrink, "hardshrink"),
    (_native.softshrink, "softshrink"),
]


def _id(pair):
    obj, op = pair
    owner = "Tensor." if getattr(Tensor, obj.__name__, None) is obj else ""
    return f"{owner}{obj.__name__}-{op}"


@pytest.mark.parametrize("obj,op", DOCUMENTED, ids=[_id(p) for p in DOCUMENTED])
def test_binding_has_the_registry_doc(obj, op):
    assert obj.__doc__ is not None, f"{obj.__name__} has no docstring"
    assert REGISTRY[op]["doc"] in obj.__doc__


def test_every_manual_op_is_documented():
    manual = {name for name, op in REGISTRY.items() if op.get("binding") == "manual"}
    covered = {op for _, op in DOCUMENTED}
    assert manual - covered == set()
    assert covered - manual == set()


# The wrappers written in Python over those bindings carry the registry's docstring too.
PYTHON_WRAPPERS = [
    (loom.rand, "rand"),
    (loom.randn, "randn"),
    (loom.randint, "randint"),
    (loom.arange, "arange"),
    (loom.linspace, "linspace"),
    (loom.sum, "sum"),
    (loom.max, "max_dim"),
    (loom.softmax, "softmax"),
    (loom.clamp, "clamp"),
    (loom.reshape, "reshape"),
    (loom.one_hot, "one_hot"),
    (F.one_hot, "one_hot"),
    (F.softmax, "softmax"),
    (F.log_softmax, "log_softmax"),
    (F.leaky_relu, "leaky_relu"),
    (F.elu, "elu"),
    (F.celu, "celu"),
    (F.selu, "selu"),
    (F.softplus, "softplus"),
    (F.hardtanh, "hardtanh"),
    (F.hardsigmoid, "hardsigmoid"),
    (F.hardswish, "hardswish"),
    (F.mish, "mish"),
    (F.logsigmoid, "logsigmoid"),
    (F.softsign, "softsign"),
    (F.tanhshrink, "tanhshrink"),
    (F.threshold, "threshold"),
    (F.hardshrink, "hardshrink"),
    (F.softshrink, "softshrink"),
    (loom.nan_to_num, "nan_to_num"),
    (loom.Tensor.nan_to_num, "nan_to_num"),
]


@pytest.mark.parametrize("obj,op", PYTHON_WRAPPERS, ids=[f"{o.__name__}-{op}" for o, op in PYTHON_WRAPPERS])
def test_python_wrapper_has_the_registry_doc(obj, op):
    assert obj.__doc__ is not None and REGISTRY[op]["doc"] in obj.__doc__


def test_registry_docs_cover_every_described_op():
    assert set(_C._registry_docs) == set(REGISTRY)
    assert all(REGISTRY[name]["doc"] in doc for name, doc in _C._registry_docs.items())
