"""The module database: one ModuleInfo per module class exported by loom.nn.modules (and so by loom.nn).

test_module_harness.py runs the same checks on every entry (construction, forward, finite output,
backward to every parameter, state_dict round trip, float64, repr, unique parameters, deepcopy), so a
new module needs its class (listed in its file's __all__) and one entry here. An exported name that
is not a module to test goes in SKIPS with the reason.

An entry gives:
  - args / kwargs: the constructor arguments; args may be a callable returning the tuple, for
    arguments that must be fresh objects for every instance (TransformerEncoder's encoder_layer).
  - input_shapes: one standard-normal tensor of `dtype` per shape; or inputs: a factory
    inputs(rng, dtype) -> tuple of tensors (rng: a numpy Generator) for anything else.
  - flags, each checked against the module:
      has_parameters     parameters() is not empty
      train_eval_differ  forward in train() and eval() differ (dropout, batch statistics); when
                         False they must agree
      integer_input      an input of the module (not a loss target) is an integer tensor (indices)
      returns_tuple      forward returns a tuple (its tensors are flattened, None entries skipped)
      loss               forward takes (input, ..., target): the last input is the target, which
                         gets no gradient, and the output is a 0-d tensor (reduction="mean")
  - double_rtol / double_atol: how close the float64 forward is to the float32 one.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

import loom
from loom import nn

from _helpers import T


def _np_dtype(dtype):
    return {loom.float32: np.float32, loom.float64: np.float64}[dtype]


def randn(rng, dtype, *shape):
    return T(rng.standard_normal(shape).astype(_np_dtype(dtype)))


def uniform(rng, dtype, low, high, *shape):
    return T(rng.uniform(low, high, shape).astype(_np_dtype(dtype)))


def randint(rng, high, *shape):
    return T(rng.integers(0, high, shape).astype(np.int64))


def log_probs(rng, dtype, *shape):
    x = rng.standard_normal(shape)
    x = x - np.log(np.exp(x).sum(-1, keepdims=True))
    return T(x.astype(_np_dtype(dtype)))


@dataclass
class ModuleInfo:
    name: str
    args: object = ()
    kwargs: dict = field(default_factory=dict)
    input_shapes: Sequence[tuple] = ()
    inputs: Optional[Callable] = None
    dtype: object = loom.float32
    has_parameters: bool = False
    train_eval_differ: bool = False
    integer_input: bool = False
    returns_tuple: bool = False
    loss: bool = False
    double_rtol: float = 1e-4
    double_atol: float = 1e-5

    @property
    def cls(self):
        return getattr(nn.modules, self.name)

    def make(self):
        args = self.args() if callable(self.args) else self.args
        module = self.cls(*args, **self.kwargs)
        return module if self.dtype == loom.float32 else module.to(self.dtype)

    def sample(self, rng):
        """The forward arguments, as a tuple of tensors."""
        if self.inputs is not None:
            return tuple(self.inputs(rng, self.dtype))
        return tuple(randn(rng, self.dtype, *shape) for shape in self.input_shapes)


def _loss(name, inputs, **kw):
    return ModuleInfo(name, inputs=inputs, loss=True, **kw)


def _pair(rng, dtype):
    return randn(rng, dtype, 3, 4), randn(rng, dtype, 3, 4)


def _classes(rng, dtype):
    return randn(rng, dtype, 3, 5), randint(rng, 5, 3)


def signs(rng, dtype, *shape):
    return T(np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(_np_dtype(dtype)))


def _pooled(rng, dtype, dims):
    """max_pool{dims}d's values and indices of a random input (MaxUnpool's inputs)."""
    import loom.nn.functional as F
    x = randn(rng, dtype, 2, 3, *([6] * dims))
    pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[dims]
    return pool(x, 2, return_indices=True)


def _triplet(rng, dtype):
    return randn(rng, dtype, 3, 4), randn(rng, dtype, 3, 4), randn(rng, dtype, 3, 4)


def _encoder_args():
    return nn.TransformerEncoderLayer(8, 2, dim_feedforward=16), 2


def _decoder_args():
    return nn.TransformerDecoderLayer(8, 2, dim_feedforward=16), 2


_ENTRIES = [
    # linear.py
    ModuleInfo("Identity", input_shapes=[(2, 3)]),
    ModuleInfo("Linear", args=(4, 3), input_shapes=[(2, 4)], has_parameters=True),
    ModuleInfo("Bilinear", args=(3, 4, 2), input_shapes=[(2, 3), (2, 4)], has_parameters=True),
    ModuleInfo("Flatten", input_shapes=[(2, 3, 4)]),
    # padding.py
    ModuleInfo("ConstantPad1d", args=((1, 2), 3.5), input_shapes=[(2, 3, 4)]),
    ModuleInfo("ConstantPad2d", args=(1, -1.0), input_shapes=[(2, 3, 4)]),
    ModuleInfo("ConstantPad3d", args=((1, 0, 0, 1, 2, 0),), input_shapes=[(2, 3, 4, 5)]),
    ModuleInfo("ZeroPad1d", args=(2,), input_shapes=[(2, 3, 4)]),
    ModuleInfo("ZeroPad2d", args=((1, 0, 2, 1),), input_shapes=[(2, 3, 4)]),
    ModuleInfo("ZeroPad3d", args=(1,), input_shapes=[(2, 3, 4, 5)]),
    ModuleInfo("ReflectionPad1d", args=(2,), input_shapes=[(2, 3, 4)]),
    ModuleInfo("ReflectionPad2d", args=((1, 2, 2, 1),), input_shapes=[(2, 3, 4, 5)]),
    ModuleInfo("ReflectionPad3d", args=(1,), input_shapes=[(1, 2, 3, 4, 5)]),
    ModuleInfo("ReplicationPad1d", args=((3, 1),), input_shapes=[(2, 3, 4)]),
    ModuleInfo("ReplicationPad2d", args=(2,), input_shapes=[(2, 3, 4, 5)]),
    ModuleInfo("ReplicationPad3d", args=(1,), input_shapes=[(1, 2, 3, 4, 5)]),
    ModuleInfo("CircularPad1d", args=(2,), input_shapes=[(2, 3, 4)]),
    ModuleInfo("CircularPad2d", args=((1, 2, 0, 3),), input_shapes=[(2, 3, 4, 5)]),
    ModuleInfo("CircularPad3d", args=(1,), input_shapes=[(1, 2, 3, 4, 5)]),
    # conv.py (transposed)
    ModuleInfo("ConvTranspose1d", args=(4, 6, 3), kwargs={"stride": 2, "output_padding": 1, "groups": 2},
               input_shapes=[(2, 4, 5)], has_parameters=True),
    ModuleInfo("ConvTranspose2d", args=(3, 4, (3, 2)), kwargs={"stride": (2, 1), "padding": 1},
               input_shapes=[(2, 3, 4, 5)], has_parameters=True),
    # fold.py
    ModuleInfo("Unfold", args=((2, 3),), kwargs={"padding": 1, "stride": (1, 2)}, input_shapes=[(2, 3, 4, 5)]),
    ModuleInfo("Fold", args=((4, 5), (2, 3)), kwargs={"padding": 1, "stride": (1, 2)}, input_shapes=[(2, 18, 15)]),
    # normalization.py (GroupNorm)
    ModuleInfo("GroupNorm", args=(2, 6), input_shapes=[(3, 6, 4, 5)], has_parameters=True),
    # upsampling.py
    ModuleInfo("Upsample", kwargs={"scale_factor": 1.5, "mode": "bilinear"}, input_shapes=[(2, 3, 4, 5)]),
    ModuleInfo("UpsamplingNearest2d", kwargs={"size": (5, 3)}, input_shapes=[(2, 3, 4, 5)]),
    ModuleInfo("UpsamplingBilinear2d", kwargs={"scale_factor": 2}, input_shapes=[(1, 2, 3, 4)]),
    ModuleInfo("Unflatten", args=(1, (2, 2)), input_shapes=[(3, 4)]),
    # activation.py
    ModuleInfo("ReLU", input_shapes=[(2, 3, 4)]),
    ModuleInfo("GELU", input_shapes=[(2, 3, 4)]),
    ModuleInfo("SiLU", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Sigmoid", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Tanh", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Softmax", kwargs=dict(dim=1), input_shapes=[(2, 5)]),
    ModuleInfo("LogSoftmax", kwargs=dict(dim=1), input_shapes=[(2, 5)]),
    ModuleInfo("Hardtanh", kwargs=dict(min_val=-0.5, max_val=1.0), input_shapes=[(2, 3, 4)]),
    ModuleInfo("ReLU6", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Softmin", kwargs=dict(dim=1), input_shapes=[(2, 3, 4)]),
    ModuleInfo("LeakyReLU", kwargs=dict(negative_slope=0.2), input_shapes=[(2, 3, 4)]),
    ModuleInfo("ELU", kwargs=dict(alpha=0.5), input_shapes=[(2, 3, 4)]),
    ModuleInfo("CELU", kwargs=dict(alpha=2.0), input_shapes=[(2, 3, 4)]),
    ModuleInfo("SELU", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Softplus", kwargs=dict(beta=2.0, threshold=10.0), input_shapes=[(2, 3, 4)]),
    ModuleInfo("Hardsigmoid", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Hardswish", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Mish", input_shapes=[(2, 3, 4)]),
    ModuleInfo("LogSigmoid", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Softsign", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Tanhshrink", input_shapes=[(2, 3, 4)]),
    ModuleInfo("Threshold", args=(0.1, 20.0), input_shapes=[(2, 3, 4)]),
    ModuleInfo("Hardshrink", kwargs=dict(lambd=0.3), input_shapes=[(2, 3, 4)]),
    ModuleInfo("Softshrink", kwargs=dict(lambd=0.3), input_shapes=[(2, 3, 4)]),
    ModuleInfo("GLU", kwargs=dict(dim=1), input_shapes=[(2, 4, 3)]),
    ModuleInfo("PReLU", args=(3,), input_shapes=[(2, 3, 4)], has_parameters=True),
    ModuleInfo("Softmax2d", input_shapes=[(2, 3, 4, 4)]),
    ModuleInfo("RReLU", input_shapes=[(2, 3, 4)], train_eval_differ=True),
    # dropout.py
    ModuleInfo("Dropout", kwargs=dict(p=0.5), input_shapes=[(4, 5)], train_eval_differ=True),
    ModuleInfo("Dropout1d", kwargs=dict(p=0.5), input_shapes=[(4, 8, 5)], train_eval_differ=True),
    ModuleInfo("Dropout2d", kwargs=dict(p=0.5), input_shapes=[(4, 8, 3, 3)], train_eval_differ=True),
    ModuleInfo("Dropout3d", kwargs=dict(p=0.5), input_shapes=[(4, 8, 2, 3, 2)], train_eval_differ=True),
    ModuleInfo("AlphaDropout", kwargs=dict(p=0.5), input_shapes=[(4, 5)], train_eval_differ=True),
    ModuleInfo("FeatureAlphaDropout", kwargs=dict(p=0.5), input_shapes=[(4, 8, 3)], train_eval_differ=True),
    # pixelshuffle.py
    ModuleInfo("PixelShuffle", args=(2,), input_shapes=[(2, 8, 3, 3)]),
    ModuleInfo("PixelUnshuffle", args=(2,), input_shapes=[(2, 2, 4, 6)]),
    ModuleInfo("ChannelShuffle", args=(2,), input_shapes=[(2, 6, 3, 3)]),
    # sparse.py
    ModuleInfo("Embedding", args=(10, 3), inputs=lambda rng, dtype: (randint(rng, 10, 2, 4),), has_parameters=True,
               integer_input=True),
    ModuleInfo("EmbeddingBag", args=(10, 3), inputs=lambda rng, dtype: (randint(rng, 10, 2, 4),), has_parameters=True,
               integer_input=True),
    # normalization.py
    ModuleInfo("RMSNorm", args=(4,), input_shapes=[(2, 3, 4)], has_parameters=True),
    ModuleInfo("LazyLinear", args=(4,), input_shapes=[(2, 3)], has_parameters=True),
    ModuleInfo("LazyConv1d", args=(4, 3), input_shapes=[(2, 3, 7)], has_parameters=True),
    ModuleInfo("LazyConv2d", args=(4, 3), kwargs=dict(padding=1), input_shapes=[(2, 3, 5, 5)], has_parameters=True),
    ModuleInfo("LazyConv3d", args=(2, 2), input_shapes=[(1, 3, 3, 4, 4)], has_parameters=True),
    ModuleInfo("LazyConvTranspose1d", args=(4, 3), input_shapes=[(2, 3, 5)], has_parameters=True),
    ModuleInfo("LazyConvTranspose2d", args=(4, 3), kwargs=dict(stride=2), input_shapes=[(1, 2, 3, 3)],
               has_parameters=True),
    ModuleInfo("LazyConvTranspose3d", args=(2, 2), input_shapes=[(1, 2, 2, 3, 3)], has_parameters=True),
    ModuleInfo("ConvTranspose3d", args=(2, 3, 2), kwargs=dict(stride=(2, 1, 1), padding=(1, 0, 1)),
               input_shapes=[(1, 2, 3, 3, 4)], has_parameters=True),
    ModuleInfo("LazyBatchNorm1d", input_shapes=[(4, 3)], has_parameters=True, train_eval_differ=True),
    ModuleInfo("LazyBatchNorm2d", input_shapes=[(2, 3, 4, 4)], has_parameters=True, train_eval_differ=True),
    ModuleInfo("LazyBatchNorm3d", input_shapes=[(2, 3, 2, 3, 3)], has_parameters=True, train_eval_differ=True),
    ModuleInfo("LazyInstanceNorm1d", kwargs=dict(affine=True), input_shapes=[(2, 3, 6)], has_parameters=True),
    ModuleInfo("LazyInstanceNorm2d", kwargs=dict(affine=True), input_shapes=[(2, 3, 4, 4)], has_parameters=True),
    ModuleInfo("LazyInstanceNorm3d", kwargs=dict(affine=True), input_shapes=[(2, 3, 2, 3, 3)], has_parameters=True),
    ModuleInfo("AdaptiveLogSoftmaxWithLoss", args=(8, 10, [3, 6]),
               inputs=lambda rng, dtype: (randn(rng, dtype, 5, 8), randint(rng, 10, 5)), has_parameters=True,
               integer_input=True, returns_tuple=True),
    ModuleInfo("InstanceNorm1d", args=(3,), input_shapes=[(2, 3, 6)]),
    ModuleInfo("InstanceNorm2d", args=(3,), kwargs=dict(affine=True, track_running_stats=True),
               input_shapes=[(2, 3, 4, 4)], has_parameters=True, train_eval_differ=True),
    ModuleInfo("InstanceNorm3d", args=(3,), input_shapes=[(2, 3, 2, 3, 2)]),
    ModuleInfo("LocalResponseNorm", args=(3,), input_shapes=[(2, 5, 3, 3)]),
    ModuleInfo("LayerNorm", args=(4,), input_shapes=[(2, 3, 4)], has_parameters=True),
    ModuleInfo("BatchNorm1d", args=(3,), input_shapes=[(4, 3)], has_parameters=True, train_eval_differ=True),
    ModuleInfo("BatchNorm2d", args=(3,), input_shapes=[(2, 3, 4, 4)], has_parameters=True, train_eval_differ=True),
    ModuleInfo("BatchNorm3d", args=(3,), input_shapes=[(2, 3, 2, 3, 2)], has_parameters=True,
               train_eval_differ=True),
    # conv.py
    ModuleInfo("Conv1d", args=(2, 3, 3), input_shapes=[(2, 2, 7)], has_parameters=True),
    ModuleInfo("Conv2d", args=(2, 3, 3), kwargs=dict(padding=1), input_shapes=[(2, 2, 5, 5)], has_parameters=True),
    ModuleInfo("Conv3d", args=(2, 3, 3), kwargs=dict(padding=1), input_shapes=[(2, 2, 4, 5, 4)],
               has_parameters=True),
    # pooling.py
    ModuleInfo("MaxPool2d", args=(2,), input_shapes=[(2, 3, 4, 4)]),
    ModuleInfo("AvgPool2d", args=(2,), input_shapes=[(2, 3, 4, 4)]),
    ModuleInfo("AdaptiveAvgPool2d", args=((2, 2),), input_shapes=[(2, 3, 4, 4)]),
    ModuleInfo("AdaptiveMaxPool2d", args=((2, 3),), input_shapes=[(2, 3, 5, 7)]),
    ModuleInfo("MaxPool1d", args=(3, 2, 1), input_shapes=[(2, 3, 9)]),
    ModuleInfo("AvgPool1d", args=(3, 2, 1), input_shapes=[(2, 3, 9)]),
    ModuleInfo("AdaptiveAvgPool1d", args=(4,), input_shapes=[(2, 3, 9)]),
    ModuleInfo("AdaptiveMaxPool1d", args=(4,), input_shapes=[(2, 3, 9)]),
    ModuleInfo("MaxPool3d", args=(2,), input_shapes=[(2, 3, 4, 4, 4)]),
    ModuleInfo("AvgPool3d", args=(2,), input_shapes=[(2, 3, 4, 4, 4)]),
    ModuleInfo("AdaptiveAvgPool3d", args=((2, 3, 2),), input_shapes=[(2, 3, 4, 5, 4)]),
    ModuleInfo("AdaptiveMaxPool3d", args=((2, 3, 2),), input_shapes=[(2, 3, 4, 5, 4)]),
    ModuleInfo("LPPool1d", args=(2, 3), input_shapes=[(2, 3, 9)]),
    ModuleInfo("LPPool2d", args=(2, 2), input_shapes=[(2, 3, 4, 4)]),
    ModuleInfo("LPPool3d", args=(2, 2), input_shapes=[(2, 3, 4, 4, 4)]),
    # fixed windows (a _random_samples buffer), so that repeated forwards agree
    ModuleInfo("FractionalMaxPool2d", args=(2,), kwargs=dict(output_size=(3, 4), _random_samples=loom.rand(2, 3, 2)),
               input_shapes=[(2, 3, 7, 8)]),
    ModuleInfo("FractionalMaxPool3d", args=(2,), kwargs=dict(output_ratio=0.5, _random_samples=loom.rand(2, 3, 3)),
               input_shapes=[(2, 3, 6, 6, 7)]),
    # input, indices (of max_pool1d / 2d / 3d with the same window)
    ModuleInfo("MaxUnpool1d", args=(2,), inputs=lambda rng, dtype: _pooled(rng, dtype, 1), integer_input=True),
    ModuleInfo("MaxUnpool2d", args=(2,), inputs=lambda rng, dtype: _pooled(rng, dtype, 2), integer_input=True),
    ModuleInfo("MaxUnpool3d", args=(2,), inputs=lambda rng, dtype: _pooled(rng, dtype, 3), integer_input=True),
    # rnn.py: input [L, N, H_in]; cells [N, H_in]
    ModuleInfo("LSTM", args=(4, 5), input_shapes=[(3, 2, 4)], has_parameters=True, returns_tuple=True),
    ModuleInfo("GRU", args=(4, 5), input_shapes=[(3, 2, 4)], has_parameters=True, returns_tuple=True),
    ModuleInfo("LSTMCell", args=(4, 5), input_shapes=[(2, 4)], has_parameters=True, returns_tuple=True),
    ModuleInfo("GRUCell", args=(4, 5), input_shapes=[(2, 4)], has_parameters=True),
    ModuleInfo("RNN", args=(4, 5, 2), input_shapes=[(3, 2, 4)], has_parameters=True, returns_tuple=True),
    ModuleInfo("RNNCell", args=(4, 5), input_shapes=[(2, 4)], has_parameters=True),
    # attention.py: query, key, value [L, N, E]
    ModuleInfo("MultiheadAttention", args=(8, 2), input_shapes=[(3, 2, 8), (4, 2, 8), (4, 2, 8)],
               has_parameters=True, returns_tuple=True),
    # distance.py
    ModuleInfo("PairwiseDistance", input_shapes=[(3, 4), (3, 4)]),
    ModuleInfo("CosineSimilarity", input_shapes=[(3, 4), (3, 4)]),
    # transformer.py: dropout=0.1 by default
    ModuleInfo("TransformerEncoderLayer", args=(8, 2), kwargs=dict(dim_feedforward=16), input_shapes=[(3, 2, 8)],
               has_parameters=True, train_eval_differ=True),
    ModuleInfo("TransformerEncoder", args=_encoder_args, input_shapes=[(3, 2, 8)], has_parameters=True,
               train_eval_differ=True),
    # tgt [3, 2, 8], memory [4, 2, 8]
    ModuleInfo("TransformerDecoderLayer", args=(8, 2), kwargs=dict(dim_feedforward=16),
               input_shapes=[(3, 2, 8), (4, 2, 8)], has_parameters=True, train_eval_differ=True),
    ModuleInfo("TransformerDecoder", args=_decoder_args, input_shapes=[(3, 2, 8), (4, 2, 8)], has_parameters=True,
               train_eval_differ=True),
    # src [5, 2, 8], tgt [3, 2, 8]
    ModuleInfo("Transformer", args=(8, 2, 1, 2, 16), input_shapes=[(5, 2, 8), (3, 2, 8)], has_parameters=True,
               train_eval_differ=True),
    # loss.py
    _loss("L1Loss", _pair),
    _loss("MSELoss", _pair),
    _loss("SmoothL1Loss", _pair),
    _loss("HuberLoss", _pair),
    _loss("NLLLoss", lambda rng, dtype: (log_probs(rng, dtype, 3, 5), randint(rng, 5, 3))),
    _loss("CrossEntropyLoss", _classes),
    _loss("BCELoss", lambda rng, dtype: (uniform(rng, dtype, 0.05, 0.95, 3, 4), uniform(rng, dtype, 0, 1, 3, 4))),
    _loss("BCEWithLogitsLoss", lambda rng, dtype: (randn(rng, dtype, 3, 4), uniform(rng, dtype, 0, 1, 3, 4))),
    _loss("CosineEmbeddingLoss", lambda rng, dtype: (randn(rng, dtype, 3, 4), randn(rng, dtype, 3, 4),
                                                     T(np.array([1, -1, 1], dtype=_np_dtype(dtype))))),
    _loss("KLDivLoss", lambda rng, dtype: (log_probs(rng, dtype, 3, 5),
                                           T(np.exp(log_probs(rng, dtype, 3, 5).numpy())))),
    _loss("MarginRankingLoss", lambda rng, dtype: (randn(rng, dtype, 5), randn(rng, dtype, 5), signs(rng, dtype, 5))),
    # The last of anchor, positive, negative takes the target's place (not checked for a gradient).
    _loss("TripletMarginLoss", _triplet),
    _loss("TripletMarginWithDistanceLoss", _triplet),
    _loss("HingeEmbeddingLoss", lambda rng, dtype: (randn(rng, dtype, 3, 4), signs(rng, dtype, 3, 4))),
    _loss("SoftMarginLoss", lambda rng, dtype: (randn(rng, dtype, 3, 4), signs(rng, dtype, 3, 4))),
    _loss("MultiLabelSoftMarginLoss", lambda rng, dtype: (randn(rng, dtype, 3, 5),
                                                          T((rng.random((3, 5)) < 0.5).astype(_np_dtype(dtype))))),
    _loss("MultiMarginLoss", _classes),
    _loss("PoissonNLLLoss", lambda rng, dtype: (randn(rng, dtype, 3, 4), uniform(rng, dtype, 0, 3, 3, 4))),
    _loss("MultiLabelMarginLoss", lambda rng, dtype: (randn(rng, dtype, 3, 5),
                                                      T(np.array([[1, 3, -1, 0, 0], [4, -1, 0, 0, 0], [0, 1, 2, 3, 4]])))),
    # log_probs [T, N, C], targets, input_lengths, target_lengths (the last takes the target's place)
    _loss("CTCLoss", lambda rng, dtype: (T(np.log(rng.dirichlet(np.ones(5), (6, 2))).astype(_np_dtype(dtype))),
                                         T(np.array([[1, 2, 2], [3, 4, 0]])), T(np.array([6, 5])),
                                         T(np.array([3, 2]))), integer_input=True),
    # input, target, var: var takes the target's place.
    _loss("GaussianNLLLoss", lambda rng, dtype: (randn(rng, dtype, 3, 4), randn(rng, dtype, 3, 4),
                                                 uniform(rng, dtype, 0.1, 1, 3, 4))),
]

MODULE_DB = {}
for _info in _ENTRIES:
    if _info.name in MODULE_DB:
        raise ValueError(f"module_db: two entries for {_info.name}")
    MODULE_DB[_info.name] = _info

# Exported names that are not modules to run on a sample, with the reason.
SKIPS = {
    "Module": "the abstract base class: forward raises NotImplementedError",
    "Parameter": "a Tensor subclass, not a Module",
    "UninitializedParameter": "a Parameter placeholder of the lazy modules (tests/python/test_lazy_modules.py)",
    "UninitializedBuffer": "a Tensor placeholder of the lazy modules (tests/python/test_lazy_modules.py)",
    "Buffer": "a marker for register_buffer, not a Module",
    "Sequential": "a container: its forward is that of the modules it is given",
    "ModuleList": "a container without forward",
    "ModuleDict": "a container without forward",
    "ParameterList": "a container of parameters without forward",
    "ParameterDict": "a container of parameters without forward (tests/python/test_layers_torch.py)",
    "RNNBase": "the base class of RNN, LSTM and GRU (PyTorch's public name)",
    "RNNCellBase": "the base class of RNNCell, LSTMCell and GRUCell (PyTorch's public name)",
    "CppModule": "a wrapper of a C++ module built by CppModule.create(name, ...), not a module of its own "
                 "(tests/python/test_nn_module.py)",
}
