"""loom.multimodal: models that see images and text together.

The modules are loom's C++ ones (multimodal/clip.h, multimodal/fusion.h)
wrapped in loom.nn.CppModule: their parameters are the C++ module's tensors,
so loom.optim, state_dict() and .to() work on them as on any loom.nn module,
and they nest inside Python models.

    model = loom.multimodal.CLIP("transformer")        # SPEC's dual encoder
    loss = model(images, tokens)                        # symmetric contrastive loss
    fuse = loom.multimodal.GatedFusion(256)
    out = fuse(a, b)                                    # sigmoid(W[a;b] + c) a + (1 - g) b
"""
from ..nn.modules.cpp import CppModule
from ..nn.modules.cpp import cpp as _cpp
from .._C._functional._io import ImageCaptionFolder  # your own images + captions (multimodal/image_folder.h)
from .._C._functional._shapes import Shapes  # procedural image-caption-QA dataset (multimodal/shapes.h)

__all__ = [
    "ImageEncoder",
    "TransformerTextEncoder",
    "LSTMTextEncoder",
    "CLIP",
    "ConcatFusion",
    "GatedFusion",
    "FiLM",
    "BilinearPooling",
    "LateFusion",
    "CrossAttentionFusion",
    "ImageCaptionFolder",
    "Shapes",
]


class _Cpp(CppModule):
    """Builds the C++ class of the same name from the constructor's arguments."""

    def __init__(self, *args, **kwargs):
        if _cpp is None:
            raise RuntimeError("loom._C was built without the C++ nn bindings (python/src/nn_module.cpp)")
        super().__init__(getattr(_cpp, type(self).__name__)(*args, **kwargs))


class ImageEncoder(_Cpp):
    """images [B, 3, H, W] -> [B, dim]: four 3x3 convolutions (3-32-64-128-256), ReLU,
    2x2 max-pool after the first three, global average pool, Linear(256, dim)."""

    def __init__(self, dim=256):
        super().__init__(dim)


class TransformerTextEncoder(_Cpp):
    """tokens [B, L] -> [B, dim]: embedding + learned positions, pre-LayerNorm
    transformer layers, mean over positions, Linear(dim, dim)."""

    def __init__(self, vocab=1000, dim=256, layers=2, heads=4, max_len=32):
        super().__init__(vocab, dim, layers, heads, max_len)


class LSTMTextEncoder(_Cpp):
    """tokens [B, L] -> [B, dim]: embedding, one LSTM layer, last hidden state, Linear."""

    def __init__(self, vocab=1000, dim=256):
        super().__init__(vocab, dim)


class CLIP(_Cpp):
    """The CLIP-style dual encoder: forward(images, tokens) returns the symmetric
    contrastive loss of the L2-normalised embeddings with a learned temperature
    (parameter logit_scale, initialised to ln(1/0.07))."""

    def __init__(self, text="transformer"):
        super().__init__(text)

    def encode_image(self, images):
        return self.cpp.encode_image(images)

    def encode_text(self, tokens):
        return self.cpp.encode_text(tokens)


class ConcatFusion(_Cpp):
    """Early fusion: Linear on [a; b] without building the concatenation (hidden > 0: a ReLU MLP)."""

    def __init__(self, dim_a, dim_b, out, hidden=0):
        super().__init__(dim_a, dim_b, out, hidden)


class GatedFusion(_Cpp):
    """g = sigmoid(W [a; b] + c); out = g a + (1 - g) b."""

    def __init__(self, dim):
        super().__init__(dim)


class FiLM(_Cpp):
    """[gamma; beta] = W cond + c; out = gamma x + beta (gamma starts at 1)."""

    def __init__(self, dim, cond_dim):
        super().__init__(dim, cond_dim)


class BilinearPooling(_Cpp):
    """Low-rank bilinear pooling: P ((U a) * (V b))."""

    def __init__(self, dim_a, dim_b, rank, out):
        super().__init__(dim_a, dim_b, rank, out)


class LateFusion(_Cpp):
    """A learned softmax-weighted mean of two modalities' predictions."""

    def __init__(self):
        super().__init__()

    def weights(self):
        return self.cpp.weights()


class CrossAttentionFusion(_Cpp):
    """Queries x [B, Lq, dim] attend over context [B, Lk, dim]: LN(x + MHA(x, ctx, ctx)),
    then a post-norm feed-forward block (ff_dim = 0 leaves it out)."""

    def __init__(self, dim, heads, kdim=-1, ff_dim=-1):
        super().__init__(dim, heads, kdim, ff_dim)

    def forward(self, x, context, context_padding_mask=None):
        if context_padding_mask is None:
            return self.cpp.forward(x, context)
        return self.cpp.forward(x, context, context_padding_mask)


# ---- data and retrieval (multimodal/tokenizer.h, retrieval.h, data.h) ----
_data = getattr(_cpp, "_mm_data", None) if _cpp is not None else None
if _data is not None:
    WordTokenizer = _data.WordTokenizer
    padding_mask = _data.padding_mask
    retrieval_metrics = _data.retrieval_metrics
    recall_at_k = _data.recall_at_k
    median_rank = _data.median_rank
    mean_reciprocal_rank = _data.mean_reciprocal_rank

    def mean_average_precision(sim, query_labels, doc_labels):
        """The mean over queries of average precision of sim [Nq, Nd], query q
        matching document d when query_labels[q] == doc_labels[d]. Unlike the
        other metrics it has no diagonal form (there each query has one match
        and it equals mean_reciprocal_rank(sim)), so the labels are required;
        a Python function so that leaving them out says which are missing."""
        return _data.mean_average_precision(sim, query_labels, doc_labels)

    load_fashion_mnist = _data.load_fashion_mnist
    fashion_mnist_classes = _data.fashion_mnist_classes
    fashion_mnist_captions = _data.fashion_mnist_captions
    __all__ += [
        "WordTokenizer",
        "padding_mask",
        "retrieval_metrics",
        "recall_at_k",
        "median_rank",
        "mean_reciprocal_rank",
        "mean_average_precision",
        "load_fashion_mnist",
        "fashion_mnist_classes",
        "fashion_mnist_captions",
    ]
