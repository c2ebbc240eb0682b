"""MultiheadAttention (torch.nn.MultiheadAttention names, masks and init)."""
import math

from ... import _C, _factories
from .. import functional as F
from .. import init
from .linear import Linear
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


def _merge_masks(attn_mask, key_padding_mask, N, H, L, S, dtype):
    """One additive float mask broadcastable to [N, H, L, S] (PyTorch: bool True = masked out), or None."""
    mask = None
    if attn_mask is not None:
        if attn_mask.dtype == _C.bool:
            attn_mask = _factories.zeros(*tuple(attn_mask.shape), dtype=dtype, device=attn_mask.device).masked_fill(
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
            kpm = _factories.zeros(N, S, dtype=dtype, device=key_padding_mask.device).masked_fill(
                key_padding_mask, float("-inf"))
        else:
            kpm = key_padding_mask.to(dtype)
        kpm = kpm.reshape(N, 1, 1, S)
        mask = kpm if mask is None else mask + kpm
    return mask


class MultiheadAttention(Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got {embed_dim} and {num_heads}")
        if embed_dim % num_heads != 0:
            raise AssertionError("embed_dim must be divisible by num_heads")
        kw = dict(device=device, dtype=dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(_factories.empty(3 * embed_dim, embed_dim, **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(_factories.empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(_factories.empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(_factories.empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_factories.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(_factories.empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(_factories.empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        unbatched = query.dim() == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        # [L, N, E] from here on
        L, N, E = tuple(query.shape)
        S = key.size(0)
        if E != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {E}")
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint")
        for name, t, dim in (("key", key, self.kdim), ("value", value, self.vdim)):
            if t.dim() != 3 or t.size(-1) != dim or t.size(1) != N or t.size(0) != S:
                raise AssertionError(f"MultiheadAttention: expected {name} of shape [{S}, {N}, {dim}] "
                                     f"(sequence first), got {list(t.shape)}")
        H, hd = self.num_heads, self.head_dim
        b = self.in_proj_bias
        bq = bk = bv = None
        if b is not None:
            bq, bk, bv = b.narrow(0, 0, E), b.narrow(0, E, E), b.narrow(0, 2 * E, E)
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w.narrow(0, 0, E), w.narrow(0, E, E), w.narrow(0, 2 * E, E)
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        q = F.linear(query, wq, bq)
        k = F.linear(key, wk, bk)
        v = F.linear(value, wv, bv)
        extra = 0  # key positions added after the sequence: bias_k / bias_v, then a zero slot
        if self.bias_k is not None:
            k = _C.cat([k, self.bias_k.expand(1, N, E)], 0)
            v = _C.cat([v, self.bias_v.expand(1, N, E)], 0)
            extra += 1

        def heads(t, n):  # [n, N, E] -> [N, H, n, hd]
            return t.reshape(n, N, H, hd).permute(1, 2, 0, 3)

        q, k, v = heads(q, L), heads(k, S + extra), heads(v, S + extra)
        if self.add_zero_attn:
            z = _factories.zeros(N, H, 1, hd, dtype=k.dtype, device=k.device)
            k, v = _C.cat([k, z], 2), _C.cat([v, z], 2)
            extra += 1
        mask = _merge_masks(attn_mask, key_padding_mask, N, H, L, S, q.dtype)
        if extra and mask is not None:
            # The added positions are never masked (PyTorch pads both masks with zeros).
            pad = _factories.zeros(*(tuple(mask.shape[:-1]) + (extra,)), dtype=mask.dtype, device=mask.device)
            mask = _C.cat([mask, pad], -1)
        S += extra
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = q.matmul(k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            if mask is not None:
                scores = scores + mask
            attn = scores.softmax(-1)
            if p > 0:
                attn = F.dropout(attn, p, True)
            out = attn.matmul(v)
            weights = attn.mean(1) if average_attn_weights else attn
        else:
            if mask is not None:
                mask = mask.expand(N, H, L, S)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
            weights = None
        out = out.permute(2, 0, 1, 3).reshape(L, N, E)  # [L, N, E]
        out = self.out_proj(out)
        if unbatched:
            out = out.squeeze(1)
            if weights is not None:
                weights = weights.squeeze(0)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights
