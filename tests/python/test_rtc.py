"""User kernels compiled at run time (loom.cuda.compile_kernel): compiling,
parameter parsing, templates, compile errors, the memory and disk caches and
argument checks run without a GPU; launching runs where there is one."""
import numpy as np
import pytest

import loom
from _helpers import requires_cuda

pytestmark = pytest.mark.skipif(not loom._C._cuda.rtc_available(), reason="built without CUDA (no NVRTC)")

AXPY = r"""
extern "C" __global__ void axpy(float a, const float* __restrict__ x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += a * x[i];
}
"""

SCALE = r"""
template <typename T>
__global__ void scale(T* out, const T* in, T s, long long n) {
  long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (i < n) out[i] = in[i] * s;
}
"""


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOM_CACHE_DIR", str(tmp_path))
    loom._C._cuda.rtc_clear_memory_cache()
    return tmp_path


def test_compile_without_a_gpu(cache_dir):
    k = loom.cuda.compile_kernel(AXPY, "axpy", arch="sm_90")
    assert k.name == "axpy" and k.lowered_name == "axpy" and k.arch == "sm_90"
    assert k.origin == "nvrtc"
    assert [p[:2] for p in k.params] == [("float", "a"), ("const float* __restrict__", "x"), ("float*", "y"),
                                         ("int", "n")]
    assert [p[2] for p in k.params] == ["float32", "pointer", "pointer", "int32"]
    assert loom.cuda.kernel_cache_dir() == str(cache_dir / "kernels")
    assert len(list((cache_dir / "kernels").glob("*.cubin"))) == 1
    if not loom.cuda.is_available():
        assert loom.cuda.compile_kernel(AXPY, "axpy").arch == "sm_90"  # the default without a device
    assert "axpy(float a" in repr(k)


def test_cache_memory_then_disk(cache_dir):
    assert loom.cuda.compile_kernel(AXPY, "axpy", arch="sm_80").origin == "nvrtc"
    assert loom.cuda.compile_kernel(AXPY, "axpy", arch="sm_80").origin == "memory"
    loom._C._cuda.rtc_clear_memory_cache()
    assert loom.cuda.compile_kernel(AXPY, "axpy", arch="sm_80").origin == "disk"
    # Options, architecture and source are part of the key.
    assert loom.cuda.compile_kernel(AXPY, "axpy", arch="sm_90").origin == "nvrtc"
    assert loom.cuda.compile_kernel(AXPY, "axpy", options=["-DUNUSED=1"], arch="sm_80").origin == "nvrtc"
    # A damaged cache file is recompiled, not trusted.
    for f in (cache_dir / "kernels").glob("*.cubin"):
        f.write_bytes(b"LOOMRTC1\n3 0 99999\nabc")
    loom._C._cuda.rtc_clear_memory_cache()
    assert loom.cuda.compile_kernel(AXPY, "axpy", arch="sm_80").origin == "nvrtc"


def test_template_instantiation():
    kf = loom.cuda.compile_kernel(SCALE, "scale<float>", arch="sm_90")
    kd = loom.cuda.compile_kernel(SCALE, "scale<double>", arch="sm_90")
    assert kf.lowered_name != kd.lowered_name and kf.lowered_name.startswith("_Z")
    assert [p[:2] for p in kf.params] == [("float*", "out"), ("const float*", "in"), ("float", "s"),
                                          ("long long", "n")]
    assert [p[2] for p in kd.params] == ["pointer", "pointer", "float64", "int64"]


def test_compile_errors():
    with pytest.raises(ValueError, match="does not compile") as e:
        loom.cuda.compile_kernel("__global__ void bad(float* x) { x[0] = undefined_name; }", "bad", arch="sm_90")
    assert "undefined_name" in str(e.value)  # NVRTC's log
    with pytest.raises(ValueError, match="no __global__ function named 'missing'"):
        loom.cuda.compile_kernel(AXPY, "missing")
    with pytest.raises(ValueError, match="architecture"):
        loom.cuda.compile_kernel(AXPY, "axpy", arch="hopper")
    with pytest.raises(ValueError, match="-bogus-flag|bogus"):
        loom.cuda.compile_kernel(AXPY, "axpy", options=["-bogus-flag"], arch="sm_90")


def test_argument_checks_before_launch():
    k = loom.cuda.compile_kernel(AXPY, "axpy", arch="sm_90")
    x = loom.ones(4)
    with pytest.raises(ValueError, match="expected 4 arguments"):
        k(1, 32, [1.0, x])
    with pytest.raises(TypeError, match=r"argument 1 \(const float\* __restrict__ x\) expects a tensor"):
        k(1, 32, [1.0, 2.0, x, 4])
    with pytest.raises(ValueError, match="expects a CUDA tensor"):
        k(1, 32, [1.0, x, x, 4])
    scalars = loom.cuda.compile_kernel("__global__ void only(int n, double a, bool b) {}", "only", arch="sm_90")
    with pytest.raises(TypeError, match="expects an integer"):
        scalars(1, 32, [4.5, 1.0, True])
    with pytest.raises(TypeError, match="expects a number"):
        scalars(1, 32, [4, x, True])
    with pytest.raises(ValueError, match="does not fit 32 bits"):
        scalars(1, 32, [2**40, 1.0, True])
    with pytest.raises(TypeError, match="tensors, ints or floats"):
        k(1, 32, [1.0, x, x, "4"])
    with pytest.raises(ValueError, match="block dimensions"):
        k(1, 0, [1.0, x, x, 4])
    with pytest.raises(ValueError, match="non-negative"):
        k.set_cost(flops=-1)
    assert k.set_cost(flops=8, bytes=48).flops == 8


@requires_cuda
def test_launch_on_the_gpu():
    k = loom.cuda.compile_kernel(AXPY, "axpy")
    n = 1000
    x = loom.arange(n, dtype=loom.float32).cuda()
    y = loom.ones(n).cuda()
    k((n + 255) // 256, 256, [2.0, x, y, n])
    np.testing.assert_allclose(y.cpu().numpy(), 1 + 2 * np.arange(n, dtype=np.float32))
    with pytest.raises(TypeError, match="expects float32 data"):
        k(1, 32, [2.0, x.double(), y, n])
    s = loom.cuda.compile_kernel(SCALE, "scale<double>")
    a = loom.randn(77, dtype=loom.float64).cuda()
    out = loom.empty(77, dtype=loom.float64).cuda()
    s(1, 128, [out, a, 3.0, 77])
    np.testing.assert_allclose(out.cpu().numpy(), 3 * a.cpu().numpy())


CUBE = r"""
template <typename T>
__global__ void cube_fwd(T* y, const T* x, T s, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = s * x[i] * x[i] * x[i];
}
template <typename T>
__global__ void cube_bwd(T* gx, const T* gy, const T* x, T s, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) gx[i] = 3 * s * x[i] * x[i] * gy[i];
}
"""


def _cube_function(dtype_name):
    fwd = loom.cuda.compile_kernel(CUBE, f"cube_fwd<{dtype_name}>")
    bwd = loom.cuda.compile_kernel(CUBE, f"cube_bwd<{dtype_name}>")

    class Cube(loom.autograd.Function):
        @staticmethod
        def forward(ctx, x, s):
            x = x.contiguous()
            y = loom.empty_like(x)
            fwd((x.numel() + 127) // 128, 128, [y, x, s, x.numel()])
            ctx.save_for_backward(x)
            ctx.s = s
            return y

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            gx = loom.empty_like(x)
            bwd((x.numel() + 127) // 128, 128, [gx, gy.contiguous(), x, ctx.s, x.numel()])
            return gx, None

    return Cube


@requires_cuda
def test_user_kernel_pair_is_differentiable_and_trains():
    from loom.autograd import gradcheck
    cube64 = _cube_function("double")
    x = loom.randn(37, dtype=loom.float64).cuda().requires_grad_(True)
    assert gradcheck(lambda t: cube64.apply(t, 0.5), (x,))
    cube = _cube_function("float")
    w = (loom.ones(64) * 0.5).cuda().requires_grad_(True)
    target = loom.full((64,), 0.3).cuda()
    opt = loom.optim.SGD([w], lr=0.5)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((cube.apply(w, 1.0) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
