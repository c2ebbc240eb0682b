// Fused cross-entropy over rows [M, C] with int64 targets, NLL loss and BCE with logits; CPU twin in
// kernels/cpu/loss.cpp (same formulas, see kernels/loss.h):
//   forward   lse = m + log sum exp(x - m); loss = (1-eps) w_t (lse - x_t) +
//             eps/C (W lse - sum_c w_c x_c); roww = w_t. Saved: lse per row.
//   backward  dx_c = g (p_c ((1-eps) w_t + eps/C W) - eps/C w_c) - g (1-eps) w_t [c == t],
//             p_c = exp(x_c - lse): one read of the logits, one write.
// One block per row. Forward reads the row once: every thread keeps an online
// (running max, rescaled sum of exp) pair, plus the weighted logit sum for
// label smoothing; the block then reduces the maxima and the rescaled sums.
// Backward reads the row once more and writes it. W, the class-weight sum, is
// only needed with label smoothing: forward accumulates it in the same pass,
// backward in a pass over the (cached) weight. Ignored rows get zeros. Sums
// accumulate in the input type.
//
// NLL loss over x [N, C, K]: forward one thread per row (n, k) (a gather);
// backward one thread per element of dx, zero but at the row's target.
// BCE with logits: elementwise, one element per thread through OffsetCalc.
#include "kernels/cuda/common.cuh"
#include "kernels/loss.h"

namespace loom::kernels::cuda {

namespace {

template <typename T>
__global__ void cross_entropy_forward_kernel(T* __restrict__ loss, T* __restrict__ lse, T* __restrict__ roww,
                                             const T* __restrict__ x, const int64_t* __restrict__ target,
                                             const T* __restrict__ weight, int64_t C, int64_t ignore, T eps,
                                             int* error_flag) {
  const int64_t r = blockIdx.x;
  const int64_t t = target[r];
  if (t == ignore || t < 0 || t >= C) {  // uniform across the block: every thread returns
    if (threadIdx.x == 0) {
      if (t != ignore) atomicExch(error_flag, 1);
      loss[r] = lse[r] = roww[r] = T(0);
    }
    return;
  }
  const T* xr = x + r * C;
  // One pass: each thread keeps a running max m and sum s = sum exp(v - m)
  // of its elements (online softmax), then the block rescales to the row max.
  T m = -INFINITY, s = 0, wx = 0, ws = 0;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const T v = xr[c];
    if (v > m) {
      s = s * exp(m - v) + T(1);
      m = v;
    } else if (v == m) {
      if (m != -INFINITY) s += T(1);  // equal values, +inf included; -inf adds nothing
    } else {
      s += exp(v - m);  // NaN propagates
    }
    if (eps > 0) {
      wx += weight ? weight[c] * v : v;
      ws += weight ? weight[c] : T(1);
    }
  }
  const T mb = block_reduce(m, MaxOp(), T(-INFINITY));
  s = m == -INFINITY ? T(0) : (m == mb ? s : s * exp(m - mb));
  s = block_reduce(s, SumOp(), T(0));
  if (eps > 0) {  // eps is uniform across the block, so every thread reduces
    wx = block_reduce(wx, SumOp(), T(0));
    ws = block_reduce(ws, SumOp(), T(0));
  }
  if (threadIdx.x == 0) {
    const T l = mb + log(s);
    const T wt = weight ? weight[t] : T(1);
    T v = (T(1) - eps) * wt * (l - xr[t]);
    if (eps > 0) v += eps / static_cast<T>(C) * (ws * l - wx);
    loss[r] = v;
    lse[r] = l;
    roww[r] = wt;
  }
}

template <typename T>
__global__ void cross_entropy_backward_kernel(T* __restrict__ dx, const T* __restrict__ x,
                                              const int64_t* __restrict__ target, const T* __restrict__ weight,
                                              const T* __restrict__ lse, const T* __restrict__ grad, int64_t gstride,
                                              int64_t C, int64_t ignore, T eps) {
  const int64_t r = blockIdx.x;
  const int64_t t = target[r];
  T* dr = dx + r * C;
  if (t == ignore || t < 0 || t >= C) {
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) dr[c] = T(0);
    return;
  }
  const T* xr = x + r * C;
  T ws = static_cast<T>(C);
  if (weight && eps > 0) {  // the class-weight sum W, from L1/L2
    ws = 0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) ws += weight[c];
    ws = block_reduce(ws, SumOp(), T(0));
  }
  const T g = grad[r * gstride];
  const T l = lse[r];
  const T wt = weight ? weight[t] : T(1);
  const T a = g * ((T(1) - eps) * wt + eps / static_cast<T>(C) * ws);
  const T bc = g * eps / static_cast<T>(C);
  const T hit = g * (T(1) - eps) * wt;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    T v = exp(xr[c] - l) * a - bc * (weight ? weight[c] : T(1));
    if (c == t) v -= hit;
    dr[c] = v;
  }
}

template <typename T>
__global__ void nll_loss_forward_kernel(T* __restrict__ loss, T* __restrict__ roww, const T* __restrict__ x,
                                        const int64_t* __restrict__ target, const T* __restrict__ weight, int64_t M,
                                        int64_t C, int64_t K, int64_t ignore, int* error_flag) {
  for (int64_t m = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; m < M; m += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = target[m];
    if (t == ignore || t < 0 || t >= C) {
      if (t != ignore) atomicExch(error_flag, 1);
      loss[m] = roww[m] = T(0);
      continue;
    }
    const int64_t n = m / K, k = m - n * K;
    const T w = weight ? weight[t] : T(1);
    loss[m] = -(w * x[(n * C + t) * K + k]);
    roww[m] = w;
  }
}

// index_t: int32_t when dx is below 2^30 elements (cheaper divisions), else int64_t.
template <typename T, typename index_t>
__global__ void nll_loss_backward_kernel(T* __restrict__ dx, const int64_t* __restrict__ target,
                                         const T* __restrict__ weight, const T* __restrict__ grad, int64_t gstride,
                                         index_t total, index_t C, index_t K, int64_t ignore) {
  for (index_t i = blockIdx.x * index_t(blockDim.x) + threadIdx.x; i < total; i += index_t(gridDim.x) * blockDim.x) {
    const index_t k = i % K, nc = i / K, c = nc % C, m = (nc / C) * K + k;
    const int64_t t = target[m];
    dx[i] = c == t && t != ignore ? -(grad[m * gstride] * (weight ? weight[t] : T(1))) : T(0);
  }
}

template <typename T>
struct BceForwardF {
  T* out;
  const T* x;
  const T* t;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    const T v = x[off[1]];
    out[off[0]] = (T(1) - t[off[2]]) * v + (v < T(0) ? -v : T(0)) + log1p(exp(-fabs(v)));
  }
};

template <typename T>
struct BceBackwardF {
  T* dx;
  const T* x;
  const T* t;
  const T* g;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    dx[off[0]] = g[off[3]] * (T(1) / (T(1) + exp(-x[off[1]])) - t[off[2]]);
  }
};

int row_threads(int64_t C) {
  if (C <= 128) return 64;
  if (C <= 1024) return 128;
  if (C <= 4096) return 256;
  return 512;
}

}  // namespace

void cross_entropy_forward(DType dt, void* loss, void* lse, void* roww, const void* logits, const int64_t* target,
                           const void* weight, int64_t M, int64_t C, int64_t ignore_index, double smoothing,
                           int* error_flag, cudaStream_t stream) {
  if (M <= 0) return;
  LOOM_CHECK(M <= INT32_MAX, "cross_entropy: too many rows (", M, ")");
  LOOM_DISPATCH_FLOAT(dt, "cross_entropy", [&] {
    using T = scalar_t;
    cross_entropy_forward_kernel<T><<<static_cast<unsigned>(M), row_threads(C), 0, stream>>>(
        static_cast<T*>(loss), static_cast<T*>(lse), static_cast<T*>(roww), static_cast<const T*>(logits), target,
        static_cast<const T*>(weight), C, ignore_index, static_cast<T>(smoothing), error_flag);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void cross_entropy_backward(DType dt, void* dlogits, const void* logits, const int64_t* target, const void* weight,
                            const void* lse, const void* grad, int64_t grad_stride, int64_t M, int64_t C,
                            int64_t ignore_index, double smoothing, cudaStream_t stream) {
  if (M <= 0) return;
  LOOM_CHECK(M <= INT32_MAX, "cross_entropy_backward: too many rows (", M, ")");
  LOOM_DISPATCH_FLOAT(dt, "cross_entropy_backward", [&] {
    using T = scalar_t;
    cross_entropy_backward_kernel<T><<<static_cast<unsigned>(M), row_threads(C), 0, stream>>>(
        static_cast<T*>(dlogits), static_cast<const T*>(logits), target, static_cast<const T*>(weight),
        static_cast<const T*>(lse), static_cast<const T*>(grad), grad_stride, C, ignore_index,
        static_cast<T>(smoothing));
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void nll_loss_forward(DType dt, void* loss, void* roww, const void* x, const int64_t* target, const void* weight,
                      int64_t N, int64_t C, int64_t K, int64_t ignore_index, int* error_flag, cudaStream_t stream) {
  const int64_t M = N * K;
  if (M <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "nll_loss", [&] {
    using T = scalar_t;
    nll_loss_forward_kernel<T><<<grid_for(M), kThreads, 0, stream>>>(
        static_cast<T*>(loss), static_cast<T*>(roww), static_cast<const T*>(x), target, static_cast<const T*>(weight),
        M, C, K, ignore_index, error_flag);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void nll_loss_backward(DType dt, void* dx, const int64_t* target, const void* weight, const void* grad,
                       int64_t grad_stride, int64_t N, int64_t C, int64_t K, int64_t ignore_index,
                       cudaStream_t stream) {
  const int64_t total = N * C * K;
  if (total <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "nll_loss_backward", [&] {
    using T = scalar_t;
    dispatch_index(total < (int64_t(1) << 30), [&](auto tag) {  // headroom for i + the grid stride
      using index_t = decltype(tag);
      nll_loss_backward_kernel<T, index_t><<<grid_for(total), kThreads, 0, stream>>>(
          static_cast<T*>(dx), target, static_cast<const T*>(weight), static_cast<const T*>(grad), grad_stride,
          static_cast<index_t>(total), static_cast<index_t>(C), static_cast<index_t>(K), ignore_index);
      LOOM_CUDA_KERNEL_CHECK();
    });
  });
}

void bce_logits_forward(DType dt, void* out, const void* x, const void* t, const ElementwiseLoop& loop,
                        cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "binary_cross_entropy_with_logits", [&] {
    using T = scalar_t;
    launch_offsets<3>(loop, BceForwardF<T>{static_cast<T*>(out), static_cast<const T*>(x), static_cast<const T*>(t)},
                      stream);
  });
}

void bce_logits_backward(DType dt, void* dx, const void* x, const void* t, const void* g, const ElementwiseLoop& loop,
                         cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "binary_cross_entropy_with_logits_backward", [&] {
    using T = scalar_t;
    launch_offsets<4>(loop,
                      BceBackwardF<T>{static_cast<T*>(dx), static_cast<const T*>(x), static_cast<const T*>(t),
                                      static_cast<const T*>(g)},
                      stream);
  });
}

}  // namespace loom::kernels::cuda
