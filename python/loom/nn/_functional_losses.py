"""loom.nn.functional, losses composed in Python: multilabel_margin_loss, triplet_margin_with_distance_loss.
Imported into loom.nn.functional."""
from .. import _C
from .._factories import zeros as _zeros
from .functional import _tensor

__all__ = ["multilabel_margin_loss", "triplet_margin_with_distance_loss"]


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per sample: the sum over target classes j (target's leading non-negative entries, up to the first -1)
    and non-target classes i of max(0, 1 - (x[j] - x[i])), divided by C."""
    _tensor(input, "multilabel_margin_loss")
    _tensor(target, "multilabel_margin_loss")
    if size_average is not None or reduce is not None:
        avg = True if size_average is None else bool(size_average)
        red = True if reduce is None else bool(reduce)
        reduction = "none" if not red else ("mean" if avg else "sum")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if target.dtype != _C.int64:
        raise TypeError(f"multilabel_margin_loss: expected an int64 target, got {target.dtype}")
    if tuple(input.shape) != tuple(target.shape) or input.dim() not in (1, 2):
        raise RuntimeError(f"multilabel_margin_loss: expected input and target of the same shape, [C] or [N, C], "
                           f"got {list(input.shape)} and {list(target.shape)}")
    x = input.unsqueeze(0) if input.dim() == 1 else input
    t = target.unsqueeze(0) if target.dim() == 1 else target
    N, C = x.shape
    if N * C and (int(t.max()) >= C or int(t.min()) < -1):
        raise IndexError(f"multilabel_margin_loss: target values must be in [-1, {C - 1}]")
    # valid[n, k]: target[n, k] is one of the classes (before the first -1)
    valid = (t >= 0).to(_C.int64).cumprod(1) > 0
    safe = _C.where(valid, t, 0)
    is_target = _zeros(N, C, dtype=x.dtype, device=x.device).scatter_add(1, safe, valid.to(x.dtype)) > 0
    xj = x.gather(1, safe)  # [N, K]: the scores of the target classes
    hinge = (1.0 - (xj.unsqueeze(2) - x.unsqueeze(1))).clamp(min=0)  # [N, K, C]
    mask = valid.unsqueeze(2) & is_target.logical_not().unsqueeze(1)
    loss = _C.where(mask, hinge, 0.0).sum((1, 2)) / C
    if input.dim() == 1:
        loss = loss.squeeze(0)
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) for any distance function d (a callable of two
    tensors giving one distance per sample; pairwise_distance by default)."""
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater than 0, got {margin}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        if not isinstance(t, _C.Tensor):
            raise TypeError(f"triplet_margin_with_distance_loss(): argument '{name}' must be Tensor, "
                            f"not {type(t).__name__}")
    if not (anchor.dim() == positive.dim() == negative.dim()):
        raise RuntimeError("triplet_margin_with_distance_loss: the anchor, positive and negative tensors are "
                           "expected to have the same number of dimensions, got anchor "
                           f"{list(anchor.shape)}, positive {list(positive.shape)} and negative "
                           f"{list(negative.shape)}")
    d = distance_function if distance_function is not None else _C._functional.pairwise_distance
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(d(positive, negative))
    loss = (d_pos - d_neg + margin).clamp(min=0)
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()
