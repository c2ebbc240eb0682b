"""loom.multimodal: models that see images and text together.

The modules are loom's C++ ones (multimodal/clip.h, fusion.h, models.h)
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
from .._C._functional._shapes import ShapesRetrieval, shapes_caption_truth  # its evaluation (shapes_eval.h)
from . import transforms  # torchvision-named image augmentations (multimodal/transforms.h)

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
    "ShapesRetrieval",
    "shapes_caption_truth",
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


class _TextEncoder(_Cpp):
    """The text encoders' common methods (multimodal/clip.h, TextEncoder)."""

    def forward_sequence(self, tokens):
        """(states [B, L, sequence_dim], padding_mask bool [B, L], True = padding)."""
        return self.cpp.forward_sequence(tokens)

    @property
    def dim(self):
        return self.cpp.dim

    @property
    def sequence_dim(self):
        return self.cpp.sequence_dim


class TransformerTextEncoder(_TextEncoder):
    """tokens [B, L] -> [B, dim]: embedding + learned positions, pre-LayerNorm
    transformer layers, mean over positions, Linear(dim, dim). mask_padding=True
    treats token 0 as padding (masked in attention and in the mean)."""

    def __init__(self, vocab=1000, dim=256, layers=2, heads=4, max_len=32, mask_padding=False):
        super().__init__(vocab, dim, layers, heads, max_len, mask_padding)


class LSTMTextEncoder(_TextEncoder):
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


# ---- configurable models (multimodal/models.h) ----
__all__ += [
    "VGGEncoder",
    "RNNTextEncoder",
    "VQAModel",
    "JointModel",
    "DualEncoder",
    "MultimodalLoss",
    "modality_dropout_masks",
]


class VGGEncoder(_Cpp):
    """images [B, in_channels, H, W] -> [B, dim]. spec: ints are 3x3 convolutions
    (padding 1) to that many channels, each followed by the norm ("batch" or
    "none") and the activation ("relu" or "gelu"); "M" is a 2x2 max-pool. Then a
    global pool ("avg" or "max") and Linear(channels, dim)."""

    def __init__(self, spec=(32, 32, "M", 64, "M", 128, "M"), in_channels=3, dim=256, norm="batch", act="relu",
                 pool="avg"):
        super().__init__(spec, in_channels, dim, norm, act, pool)

    def forward_features(self, images):
        """The last feature map [B, channels, H / 2^pools, W / 2^pools]."""
        return self.cpp.forward_features(images)

    def project(self, features):
        """Global pool + proj of a feature map: forward(x) == project(forward_features(x))."""
        return self.cpp.project(features)

    @property
    def dim(self):
        return self.cpp.dim

    @property
    def channels(self):
        return self.cpp.channels

    @property
    def spec(self):
        return self.cpp.spec


class RNNTextEncoder(_TextEncoder):
    """Right-padded tokens [B, L] (0 = padding) -> [B, dim]: Embedding(vocab,
    embed_dim, padding_idx=0), an LSTM or GRU (cell) that stops at each sample's
    last token, then Linear(D * hidden, dim). pool: "last" (the final state of
    each direction) or "mean" (the mean output over the valid steps)."""

    def __init__(self, vocab=1000, embed_dim=128, hidden=256, layers=1, cell="lstm", bidirectional=False, dim=256,
                 pool="last"):
        super().__init__(vocab, embed_dim, hidden, layers, cell, bidirectional, dim, pool)


def _image_encoder(enc):
    """An image encoder module from a module or a dict of VGGEncoder's arguments (None: the default VGGEncoder)."""
    if enc is None:
        return VGGEncoder()
    if isinstance(enc, dict):
        return VGGEncoder(**enc)
    if isinstance(enc, (VGGEncoder, ImageEncoder)):
        return enc
    raise TypeError(f"image_encoder must be a VGGEncoder, an ImageEncoder or a dict, got {type(enc).__name__}")


def _text_encoder(enc):
    """A text encoder module from a module or a dict with "type" ("lstm", "gru" or
    "transformer") and the encoder's arguments (None: the default RNNTextEncoder)."""
    if enc is None:
        return RNNTextEncoder()
    if isinstance(enc, dict):
        args = dict(enc)
        kind = args.pop("type", "lstm")
        if kind == "transformer":
            args.setdefault("mask_padding", True)
            return TransformerTextEncoder(**args)
        if kind in ("lstm", "gru"):
            return RNNTextEncoder(cell=kind, **args)
        raise ValueError(f'text encoder: type must be "lstm", "gru" or "transformer", got "{kind}"')
    if isinstance(enc, _TextEncoder):
        return enc
    raise TypeError(f"text_encoder must be a text encoder module or a dict, got {type(enc).__name__}")


class VQAModel(CppModule):
    """Image + question -> answer logits [B, num_answers]. The encoders (modules
    or dicts of their arguments) meet in the fusion named by `fusion`: "concat",
    "gated", "film" (the question modulates the feature map's channels),
    "bilinear", "cross_attention" (question tokens attend over the feature map's
    cells; last_attention() gives the weights [B, heads, L, h*w]) or "late" (two
    heads, their logits mixed); then an MLP classifier. modality_dropout p: in
    training, each sample loses its image or its text features with probability p. position (cross_attention):
    "none", or "fourier" (each cell's key and value add a learned map of sines and cosines of its centre, so the
    attention knows where a cell is)."""

    def __init__(self, image_encoder=None, text_encoder=None, fusion="concat", hidden=256, num_answers=10,
                 dropout=0.0, modality_dropout=0.0, heads=4, position="none"):
        if _cpp is None:
            raise RuntimeError("loom._C was built without the C++ nn bindings (python/src/nn_module.cpp)")
        img, txt = _image_encoder(image_encoder), _text_encoder(text_encoder)
        if not isinstance(img, VGGEncoder):
            raise TypeError(f"VQAModel: image_encoder must be a VGGEncoder (it needs feature maps), got "
                            f"{type(img).__name__}")
        super().__init__(_cpp.VQAModel(img.cpp, txt.cpp, fusion, hidden, num_answers, dropout, modality_dropout,
                                       heads, position))
        # The encoders' parameters are already the C++ model's (img.*, txt.*): kept unregistered, for access only.
        object.__setattr__(self, "img", img)
        object.__setattr__(self, "txt", txt)

    def encode(self, images, tokens):
        """(image features, text features, text padding mask or None): what the fusion reads."""
        return self.cpp.encode(images, tokens)

    def classify(self, image, text, text_padding_mask=None):
        return self.cpp.classify(image, text, text_padding_mask)

    def last_attention(self):
        """cross_attention: the weights of the last forward [B, heads, L, h*w]; else None."""
        return self.cpp.last_attention()


JointModel = VQAModel


class DualEncoder(CppModule):
    """CLIP with any encoders (modules or dicts of their arguments): projections
    to embed_dim (0: none), L2 normalisation, a learned logit_scale (init
    ln(1/temperature), clamped to ln(max_scale)); forward(images, tokens) is the
    symmetric contrastive loss."""

    def __init__(self, image_encoder=None, text_encoder=None, embed_dim=256, temperature=0.07, max_scale=100.0):
        if _cpp is None:
            raise RuntimeError("loom._C was built without the C++ nn bindings (python/src/nn_module.cpp)")
        img, txt = _image_encoder(image_encoder), _text_encoder(text_encoder)
        super().__init__(_cpp.DualEncoder(img.cpp, txt.cpp, embed_dim, temperature, max_scale))
        object.__setattr__(self, "img", img)
        object.__setattr__(self, "txt", txt)

    def encode_image(self, images):
        return self.cpp.encode_image(images)

    def encode_text(self, tokens):
        return self.cpp.encode_text(tokens)

    def logits(self, images, tokens):
        """exp(logit_scale) * image_emb @ text_emb.T, [B_images, B_texts]."""
        return self.cpp.logits(images, tokens)

    def logit_scale(self):
        """The clamped log scale the loss uses (0-d)."""
        return self.cpp.logit_scale()


class MultimodalLoss(CppModule):
    """total = task * cross_entropy(logits, targets) + inter * contrastive(image, text)
    + intra * mean(contrastive(image, image_view), contrastive(text, text_view)).
    Returns (total, {"task": ..., "inter": ..., "intra": ...}) with the parts
    unweighted; a term of weight 0 is not computed (its part is 0)."""

    def __init__(self, task=1.0, inter=1.0, intra=0.0, temperature=0.07):
        if _cpp is None:
            raise RuntimeError("loom._C was built without the C++ nn bindings (python/src/nn_module.cpp)")
        super().__init__(_cpp.MultimodalLoss(task, inter, intra, temperature))

    def forward(self, logits=None, targets=None, image=None, text=None, image_view=None, text_view=None,
                logit_scale=None):
        total, task, inter, intra = self.cpp.forward(logits, targets, image, text, image_view, text_view,
                                                     logit_scale)
        return total, {"task": task, "inter": inter, "intra": intra}


def modality_dropout_masks(batch, p, dtype=None, device=None):
    """(keep_image, keep_text), float [batch] of 0/1: each sample loses one
    modality (image or text, equally likely) with probability p, never both."""
    return _cpp.modality_dropout_masks(batch, p, dtype, device)


# ---- data and retrieval (multimodal/tokenizer.h, retrieval.h, data.h) ----
_data = getattr(_cpp, "_mm_data", None) if _cpp is not None else None
if _data is not None:
    WordTokenizer = _data.WordTokenizer

    class _TokenizerLoad:
        """WordTokenizer.load(path) returns a new tokenizer; tok.load(path) loads the vocabulary into tok
        and returns tok (an instance call used to build a new one and drop it)."""

        def __init__(self, load_new):
            self._load_new = load_new

        def __get__(self, obj, objtype=None):
            if obj is None:
                return self._load_new

            def load(path):
                obj._load_into(path)
                return obj

            load.__doc__ = "Loads the vocabulary saved at path into this tokenizer; returns it."
            return load

    WordTokenizer.load = _TokenizerLoad(WordTokenizer.load)
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

# ---- evaluation metrics (multimodal/metrics.h) ----
from .._C._functional._mm_metrics import (  # noqa: E402
    GroupedAccuracy,
    VqaAccuracy,
    confusion_matrix,
    grouped_accuracy,
    retrieval_report,
    retrieval_summary,
    search_image_to_text,
    search_text_to_image,
    topk_search,
    vqa_accuracy,
    zero_shot_accuracy,
    zero_shot_classify,
    zero_shot_logits,
)

__all__ += [
    "topk_search",
    "search_text_to_image",
    "search_image_to_text",
    "retrieval_report",
    "retrieval_summary",
    "zero_shot_logits",
    "zero_shot_classify",
    "zero_shot_accuracy",
    "vqa_accuracy",
    "VqaAccuracy",
    "confusion_matrix",
    "grouped_accuracy",
    "GroupedAccuracy",
]
