// Multi-tensor SGD and Adam/AdamW updates; CPU twin in kernels/cpu/optim.cpp
// (same formulas, coefficients computed once in double on the host and
// rounded to the tensor dtype). One launch covers every tensor of a dtype:
// block k reads ChunkRef k (which tensor, which 64 Ki-element chunk) and the
// tensor's TensorSlot from a small device table, then walks its chunk with a
// block-stride loop (coalesced, one read of each operand and one write of
// each updated buffer). The table is built on the host by the front end and
// copied through pinned staging (autograd/ops/optim.cpp).
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/optim.h"

namespace loom::kernels::cuda {

namespace {

template <typename T>
struct SgdCoef {
  T lr, mom, damp1, wd;
  bool use_mom, nesterov, first;
};

template <typename T>
__global__ void sgd_multi_kernel(const TensorSlot* __restrict__ slots, const ChunkRef* __restrict__ chunks,
                                 SgdCoef<T> c) {
  const ChunkRef ch = chunks[blockIdx.x];
  const TensorSlot s = slots[ch.slot];
  T* p = static_cast<T*>(s.ptr[0]);
  const T* g = static_cast<const T*>(s.ptr[1]);
  T* buf = static_cast<T*>(s.ptr[2]);
  const int64_t end = min(s.numel, ch.start + kChunkSize);
  for (int64_t i = ch.start + threadIdx.x; i < end; i += blockDim.x) {
    const T pi = p[i];
    T d = g[i] + c.wd * pi;
    if (c.use_mom) {
      const T nb = c.first ? d : c.mom * buf[i] + c.damp1 * d;
      buf[i] = nb;
      d = c.nesterov ? d + c.mom * nb : nb;
    }
    p[i] = pi - c.lr * d;
  }
}

template <typename T>
struct AdamCoef {
  T step_size, inv_sqrt_bc2, b1, b2, one_b1, one_b2, eps, decay, l2;
};

template <typename T>
__global__ void adam_multi_kernel(const TensorSlot* __restrict__ slots, const ChunkRef* __restrict__ chunks,
                                  AdamCoef<T> c) {
  const ChunkRef ch = chunks[blockIdx.x];
  const TensorSlot s = slots[ch.slot];
  T* p = static_cast<T*>(s.ptr[0]);
  const T* g = static_cast<const T*>(s.ptr[1]);
  T* m = static_cast<T*>(s.ptr[2]);
  T* v = static_cast<T*>(s.ptr[3]);
  T* vmax = static_cast<T*>(s.ptr[4]);  // amsgrad's running maximum of v, or null
  const int64_t end = min(s.numel, ch.start + kChunkSize);
  for (int64_t i = ch.start + threadIdx.x; i < end; i += blockDim.x) {
    const T pi = p[i] * c.decay;
    const T gi = g[i] + c.l2 * pi;
    const T mi = c.b1 * m[i] + c.one_b1 * gi;
    const T vi = c.b2 * v[i] + c.one_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    T vd = vi;
    if (vmax) {
      const T old = vmax[i];
      vd = isnan(old) ? old : (isnan(vi) || vi > old ? vi : old);  // maximum, NaN propagating (the CPU's rule)
      vmax[i] = vd;
    }
    p[i] = pi - c.step_size * mi / (sqrt(vd) * c.inv_sqrt_bc2 + c.eps);
  }
}

constexpr int kOptimThreads = 512;

}  // namespace

void sgd_step_multi(DType dt, const TensorSlot* slots, const ChunkRef* chunks, int64_t nchunks, double lr,
                    double momentum, double dampening, bool nesterov, double weight_decay, bool first_step,
                    cudaStream_t stream) {
  if (nchunks <= 0) return;
  LOOM_CHECK(nchunks <= INT32_MAX, "sgd_step_: too many chunks (", nchunks, ")");
  LOOM_DISPATCH_FLOAT(dt, "sgd_step_", [&] {
    using T = scalar_t;
    SgdCoef<T> c{static_cast<T>(lr),
                 static_cast<T>(momentum),
                 static_cast<T>(1.0 - dampening),
                 static_cast<T>(weight_decay),
                 momentum != 0,
                 nesterov,
                 first_step};
    sgd_multi_kernel<T><<<static_cast<unsigned>(nchunks), kOptimThreads, 0, stream>>>(slots, chunks, c);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void adam_step_multi(DType dt, const TensorSlot* slots, const ChunkRef* chunks, int64_t nchunks, double lr,
                     double beta1, double beta2, double eps, double weight_decay, bool decoupled, int64_t step,
                     cudaStream_t stream) {
  if (nchunks <= 0) return;
  LOOM_CHECK(nchunks <= INT32_MAX, "adam_step_: too many chunks (", nchunks, ")");
  const double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  LOOM_DISPATCH_FLOAT(dt, "adam_step_", [&] {
    using T = scalar_t;
    AdamCoef<T> c{static_cast<T>(lr / bc1),
                  static_cast<T>(1.0 / std::sqrt(bc2)),
                  static_cast<T>(beta1),
                  static_cast<T>(beta2),
                  static_cast<T>(1.0 - beta1),
                  static_cast<T>(1.0 - beta2),
                  static_cast<T>(eps),
                  static_cast<T>(decoupled ? 1.0 - lr * weight_decay : 1.0),
                  static_cast<T>(decoupled ? 0.0 : weight_decay)};
    adam_multi_kernel<T><<<static_cast<unsigned>(nchunks), kOptimThreads, 0, stream>>>(slots, chunks, c);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
