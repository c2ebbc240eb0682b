"""loom: a C++17/CUDA deep-learning framework with PyTorch's Python API.

Port a PyTorch script by changing ``import torch`` to ``import loom``.
"""
from ._extension import load as _load_extension

_C = _load_extension()  # the extension of one named build: see _extension.py
del _load_extension
from ._C import (  # noqa: F401,E402
    Tensor,
    device,
    dtype,
    bool,
    int32,
    int64,
    float32,
    float64,
    OutOfMemoryError,
    Generator,
    from_numpy,
    from_dlpack,
    to_dlpack,
    cat,
    concat,
    stack,
    where,
    matmul,
    is_grad_enabled,
    manual_seed,
    initial_seed,
    set_num_threads,
    get_num_threads,
    broadcast_shapes,
    use_deterministic_algorithms,
    are_deterministic_algorithms_enabled,
)
from ._size import Size

_C._set_size_class(Size)

float = float32
double = float64
int = int32
long = int64

from ._tensor import _install as _install_tensor_methods  # noqa: E402

_install_tensor_methods()
del _install_tensor_methods

from .autograd.grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode  # noqa: E402,F401
from ._factories import (  # noqa: E402,F401
    tensor,
    as_tensor,
    asarray,
    zeros,
    ones,
    full,
    empty,
    arange,
    linspace,
    eye,
    rand,
    randn,
    randint,
    randperm,
    zeros_like,
    ones_like,
    full_like,
    empty_like,
    rand_like,
    randn_like,
    scalar_tensor,
    layout,
    strided,
)
from ._composite import install as _install_composite  # noqa: E402

_install_composite()
del _install_composite
from ._composite import atleast_1d, atleast_2d, atleast_3d, hstack, vstack, dstack, column_stack, meshgrid  # noqa: E402,F401,E501
from ._composite import searchsorted, bucketize  # noqa: E402,F401
from ._einsum import einsum  # noqa: E402,F401
from ._functions import *  # noqa: E402,F401,F403
from ._functions import __all__ as _function_names  # noqa: E402
from . import _composite_math, _composite_shapes, _composite_more, _dtypes, _sampling, _inplace  # noqa: E402

for _m in (_composite_math, _composite_shapes, _composite_more, _dtypes, _sampling):
    _m.install(globals())
_inplace.install()  # after every out-of-place method it wraps
del _m
from . import autograd, cuda, backends, nn, optim, multimodal  # noqa: E402,F401
from . import profiler  # noqa: E402,F401
from . import linalg, special, distributions, func  # noqa: E402,F401
from . import _linalg_ops  # noqa: E402

_linalg_ops.install(globals())  # loom.det, loom.inverse, Tensor.cholesky, ... (torch.* forms)
from . import _linalg_lu  # noqa: E402

_linalg_lu.install(globals())  # loom.lu, loom.lu_solve, loom.lu_unpack, loom.geqrf, loom.orgqr, loom.ormqr
from . import random, testing, signal  # noqa: E402,F401  (torch.random, torch.testing, torch.signal)
from . import _toplevel  # noqa: E402

_toplevel.install(globals())  # torch.batch_norm, torch.gradient, loom.inf, loom.seed, ... (PyTorch's signatures)
from . import _tensor_compat  # noqa: E402

_tensor_compat.install(globals())  # Tensor.is_sparse / layout / ..., empty_strided, as_strided, unsafe_split
from . import io  # noqa: E402,F401  (image files: read_image, write_png)
from . import utils  # noqa: E402,F401  (loom.utils.data: Dataset, DataLoader)
from . import training  # noqa: E402,F401  (Trainer: fit, evaluate, predict)
from .nn.functional import one_hot  # noqa: E402,F401

# torch.<f> for the functional ops PyTorch also has at the top level with loom.nn.functional's signature
for _name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "cosine_similarity", "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
              "selu", "celu", "threshold", "prelu", "rrelu", "hardshrink", "layer_norm", "group_norm", "rms_norm",
              "dropout", "alpha_dropout", "feature_alpha_dropout", "avg_pool1d", "max_pool1d", "max_pool2d",
              "max_pool3d", "adaptive_avg_pool1d", "bilinear", "selu_", "celu_", "threshold_", "rrelu_",
              "dropout_", "alpha_dropout_", "feature_alpha_dropout_"):
    if hasattr(nn.functional, _name):
        globals()[_name] = getattr(nn.functional, _name)
del _name
from ._C._functional._serialization import save, load  # noqa: E402,F401  (safetensors checkpoints)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def get_default_dtype():
    """The dtype of floating tensors made without one: loom.float32 unless set_default_dtype changed it."""
    return _C._default_dtype()


def set_default_dtype(d):
    """Makes ``d`` (loom.float32 or loom.float64) the dtype of floating tensors made without one: factories,
    Python floats in ``tensor()`` and in arithmetic with integer tensors, integer inputs of float-only ops and
    the parameters of modules built afterwards. A process-wide setting, as in PyTorch."""
    if not isinstance(d, dtype):
        raise TypeError(f"set_default_dtype(): argument 'd' must be a loom.dtype, not {type(d).__name__}")
    _C._set_default_dtype(d)


__version__ = "0.1.0"
