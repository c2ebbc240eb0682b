"""loom.nn.functional.multi_head_attention_forward: the computation of nn.MultiheadAttention (which calls
it). Imported into loom.nn.functional."""
import math

from .. import _C
from .._factories import zeros as _zeros
from .functional import _tensor, dropout, linear, scaled_dot_product_attention

__all__ = ["multi_head_attention_forward"]


# ---- multi-head attention (the computation of nn.MultiheadAttention, callable on its own) ----

def _merge_masks(attn_mask, key_padding_mask, N, H, L, S, dtype):
    """One additive float mask broadcastable to [N, H, L, S] (PyTorch: bool True = masked out), or None."""
    mask = None
    if attn_mask is not None:
        if attn_mask.dtype == _C.bool:
            attn_mask = _zeros(*tuple(attn_mask.shape), dtype=dtype, device=attn_mask.device).masked_fill(
                attn_mask, float("-inf"))
        else:
            attn_mask = attn_mask.to(dtype)
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (L, S):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be {(L, S)}.")
            mask = attn_mask.reshape(1, 1, L, S)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (N * H, L, S):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be {(N * H, L, S)}.")
            mask = attn_mask.reshape(N, H, L, S)
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise RuntimeError(f"expected key_padding_mask of shape {(N, S)}, but got {tuple(key_padding_mask.shape)}")
        if key_padding_mask.dtype == _C.bool:
            kpm = _zeros(N, S, dtype=dtype, device=key_padding_mask.device).masked_fill(
                key_padding_mask, float("-inf"))
        else:
            kpm = key_padding_mask.to(dtype)
        kpm = kpm.reshape(N, 1, 1, S)
        mask = kpm if mask is None else mask + kpm
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False, _kdim=None, _vdim=None):
    """Multi-head attention of query [L, N, E] over key / value [S, N, *] (sequence first; [L, E] unbatched):
    the projections (one packed in_proj_weight [3E, E], or q/k/v_proj_weight with use_separate_proj_weight),
    bias_k / bias_v and a zero slot appended to the keys, masks (bool: True is masked out; or additive), the
    scaled dot-product attention per head, the output projection. Returns (output, weights): weights [N, L, S]
    (averaged over heads, or [N, H, L, S]) when need_weights, else None."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k / static_v are not supported by loom")
    _tensor(query, "multi_head_attention_forward")
    unbatched = query.dim() == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = tuple(query.shape)
    S = key.size(0)
    if E != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint")
    kdim = _kdim if _kdim is not None else (k_proj_weight.shape[1] if use_separate_proj_weight else E)
    vdim = _vdim if _vdim is not None else (v_proj_weight.shape[1] if use_separate_proj_weight else E)
    for name, t, dim in (("key", key, kdim), ("value", value, vdim)):
        if t.dim() != 3 or t.size(-1) != dim or t.size(1) != N or t.size(0) != S:
            raise AssertionError(f"MultiheadAttention: expected {name} of shape [{S}, {N}, {dim}] "
                                 f"(sequence first), got {list(t.shape)}")
    H = num_heads
    if E % H != 0:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {H}")
    hd = E // H
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias.narrow(0, 0, E), in_proj_bias.narrow(0, E, E), in_proj_bias.narrow(0, 2 * E, E)
    if use_separate_proj_weight:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        wq, wk, wv = in_proj_weight.narrow(0, 0, E), in_proj_weight.narrow(0, E, E), in_proj_weight.narrow(0, 2 * E, E)
    q = linear(query, wq, bq)
    k = linear(key, wk, bk)
    v = linear(value, wv, bv)
    extra = 0  # key positions added after the sequence: bias_k / bias_v, then a zero slot
    if bias_k is not None:
        if bias_v is None:
            raise AssertionError("bias_k and bias_v go together")
        k = _C.cat([k, bias_k.reshape(1, 1, E).expand(1, N, E)], 0)
        v = _C.cat([v, bias_v.reshape(1, 1, E).expand(1, N, E)], 0)
        extra += 1

    def heads(t, n):  # [n, N, E] -> [N, H, n, hd]
        return t.reshape(n, N, H, hd).permute(1, 2, 0, 3)

    q, k, v = heads(q, L), heads(k, S + extra), heads(v, S + extra)
    if add_zero_attn:
        z = _zeros(N, H, 1, hd, dtype=k.dtype, device=k.device)
        k, v = _C.cat([k, z], 2), _C.cat([v, z], 2)
        extra += 1
    mask = _merge_masks(attn_mask, key_padding_mask, N, H, L, S, q.dtype)
    if extra and mask is not None:
        # The added positions are never masked (PyTorch pads both masks with zeros).
        mask = _C.cat([mask, _zeros(*(tuple(mask.shape[:-1]) + (extra,)), dtype=mask.dtype, device=mask.device)], -1)
    S += extra
    p = dropout_p if training else 0.0
    if need_weights:
        scores = q.matmul(k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        if mask is not None:
            scores = scores + mask
        attn = scores.softmax(-1)
        if p > 0:
            attn = dropout(attn, p, True)
        out = attn.matmul(v)
        weights = attn.mean(1) if average_attn_weights else attn
    else:
        if mask is not None:
            mask = mask.expand(N, H, L, S)
        out = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        weights = None
    out = linear(out.permute(2, 0, 1, 3).reshape(L, N, E), out_proj_weight, out_proj_bias)  # [L, N, E]
    if unbatched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights
