"""Generates tests/data/torch_transformer.json, PyTorch's side of tests/python/test_transformer_torch.py.

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_transformer_fixtures.py

For each case: the module's constructor arguments, its state dict (names, shapes, values), the call's
inputs, the outputs in eval mode, and the gradients of sum(output * weights) to the float inputs and to
every parameter (weights: fixed random tensors, also stored).
"""

import torch
from torch import nn
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)




def causal(n):
    return nn.Transformer.generate_square_subsequent_mask(n, dtype=torch.float64)


def run_case(name, ctor, kwargs, inputs, call_kwargs, outputs_used=1):
    mod = getattr(nn, ctor)(**kwargs) if isinstance(ctor, str) else ctor()
    mod.eval()
    for p in mod.parameters():  # away from symmetric inits (zero biases)
        with torch.no_grad():
            p.add_(0.1 * torch.randn_like(p))
    args = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    out = mod(*args, **call_kwargs)
    outs = list(out) if isinstance(out, tuple) else [out]
    outs = [o for o in outs[:outputs_used] if o is not None] if isinstance(out, tuple) else outs
    weights = [torch.randn_like(o) for o in outs]
    loss = sum((o * w).sum() for o, w in zip(outs, weights))
    float_args = [a for a in args if a.requires_grad]
    params = dict(mod.named_parameters())
    grads = torch.autograd.grad(loss, float_args + list(params.values()), allow_unused=True)
    in_grads, p_grads = grads[:len(float_args)], grads[len(float_args):]
    return {
        "name": name,
        "module": ctor if isinstance(ctor, str) else None,
        "kwargs": kwargs,
        "state_dict": {k: t2j(v) for k, v in mod.state_dict().items()},
        "inputs": [t2j(x) for x in inputs],
        "call_kwargs": {k: (t2j(v) if isinstance(v, torch.Tensor) else v) for k, v in call_kwargs.items()},
        "outputs": [t2j(o.detach()) for o in outs],
        "out_weights": [t2j(w) for w in weights],
        "input_grads": [t2j(g) for g in in_grads],
        "param_grads": {k: t2j(g) for k, g in zip(params, p_grads) if g is not None},
    }


cases = []
E, H, L, S, N = 4, 2, 5, 6, 3
# MultiheadAttention: separate key / value sizes, bias_k / bias_v, a zero attention slot, masks.
kpm = torch.zeros(N, S, dtype=torch.bool)
kpm[0, -2:] = True
kpm[2, 0] = True
amask = torch.rand(L, S) < 0.2
amask[:, 0] = False
for bf in (False, True):
    q = torch.randn(N, L, E) if bf else torch.randn(L, N, E)
    k = torch.randn(N, S, 3) if bf else torch.randn(S, N, 3)
    v = torch.randn(N, S, 5) if bf else torch.randn(S, N, 5)
    for need in (True, False):
        cases.append(run_case(
            f"mha_kvdim_biaskv_zeroattn_bf{int(bf)}_w{int(need)}", "MultiheadAttention",
            dict(embed_dim=E, num_heads=H, kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True, batch_first=bf),
            [q, k, v], dict(key_padding_mask=kpm, attn_mask=amask, need_weights=need), outputs_used=2))
# The same-size projection with add_bias_kv only, float masks, per-head weights.
q, kv = torch.randn(L, N, E), torch.randn(S, N, E)
fmask = torch.randn(L, S) * 0.5
cases.append(run_case("mha_biaskv_floatmask", "MultiheadAttention",
                      dict(embed_dim=E, num_heads=H, add_bias_kv=True), [q, kv, kv],
                      dict(attn_mask=fmask, need_weights=True, average_attn_weights=False), outputs_used=2))
cases.append(run_case("mha_zeroattn_nobias", "MultiheadAttention",
                      dict(embed_dim=E, num_heads=H, add_zero_attn=True, bias=False), [q, kv, kv],
                      dict(key_padding_mask=kpm, need_weights=False)))
# Decoder layers, decoder stacks and the whole Transformer.
tgt, mem = torch.randn(L, N, E), torch.randn(S, N, E)
tkpm = torch.zeros(N, L, dtype=torch.bool)
tkpm[1, -1] = True
for nf in (False, True):
    for act in ("relu", "gelu"):
        cases.append(run_case(
            f"decoder_layer_nf{int(nf)}_{act}", "TransformerDecoderLayer",
            dict(d_model=E, nhead=H, dim_feedforward=8, activation=act, norm_first=nf), [tgt, mem],
            dict(tgt_mask=causal(L), tgt_key_padding_mask=tkpm, memory_key_padding_mask=kpm, tgt_is_causal=True)))
cases.append(run_case("decoder_layer_bf_nobias", "TransformerDecoderLayer",
                      dict(d_model=E, nhead=H, dim_feedforward=8, batch_first=True, bias=False),
                      [tgt.transpose(0, 1).contiguous(), mem.transpose(0, 1).contiguous()],
                      dict(memory_mask=amask)))


def decoder():
    layer = nn.TransformerDecoderLayer(E, H, 8, dropout=0.0)
    return nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(E))


dec = run_case("decoder_stack", decoder, {}, [tgt, mem], dict(tgt_mask=causal(L), memory_key_padding_mask=kpm))
dec["module"] = "TransformerDecoder"
dec["kwargs"] = {"layer": dict(d_model=E, nhead=H, dim_feedforward=8, dropout=0.0), "num_layers": 2, "norm": True}
cases.append(dec)
src = torch.randn(N, S, E)
cases.append(run_case("transformer_bf", "Transformer",
                      dict(d_model=E, nhead=H, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=8,
                           batch_first=True),
                      [src, tgt.transpose(0, 1).contiguous()],
                      dict(tgt_mask=causal(L), src_key_padding_mask=kpm, memory_key_padding_mask=kpm)))
cases.append(run_case("transformer_norm_first_gelu", "Transformer",
                      dict(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=8,
                           activation="gelu", norm_first=True),
                      [src.transpose(0, 1).contiguous(), tgt], dict(tgt_mask=causal(L))))

write("torch_transformer.json", {"torch_version": torch.__version__, "causal_mask_5": t2j(causal(L)), "cases": cases})
