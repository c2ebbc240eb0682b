"""loom.nn.functional, losses composed in Python: multilabel_margin_loss, ctc_loss (the log-space alpha
recursion), triplet_margin_with_distance_loss. Imported into loom.nn.functional."""
from .. import _C
from .._factories import tensor as _tensor_of, zeros as _zeros
from .functional import _tensor

__all__ = ["multilabel_margin_loss", "ctc_loss", "triplet_margin_with_distance_loss"]


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


def _int_list(values, name, op):
    if isinstance(values, _C.Tensor):
        return [int(v) for v in values.reshape(-1).tolist()]
    if isinstance(values, int):
        return [values]
    try:
        return [int(v) for v in values]
    except TypeError:
        raise TypeError(f"{op}: {name} must be a Tensor or a sequence of ints, got {type(values).__name__}") from None


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification: -log of the total probability of every alignment of each target
    sequence to its input's log_probs [T, N, C] ([T, C] unbatched), blank separating repeats. targets are
    padded [N, S] or concatenated 1-D; 'mean' divides each loss by its target length, then averages.
    The forward (alpha) recursion in log space, one step per time step over the extended labels, composed of
    differentiable ops: the gradient is d loss / d log_probs itself (PyTorch's kernel returns the gradient
    with respect to the logits of a log_softmax instead; through log_softmax the two agree)."""
    _tensor(log_probs, "ctc_loss")
    _tensor(targets, "ctc_loss")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.dim() == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.dim() != 3 or not lp.is_floating_point():
        raise RuntimeError(f"ctc_loss: expected floating log_probs [T, N, C] or [T, C], got {list(log_probs.shape)} "
                           f"{log_probs.dtype}")
    T, N, C = lp.shape
    in_lens = _int_list(input_lengths, "input_lengths", "ctc_loss")
    tg_lens = _int_list(target_lengths, "target_lengths", "ctc_loss")
    if len(in_lens) != N or len(tg_lens) != N:
        raise RuntimeError(f"ctc_loss: expected {N} input_lengths and target_lengths, got {len(in_lens)} and "
                           f"{len(tg_lens)}")
    if not 0 <= blank < C:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {C}), got {blank}")
    if any(n < 0 or n > T for n in in_lens):
        raise RuntimeError(f"ctc_loss: input_lengths must be in [0, {T}], got {in_lens}")
    if any(n < 0 for n in tg_lens):
        raise RuntimeError(f"ctc_loss: target_lengths must be non-negative, got {tg_lens}")
    flat = [int(v) for v in targets.reshape(-1).tolist()]
    if unbatched or targets.dim() == 2:
        rows = [flat] if unbatched else [flat[n * targets.shape[1]:(n + 1) * targets.shape[1]] for n in range(N)]
        if any(L > len(r) for L, r in zip(tg_lens, rows)):
            raise RuntimeError(f"ctc_loss: a target length exceeds the targets' {len(rows[0])} columns")
        labels = [r[:L] for r, L in zip(rows, tg_lens)]
    elif targets.dim() == 1:
        if sum(tg_lens) > len(flat):
            raise RuntimeError(f"ctc_loss: the target lengths sum to {sum(tg_lens)}, more than the {len(flat)} "
                               f"concatenated targets")
        labels, o = [], 0
        for L in tg_lens:
            labels.append(flat[o:o + L])
            o += L
    else:
        raise RuntimeError(f"ctc_loss: expected targets [N, S] or concatenated 1-D, got {list(targets.shape)}")
    if any(not 0 <= v < C or v == blank for lab in labels for v in lab):
        raise RuntimeError(f"ctc_loss: target labels must be in [0, {C}) and differ from blank ({blank})")
    S = max(tg_lens, default=0)
    Sp = 2 * S + 1
    ext = [[blank] * Sp for _ in range(N)]
    for n, lab in enumerate(labels):
        for k, v in enumerate(lab):
            ext[n][2 * k + 1] = v
    dev = lp.device
    ext_t = _tensor_of(ext, dtype=_C.int64, device=dev)
    skip = _tensor_of([[s >= 2 and e[s] != blank and e[s] != e[s - 2] for s in range(Sp)] for e in ext],
                      dtype=_C.bool, device=dev)
    valid = _tensor_of([[s < 2 * L + 1 for s in range(Sp)] for L in tg_lens], dtype=_C.bool, device=dev)
    in_len = _tensor_of(in_lens, dtype=_C.int64, device=dev).reshape(N, 1)
    tg_len = _tensor_of(tg_lens, dtype=_C.int64, device=dev)
    NEG = -1e30  # log 0 kept finite: logsumexp of all-impossible states stays differentiable
    em = lp.clamp(min=NEG).gather(2, ext_t.unsqueeze(0).expand(T, N, Sp))  # [T, N, Sp]
    first = _tensor_of([[s < 2 for s in range(Sp)]], dtype=_C.bool, device=dev)
    if T == 0:
        alpha = _zeros(N, Sp, dtype=lp.dtype, device=dev) + NEG
    else:
        alpha = _C.where(first & valid & (in_len > 0), em[0], NEG)
    pad1 = _zeros(N, 1, dtype=lp.dtype, device=dev) + NEG
    pad2 = _zeros(N, 2, dtype=lp.dtype, device=dev) + NEG
    for t in range(1, T):
        a1 = _C.cat([pad1, alpha[:, :Sp - 1]], 1)
        a2 = _C.where(skip, _C.cat([pad2, alpha[:, :max(Sp - 2, 0)]], 1)[:, :Sp], NEG)
        new = _C.where(valid, _C.stack([alpha, a1, a2], 0).logsumexp((0,)) + em[t], NEG)
        alpha = _C.where(in_len > t, new, alpha)
    end = (tg_len * 2).reshape(N, 1)
    last = alpha.gather(1, end)
    prev = _C.where(end > 0, alpha.gather(1, (end - 1).clamp(min=0)), NEG)
    ll = _C.cat([last, prev], 1).logsumexp((1,))
    ll = _C.where((in_len.reshape(N) == 0) & (tg_len == 0), 0.0, ll)
    impossible = ll < -1e29
    loss = _C.where(impossible, 0.0 if zero_infinity else float("inf"), -ll)
    if reduction == "mean":
        loss = (loss / tg_len.clamp(min=1).to(loss.dtype)).mean()
    elif reduction == "sum":
        loss = loss.sum()
    elif unbatched:
        loss = loss.squeeze(0)
    return loss


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
