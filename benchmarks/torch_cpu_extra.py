#!/usr/bin/env python3
"""PyTorch's side of loom_bench's CPU cases that are not in shared/bench/SPEC.md (so not in
torch_cpu_reference.py): pooling (incl. adaptive max), grid_sample / affine_grid, scatter_reduce, bicubic resizing, the activations: same case names, shapes and protocol (2 threads, median of 10 timed
calls after 2 warm-up ones, gradients through torch.autograd.grad so nothing accumulates).

    python torch_cpu_extra.py [--out extra.jsonl]
    python3 ../shared/bench/compare.py extra.jsonl loom_cpu.jsonl

Needs PyTorch (the current release from PyPI, in a virtual environment).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)


def bench(fn, iters=10, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def pool_cases(add):
    """benchmarks/cases_pool.cpp: the CLIP image encoder's first pooling at batch 32."""
    x = torch.randn(32, 32, 64, 64, requires_grad=True)
    g = torch.randn(32, 32, 32, 32)
    max2 = lambda t: F.max_pool2d(t, 2)  # noqa: E731
    relu_max2 = lambda t: F.max_pool2d(F.relu(t), 2)  # noqa: E731
    add("cpu/pool/fp32/maxpool2x2_fwd/N32_C32_H64_W64", bench(lambda: max2(x)))
    add("cpu/pool/fp32/maxpool2x2_fwdbwd/N32_C32_H64_W64", bench(lambda: torch.autograd.grad(max2(x), x, g)))
    add("cpu/pool/fp32/relu_maxpool2x2_fwdbwd/N32_C32_H64_W64",
        bench(lambda: torch.autograd.grad(relu_max2(x), x, g)))
    # adaptive max pooling: the registry's forward case, a backward case, and a text CNN's maximum over time
    a = torch.randn(32, 256, 14, 14, requires_grad=True)
    ga = torch.randn(32, 256, 4, 4)
    add("cpu/pool/fp32/adaptive_max_pool2d/32x256x14x14", bench(lambda: F.adaptive_max_pool2d(a.detach(), (4, 4))))
    add("cpu/pool/fp32/adaptive_maxpool_fwdbwd/N32_C256_H14_W14_O4x4",
        bench(lambda: torch.autograd.grad(F.adaptive_max_pool2d(a, 4), a, ga)))
    t = torch.randn(32, 256, 1, 64, requires_grad=True)
    gt = torch.randn(32, 256, 1, 1)
    add("cpu/pool/fp32/maxovertime_fwdbwd/N32_C256_L64", bench(lambda: torch.autograd.grad(F.adaptive_max_pool2d(t, 1), t, gt)))
    v = torch.randn(4, 64, 8, 56, 56, requires_grad=True)
    gv = torch.randn(4, 64, 4, 28, 28)
    add("cpu/pool/fp32/maxpool3d_2x2x2_fwdbwd/N4_C64_D8_H56_W56",
        bench(lambda: torch.autograd.grad(F.max_pool3d(v, 2), v, gv)))
    add("cpu/pool/fp32/avgpool3d_2x2x2_fwdbwd/N4_C64_D8_H56_W56",
        bench(lambda: torch.autograd.grad(F.avg_pool3d(v, 2), v, gv)))


def conv3d_cases(add):
    for N, C, K, D, H, W in [(4, 64, 64, 8, 28, 28), (4, 3, 32, 16, 64, 64)]:
        x = torch.randn(N, C, D, H, W, requires_grad=True)
        w = (torch.randn(K, C, 3, 3, 3) / (27 * C) ** 0.5).requires_grad_()
        b = torch.zeros(K, requires_grad=True)
        g = torch.randn(N, K, D, H, W)
        tag = f"N{N}_C{C}_K{K}_D{D}_H{H}_W{W}_k3"
        add(f"cpu/conv3d/fp32/fwd/{tag}", bench(lambda: F.conv3d(x, w, b, padding=1)))
        add(f"cpu/conv3d/fp32/fwdbwd/{tag}", bench(lambda: F.conv3d(x, w, b, padding=1).backward(g)))
    xt, wt, bt = torch.randn(4, 64, 4, 14, 14), torch.randn(64, 32, 4, 4, 4), torch.randn(32)
    add("cpu/conv/fp32/conv_transpose3d/4x64x4x14x14_64x32x4x4x4_32",
        bench(lambda: F.conv_transpose3d(xt, wt, bt, stride=2, padding=1)))


def grid_cases(add):
    """benchmarks/cases_grid.cpp and the registry's grid cases (core/ops.toml: inputs in their sample ranges)."""
    x = torch.rand(16, 64, 64, 64) * 2 - 1
    grid = torch.rand(16, 64, 64, 2) * 2.6 - 1.3
    add("cpu/grid/fp32/grid_sample/16x64x64x64_16x64x64x2", bench(lambda: F.grid_sample(x, grid, align_corners=False)))
    theta = torch.rand(32, 2, 3) * 2 - 1
    add("cpu/grid/fp32/affine_grid/32x2x3",
        bench(lambda: F.affine_grid(theta, [32, 3, 224, 224], align_corners=False)))
    xl = torch.rand(16, 64, 64, 64, requires_grad=True)
    gl = (torch.rand(16, 64, 64, 2) * 2.2 - 1.1).requires_grad_(True)
    go = torch.randn(16, 64, 64, 64)
    add("cpu/grid/fp32/grid_sample_fwdbwd/N16_C64_H64_W64_G64",
        bench(lambda: torch.autograd.grad(F.grid_sample(xl, gl, align_corners=False), [xl, gl], go)))


def upsample_cases(add):
    """The registry's bicubic case ([16, 64, 64, 64] in [-1, 1) -> 128 x 128)."""
    x = torch.rand(16, 64, 64, 64) * 2 - 1
    add("cpu/upsample/fp32/upsample_bicubic2d/16x64x64x64",
        bench(lambda: F.interpolate(x, size=(128, 128), mode="bicubic", align_corners=False)))


def index_cases(add):
    """The registry's scatter_reduce case (index in [0, 5))."""
    x = torch.rand(4096, 1024) * 2 - 1
    idx = torch.randint(0, 5, (4096, 256))
    src = torch.rand(4096, 256) * 2 - 1
    add("cpu/index/fp32/scatter_reduce/4096x1024_4096x256_4096x256", bench(lambda: x.scatter_reduce(1, idx, src, "sum")))


def loss_cases(add):
    """benchmarks/cases_loss.cpp's CTC case and the registry's ctc_loss case (log-probabilities in [-1, 1))."""
    T, N, C, S = 128, 32, 40, 24
    lp = torch.randn(T, N, C).log_softmax(2).requires_grad_(True)
    targets = torch.randint(1, C, (N, S))
    il = [T - (n * 7) % 33 for n in range(N)]
    tl = [S - (n * 5) % 13 for n in range(N)]
    add("cpu/loss/fp32/ctc_fwdbwd/T128_N32_C40_S24",
        bench(lambda: torch.autograd.grad(F.ctc_loss(lp, targets, il, tl), lp)))
    x = torch.rand(T, N, C) * 2 - 1
    tg = torch.randint(1, 5, (N, S))
    add("cpu/loss/fp32/ctc_loss/128x32x40_32x24", bench(lambda: F.ctc_loss(x, tg, [T] * N, [S] * N)))


def embedding_cases(add):
    """benchmarks/cases_embedding.cpp's embedding_bag case and the registry's (indices in [0, 7))."""
    V, D, B, T = 32000, 512, 256, 32
    w = torch.randn(V, D, requires_grad=True)
    idx = torch.randint(0, V, (B, T))
    gb = torch.randn(B, D)
    add("cpu/embedding/fp32/bag_mean_fwdbwd/V32000_D512_N8192_B256",
        bench(lambda: torch.autograd.grad(F.embedding_bag(idx, w, mode="mean"), w, gb)))
    x = torch.randint(0, 7, (65536,))
    wr = torch.rand(30000, 256) * 2 - 1
    add("cpu/embedding/fp32/embedding_bag/65536_30000x256_65536",
        bench(lambda: F.embedding_bag(x, wr, torch.arange(0, 65536, 32), mode="mean")))


def activation_cases(add):
    """benchmarks/cases_activation.cpp: the registry's forward cases and the forward and backward, on 1024 x 1024
    in [-4, 4)."""
    ops = {"leaky_relu": lambda t: F.leaky_relu(t, 0.2), "elu": F.elu, "celu": F.celu, "selu": F.selu,
           "softplus": F.softplus, "hardtanh": F.hardtanh, "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish,
           "mish": F.mish, "logsigmoid": F.logsigmoid, "softsign": F.softsign, "tanhshrink": F.tanhshrink,
           "hardshrink": F.hardshrink, "softshrink": F.softshrink, "threshold": lambda t: F.threshold(t, 0.5, -3.0)}
    r = torch.rand(1024, 1024) * 8 - 4
    for name, f in ops.items():
        add(f"cpu/activation/fp32/{name}/1024x1024", bench(lambda: f(r)))
    x = (torch.rand(1024, 1024) * 8 - 4).requires_grad_(True)
    g = torch.randn(1024, 1024)
    backward_ops = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "silu": F.silu, "gelu": F.gelu,
                    "gelu_tanh": lambda t: F.gelu(t, approximate="tanh")}
    for name, f in list(ops.items()) + list(backward_ops.items()):
        if name != "celu":
            add(f"cpu/activation/fp32/{name}_fwdbwd/1024x1024", bench(lambda: torch.autograd.grad(f(x), x, g)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    a = ap.parse_args()
    fh = open(a.out, "w") if a.out else None

    def add(case, ms):
        row = {"case": case, "impl": "torch_cpu", "ms": round(ms, 3)}
        print(json.dumps(row), flush=True)
        if fh:
            fh.write(json.dumps(row) + "\n")

    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}))
    pool_cases(add)
    conv3d_cases(add)
    grid_cases(add)
    index_cases(add)
    upsample_cases(add)
    loss_cases(add)
    embedding_cases(add)
    activation_cases(add)
    if fh:
        fh.close()


if __name__ == "__main__":
    main()
