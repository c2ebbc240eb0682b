"""CPU costs of small ops, in-place ops, log_softmax and whole graphs (build,
backward, free) from Python: the paths that input checks touch. Median of 7 runs.
    PYTHONPATH=python python3 benchmarks/cpu_overhead.py"""
import statistics
import time

import loom
loom.manual_seed(0)
def bench(name, fn, reps=7):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    print(f"{name:42s} {statistics.median(ts) * 1e3:9.2f} ms")
x1 = loom.ones(1)
def small_ops():
    y = x1
    for _ in range(5000):
        y = y + 1.0
bench("5,000 one-element adds", small_ops)
a = loom.randn(1024, 1024)
def inplace():
    for _ in range(20):
        a.mul_(1.0001); a.add_(a, alpha=0.5)
bench("20 x (mul_ + add_ alpha) 1024x1024", inplace)
s = loom.randn(8192, 1024)
bench("log_softmax 8192x1024 (dim 1)", lambda: s.log_softmax(1))
bench("log_softmax 1024x8192 (dim 0)", lambda: s.view(1024, 8192).log_softmax(0))
w1 = loom.randn(256, 512, requires_grad=True); w2 = loom.randn(512, 10, requires_grad=True)
xb = loom.randn(128, 256)
def mlp():
    for _ in range(50):
        loss = (xb @ w1).relu().matmul(w2).log_softmax(1).mean()
        loss.backward()
bench("50 MLP steps fwd+bwd (128x256x512x10)", mlp)
def chain():
    x = loom.ones(1, requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0
    y.backward()
    del y
bench("20,000-op chain: build, backward, free", chain, reps=5)
