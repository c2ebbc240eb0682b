"""Generates tests/data/torch_layers.json, PyTorch's side of tests/python/test_layers_torch.py.

Run once with a Python that has torch (the PyPI wheel: benchmarks' /opt/torchpypi venv):

    /opt/torchpypi/bin/python tests/data/make_layer_fixtures.py

For each case: a torch.nn module (constructor keyword arguments, state dict), the call's inputs, its
outputs in the given mode, the module's buffers after the call, and the gradients of sum(output * weights)
to the float inputs and every parameter. Everything in float64.
"""

import torch
from torch import nn
from _fixtures import t2j, write  # noqa: E402  (tests/data/_fixtures.py)

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)




cases = []


def case(name, module, kwargs, inputs, call_kwargs=None, train=False, perturb=True):
    mod = getattr(nn, module)(**kwargs)
    mod.train(train)
    if perturb:
        with torch.no_grad():
            for p in mod.parameters():
                p.add_(0.2 * torch.randn_like(p))
    sd = {k: t2j(v) for k, v in mod.state_dict().items()}
    args = [x.clone().requires_grad_(x.is_floating_point()) if isinstance(x, torch.Tensor) else x for x in inputs]
    out = mod(*args, **(call_kwargs or {}))
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    ws = [torch.randn_like(o) for o in outs]
    loss = sum((o * w).sum() for o, w in zip(outs, ws))
    fl = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    params = dict(mod.named_parameters())
    grads = torch.autograd.grad(loss, fl + list(params.values()), allow_unused=True)
    cases.append({
        "name": name, "module": module, "kwargs": kwargs, "train": train, "state_dict": sd,
        "inputs": [t2j(a) for a in inputs],
        "call_kwargs": {k: t2j(v) if isinstance(v, torch.Tensor) else v for k, v in (call_kwargs or {}).items()},
        "outputs": [t2j(o.detach()) for o in outs], "out_weights": [t2j(w) for w in ws],
        "input_grads": [t2j(g) for g in grads[:len(fl)]],
        "param_grads": {k: t2j(g) for k, g in zip(params, grads[len(fl):]) if g is not None},
        "buffers_after": {k: t2j(v) for k, v in mod.named_buffers()},
    })


x4 = torch.randn(2, 6, 3, 4)
case("rmsnorm", "RMSNorm", dict(normalized_shape=[3, 4]), [x4])
case("rmsnorm_eps_noaffine", "RMSNorm", dict(normalized_shape=4, eps=1e-3, elementwise_affine=False), [x4])
case("instancenorm2d", "InstanceNorm2d", dict(num_features=6), [x4])
case("instancenorm2d_affine_track_train", "InstanceNorm2d",
     dict(num_features=6, affine=True, track_running_stats=True, momentum=0.3), [x4], train=True)
case("instancenorm1d_unbatched", "InstanceNorm1d", dict(num_features=6, affine=True), [torch.randn(6, 5)])
case("localresponsenorm", "LocalResponseNorm", dict(size=3, alpha=0.1, beta=0.75, k=2.0), [x4])
case("localresponsenorm_3d_even", "LocalResponseNorm", dict(size=4), [torch.randn(2, 6, 5) * 3])
case("prelu_channels", "PReLU", dict(num_parameters=6), [x4])
case("prelu_one", "PReLU", dict(), [torch.randn(3, 5)])
case("softmax2d", "Softmax2d", dict(), [x4])
case("pixelshuffle", "PixelShuffle", dict(upscale_factor=2), [torch.randn(2, 8, 3, 2)])
case("pixelunshuffle", "PixelUnshuffle", dict(downscale_factor=2), [torch.randn(1, 2, 4, 6)])
case("channelshuffle", "ChannelShuffle", dict(groups=3), [x4])
emb_in = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])
offs = torch.tensor([0, 3, 3, 7])
for mode in ("sum", "mean", "max"):
    case(f"embeddingbag_{mode}_offsets", "EmbeddingBag", dict(num_embeddings=10, embedding_dim=3, mode=mode),
         [emb_in, offs])
    case(f"embeddingbag_{mode}_2d_padding", "EmbeddingBag",
         dict(num_embeddings=10, embedding_dim=3, mode=mode, padding_idx=0), [torch.tensor([[1, 0, 3], [0, 0, 0]])])
case("embeddingbag_sum_weights_last_offset", "EmbeddingBag",
     dict(num_embeddings=10, embedding_dim=3, mode="sum", include_last_offset=True),
     [emb_in, torch.tensor([0, 2, 6, 9])], dict(per_sample_weights=torch.rand(10)))
case("rnn_tanh", "RNN", dict(input_size=3, hidden_size=4), [torch.randn(5, 2, 3)])
case("rnn_relu_2layer_bidir_bf", "RNN",
     dict(input_size=3, hidden_size=4, num_layers=2, nonlinearity="relu", bidirectional=True, batch_first=True),
     [torch.randn(2, 5, 3), torch.randn(4, 2, 4)])
case("rnn_unbatched_nobias", "RNN", dict(input_size=3, hidden_size=4, bias=False), [torch.randn(5, 3)])
case("rnncell", "RNNCell", dict(input_size=3, hidden_size=4), [torch.randn(2, 3), torch.randn(2, 4)])
case("rnncell_relu_unbatched", "RNNCell", dict(input_size=3, hidden_size=4, nonlinearity="relu"), [torch.randn(3)])

case("conv3d", "Conv3d", dict(in_channels=2, out_channels=3, kernel_size=(3, 2, 3), stride=(2, 1, 1), padding=1),
     [torch.randn(2, 2, 5, 4, 5)])
case("conv3d_groups_dilation_nobias", "Conv3d",
     dict(in_channels=4, out_channels=2, kernel_size=2, dilation=(2, 1, 2), groups=2, bias=False),
     [torch.randn(1, 4, 5, 4, 5)])
case("conv3d_same_unbatched", "Conv3d", dict(in_channels=2, out_channels=2, kernel_size=3, padding="same"),
     [torch.randn(2, 3, 4, 5)])
case("batchnorm3d_train", "BatchNorm3d", dict(num_features=3, momentum=0.2), [torch.randn(2, 3, 2, 3, 2)], train=True)
case("batchnorm3d_eval", "BatchNorm3d", dict(num_features=3), [torch.randn(2, 3, 2, 3, 2)])

asm_x = torch.randn(6, 8)
case("adaptive_log_softmax", "AdaptiveLogSoftmaxWithLoss", dict(in_features=8, n_classes=10, cutoffs=[3, 6]),
     [asm_x, torch.tensor([0, 4, 9, 2, 7, 5])])
case("adaptive_log_softmax_bias_div2_unbatched", "AdaptiveLogSoftmaxWithLoss",
     dict(in_features=8, n_classes=12, cutoffs=[4], div_value=2.0, head_bias=True), [asm_x[0], torch.tensor(9)])

ct3_x = torch.randn(2, 4, 3, 4, 3)
case("conv_transpose3d", "ConvTranspose3d", dict(in_channels=4, out_channels=3, kernel_size=(2, 3, 2)), [ct3_x])
case("conv_transpose3d_stride_pad_outpad_dil_groups", "ConvTranspose3d",
     dict(in_channels=4, out_channels=6, kernel_size=3, stride=(2, 1, 2), padding=(1, 1, 0), output_padding=(1, 0, 1),
          groups=2, dilation=(1, 2, 1)), [ct3_x])
case("conv_transpose3d_unbatched_nobias", "ConvTranspose3d",
     dict(in_channels=4, out_channels=2, kernel_size=2, stride=3, bias=False), [ct3_x[0]])

write("torch_layers.json", {"torch_version": torch.__version__, "cases": cases})
