#!/usr/bin/env python3
"""Profiles one training step of the CLIP-style dual encoder of shared/bench/SPEC.md (four convolutions with
max-pooling for the images, a Transformer or an LSTM for 32-token captions, the symmetric contrastive loss, AdamW)
with loom.profiler, as one would with torch.profiler: prints the table of ops (by self CPU time, or by GPU time on
CUDA) with the roofline column, writes a Chrome trace (open it in https://ui.perfetto.dev or chrome://tracing)
and a roofline plot (PNG, with matplotlib).

    PYTHONPATH=python .venv/bin/python examples/profile_clip.py [--device cpu|cuda] [--batch 32] [--text transformer|lstm]
        [--out-dir DIR] [--rows 15]

On the CPU the step runs at a small batch (the SPEC case is 256 on a GPU). On CUDA every kernel is timed
(CUPTI, else CUDA events) and attributed to the op that launched it.
"""
import argparse
import os
import time

import loom
import loom.optim
from loom.profiler import ProfilerActivity, profile, record_function


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--text", default="transformer", choices=["transformer", "lstm"])
    ap.add_argument("--out-dir", default=".")
    ap.add_argument("--rows", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    loom.manual_seed(args.seed)
    device = loom.device(args.device)
    model = loom.multimodal.CLIP(args.text).to(device)
    opt = loom.optim.AdamW(model.parameters(), lr=1e-3)
    images = loom.randn(args.batch, 3, 64, 64, device=device)
    tokens = loom.randint(0, 1000, (args.batch, 32), device=device)

    def step():
        opt.zero_grad()
        with record_function("forward"):
            loss = model(images, tokens)
        with record_function("backward"):
            loss.backward()
        with record_function("optimizer"):
            opt.step()
        return loss

    step()  # warm-up: first-call allocations, and on CUDA the convolution autotuner
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    t0 = time.perf_counter()
    with profile(activities=activities, record_shapes=True, profile_memory=True) as prof:
        with record_function("train_step"):
            loss = step()
        if device.type == "cuda":
            loom.cuda.synchronize()
    wall = time.perf_counter() - t0

    print(f"CLIP ({args.text}) training step, batch {args.batch} on {device}: loss {loss.item():.4f}, "
          f"{wall * 1e3:.1f} ms under the profiler")
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=sort, row_limit=args.rows))
    os.makedirs(args.out_dir, exist_ok=True)
    trace = os.path.join(args.out_dir, "profile_clip_trace.json")
    prof.export_chrome_trace(trace)
    print(f"trace: {trace} ({len(prof.events())} events, {len(prof.kernels())} GPU kernels, "
          f"peak CPU memory {prof.peak_memory_bytes() / 2**20:.1f} MiB)")
    try:
        plot = os.path.join(args.out_dir, "profile_clip_roofline.png")
        prof.roofline_plot(plot, title=f"CLIP ({args.text}) training step, batch {args.batch}, {device}")
        print(f"roofline plot: {plot}")
    except ImportError as e:
        print(f"no roofline plot: {e}")


if __name__ == "__main__":
    main()
