#!/usr/bin/env python3
"""Trains a small CNN on Fashion-MNIST (Debian's dataset-fashion-mnist) with
loom's Python API - written exactly as it would be with PyTorch - and prints
the test accuracy.

    PYTHONPATH=python .venv/bin/python examples/train_fashion_mnist.py [--epochs 3]
        [--train-limit N] [--test-limit N] [--device cpu|cuda] [--min-accuracy X]

Exit status 77 when the data set is not installed; 1 when --min-accuracy is
given and not reached.
"""
import argparse
import gzip
import math
import os
import sys
import time

import numpy as np

import loom
import loom.nn as nn
import loom.optim
import loom.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def load_split(data_dir, prefix, limit):
    with gzip.open(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    if int.from_bytes(raw[:4], "big") != 2051:
        raise RuntimeError(f"malformed IDX image file in {data_dir}")
    n = int.from_bytes(raw[4:8], "big")
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 1, 28, 28)
    with gzip.open(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    if limit:
        images, labels = images[:limit], labels[:limit]
    x = loom.from_numpy(images.astype(np.float32) / 255.0)
    y = loom.from_numpy(labels.astype(np.int64))
    return x, y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(x.flatten(1))


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with loom.no_grad():
        for s in range(0, x.shape[0], batch):
            correct += int((model(x[s:s + batch]).argmax(1) == y[s:s + batch]).sum().item())
    model.train()
    return correct / x.shape[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--train-limit", type=int, default=0)
    ap.add_argument("--test-limit", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--data-dir", default=DATA)
    ap.add_argument("--min-accuracy", type=float, default=None)
    args = ap.parse_args()

    if not os.path.exists(os.path.join(args.data_dir, "train-images-idx3-ubyte.gz")):
        print(f"Fashion-MNIST not found in {args.data_dir} (apt-get install dataset-fashion-mnist): skipping")
        return 77
    loom.manual_seed(0)
    xtr, ytr = load_split(args.data_dir, "train", args.train_limit)
    xte, yte = load_split(args.data_dir, "t10k", args.test_limit)
    xtr, ytr, xte, yte = (t.to(args.device) for t in (xtr, ytr, xte, yte))
    print(f"Fashion-MNIST: {xtr.shape[0]} training and {xte.shape[0]} test images on {args.device}")

    model = Net().to(args.device)
    opt = loom.optim.Adam(model.parameters(), lr=args.lr)
    sched = loom.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    n = xtr.shape[0]
    acc = 0.0
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        perm = loom.randperm(n).to(args.device)
        for s in range(0, n - args.batch + 1, args.batch):
            idx = perm[s:s + args.batch]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        acc = accuracy(model, xte, yte)
        print(f"epoch {epoch}  loss {loss.item():.4f}  {time.time() - t0:.1f}s  test accuracy {100 * acc:.2f}%",
              flush=True)
    print(f"final test accuracy: {100 * acc:.2f}%")
    if args.min_accuracy is not None and acc < args.min_accuracy:
        print(f"below the required {100 * args.min_accuracy:.2f}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
