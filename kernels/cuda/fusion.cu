// CUDA fusion kernels: twins of kernels/cpu/fusion.cpp (same math, same
// layouts: contiguous row-major float32 / float64).
//
// Pointwise epilogues (gated fusion, FiLM, bilinear product, bias +
// activation and their backward passes) are grid-stride loops over the
// flattened elements with 64-bit indices; each operand is read once and each
// output written once, coalesced. The gated and FiLM kernels (the benchmarked
// ones) also have 16-byte vector variants (float4 / double2) taken when D is a
// multiple of the width and every pointer is 16-byte aligned. The gated forward adds the bias inside the
// sigmoid, so the two GEMMs before it (a W_a^T, then b W_b^T with beta = 1)
// never need a bias pass; the gate is written for backward.
// clip_loss forward: sim [N, N] is read three times: a row kernel (one
// block per row: block max, then block sum of exp), a column kernel (blocks of
// 32 columns x 8 row groups, each thread an online max / sum over its rows,
// combined through shared memory, so loads along a row stay coalesced), then a
// one-block kernel for the loss over the diagonal. The scale exp(logit_scale)
// and the incoming dloss are read from device memory, never synchronised.
// clip_loss backward: one block per row writes dsim and the row's partial of
// sum(dsim * sim) (the logit_scale gradient, summed by the caller).
// linear: cuBLASLt with the BIAS / RELU_BIAS / GELU_BIAS epilogue, the algo
// chosen by the heuristic and cached per shape / epilogue / alignment.
#include <cublasLt.h>
#include <cublas_v2.h>

#include <cmath>
#include <initializer_list>
#include <map>
#include <mutex>
#include <tuple>

#include "kernels/cuda/common.cuh"
#include "kernels/fusion.h"
#include "kernels/matmul.h"

#define LOOM_CUBLASLT_CHECK(call)                                                                                      \
  do {                                                                                                                 \
    cublasStatus_t loom_st_ = (call);                                                                                  \
    if (loom_st_ != CUBLAS_STATUS_SUCCESS)                                                                             \
      LOOM_THROW(loom_st_ == CUBLAS_STATUS_ALLOC_FAILED ? ::loom::ErrorKind::OutOfMemory : ::loom::ErrorKind::Runtime, \
                 "cuBLASLt error: ", cublasLtGetStatusString(loom_st_), " (", #call, " at ", __FILE__, ":", __LINE__,  \
                 ")");                                                                                                 \
  } while (0)

namespace loom::kernels::cuda {
namespace {

template <typename T>
__device__ __forceinline__ T dexp(T x) {
  return exp(x);
}
template <>
__device__ __forceinline__ float dexp<float>(float x) {
  return expf(x);
}

template <typename T>
__device__ __forceinline__ T sigmoid(T x) {
  return T(1) / (T(1) + dexp(-x));
}

constexpr double kGeluK = 0.7978845608028654;  // sqrt(2 / pi)
constexpr double kGeluC = 0.044715;

template <typename T>
__device__ __forceinline__ T gelu_tanh(T z) {
  const T t = tanh(T(kGeluK) * (z + T(kGeluC) * z * z * z));
  return T(0.5) * z * (T(1) + t);
}

template <typename T>
__device__ __forceinline__ T gelu_tanh_grad(T z) {
  const T t = tanh(T(kGeluK) * (z + T(kGeluC) * z * z * z));
  return T(0.5) * (T(1) + t) + T(0.5) * z * (T(1) - t * t) * T(kGeluK) * (T(1) + T(3 * kGeluC) * z * z);
}

#define LOOM_GRID_STRIDE(i, n) \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

// ---- gated fusion ----

template <typename T>
__global__ void gated_fusion_forward_kernel(T* __restrict__ out, T* gate, const T* z, const T* __restrict__ bias,
                                            const T* __restrict__ a, const T* __restrict__ b, int64_t n, int64_t D) {
  LOOM_GRID_STRIDE(i, n) {
    T zi = z[i];
    if (bias) zi += bias[i % D];
    const T g = sigmoid(zi);
    gate[i] = g;
    const T bi = b[i];
    out[i] = bi + g * (a[i] - bi);
  }
}

template <typename T>
__global__ void gated_fusion_backward_kernel(T* __restrict__ dz, T* __restrict__ da, T* __restrict__ db,
                                             const T* __restrict__ dout, const T* __restrict__ a,
                                             const T* __restrict__ b, const T* __restrict__ gate, int64_t n) {
  LOOM_GRID_STRIDE(i, n) {
    const T go = dout[i], g = gate[i];
    dz[i] = go * (a[i] - b[i]) * g * (T(1) - g);
    if (da) da[i] = go * g;
    if (db) db[i] = go - go * g;
  }
}

// 16-byte vector variants (float4 / double2) of the two gated kernels, used
// when D is a multiple of the vector width and every pointer is 16-byte
// aligned: a vector never straddles a row, so its bias slice is contiguous.
template <typename T>
struct Vec16;
template <>
struct Vec16<float> {
  using type = float4;
  static constexpr int N = 4;
};
template <>
struct Vec16<double> {
  using type = double2;
  static constexpr int N = 2;
};

template <typename T>
struct alignas(16) Pack {
  T v[Vec16<T>::N];
  __device__ __forceinline__ void load(const T* p, int64_t i) {
    *reinterpret_cast<typename Vec16<T>::type*>(v) = reinterpret_cast<const typename Vec16<T>::type*>(p)[i];
  }
  __device__ __forceinline__ void store(T* p, int64_t i) const {
    reinterpret_cast<typename Vec16<T>::type*>(p)[i] = *reinterpret_cast<const typename Vec16<T>::type*>(v);
  }
};

template <typename T>
__global__ void gated_fusion_forward_vec_kernel(T* __restrict__ out, T* gate, const T* z, const T* __restrict__ bias,
                                                const T* __restrict__ a, const T* __restrict__ b, int64_t nv,
                                                int64_t Dv) {
  constexpr int V = Vec16<T>::N;
  LOOM_GRID_STRIDE(i, nv) {
    Pack<T> zz, aa, bb, cc, gg, oo;
    zz.load(z, i);
    aa.load(a, i);
    bb.load(b, i);
    if (bias) cc.load(bias, i % Dv);
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const T g = sigmoid(bias ? zz.v[k] + cc.v[k] : zz.v[k]);
      gg.v[k] = g;
      oo.v[k] = bb.v[k] + g * (aa.v[k] - bb.v[k]);
    }
    gg.store(gate, i);
    oo.store(out, i);
  }
}

template <typename T>
__global__ void gated_fusion_backward_vec_kernel(T* __restrict__ dz, T* __restrict__ da, T* __restrict__ db,
                                                 const T* __restrict__ dout, const T* __restrict__ a,
                                                 const T* __restrict__ b, const T* __restrict__ gate, int64_t nv) {
  constexpr int V = Vec16<T>::N;
  LOOM_GRID_STRIDE(i, nv) {
    Pack<T> go, aa, bb, gg, rz, ra, rb;
    go.load(dout, i);
    aa.load(a, i);
    bb.load(b, i);
    gg.load(gate, i);
#pragma unroll
    for (int k = 0; k < V; ++k) {
      rz.v[k] = go.v[k] * (aa.v[k] - bb.v[k]) * gg.v[k] * (T(1) - gg.v[k]);
      ra.v[k] = go.v[k] * gg.v[k];
      rb.v[k] = go.v[k] - go.v[k] * gg.v[k];
    }
    rz.store(dz, i);
    if (da) ra.store(da, i);
    if (db) rb.store(db, i);
  }
}

bool aligned16(std::initializer_list<const void*> ps) {
  for (const void* p : ps)
    if (p && reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
  return true;
}

// ---- FiLM ----

template <typename T>
__global__ void film_forward_kernel(T* __restrict__ out, const T* __restrict__ gb, const T* __restrict__ a, int64_t n,
                                    int64_t D) {
  LOOM_GRID_STRIDE(i, n) {
    const int64_t r = i / D, j = i - r * D;
    const T* row = gb + r * 2 * D;
    out[i] = row[j] * a[i] + row[D + j];
  }
}

template <typename T>
__global__ void film_backward_kernel(T* __restrict__ dgb, T* __restrict__ da, const T* __restrict__ dout,
                                     const T* __restrict__ gb, const T* __restrict__ a, int64_t n, int64_t D) {
  LOOM_GRID_STRIDE(i, n) {
    const int64_t r = i / D, j = i - r * D;
    const T go = dout[i];
    T* drow = dgb + r * 2 * D;
    drow[j] = go * a[i];
    drow[D + j] = go;
    if (da) da[i] = go * gb[r * 2 * D + j];
  }
}

// Vector variants (D a multiple of the width, pointers 16-byte aligned): the
// gamma / beta halves of a row start at multiples of the width too.
template <typename T>
__global__ void film_forward_vec_kernel(T* __restrict__ out, const T* __restrict__ gb, const T* __restrict__ a,
                                        int64_t nv, int64_t D) {
  constexpr int V = Vec16<T>::N;
  LOOM_GRID_STRIDE(i, nv) {
    const int64_t e = i * V, r = e / D, j = e - r * D;
    const int64_t g0 = (r * 2 * D + j) / V, b0 = (r * 2 * D + D + j) / V;
    Pack<T> gam, bet, aa, oo;
    gam.load(gb, g0);
    bet.load(gb, b0);
    aa.load(a, i);
#pragma unroll
    for (int k = 0; k < V; ++k) oo.v[k] = gam.v[k] * aa.v[k] + bet.v[k];
    oo.store(out, i);
  }
}

template <typename T>
__global__ void film_backward_vec_kernel(T* __restrict__ dgb, T* __restrict__ da, const T* __restrict__ dout,
                                         const T* __restrict__ gb, const T* __restrict__ a, int64_t nv, int64_t D) {
  constexpr int V = Vec16<T>::N;
  LOOM_GRID_STRIDE(i, nv) {
    const int64_t e = i * V, r = e / D, j = e - r * D;
    const int64_t g0 = (r * 2 * D + j) / V, b0 = (r * 2 * D + D + j) / V;
    Pack<T> go, aa, dg;
    go.load(dout, i);
    aa.load(a, i);
#pragma unroll
    for (int k = 0; k < V; ++k) dg.v[k] = go.v[k] * aa.v[k];
    dg.store(dgb, g0);
    go.store(dgb, b0);
    if (da) {
      Pack<T> gam, ra;
      gam.load(gb, g0);
#pragma unroll
      for (int k = 0; k < V; ++k) ra.v[k] = go.v[k] * gam.v[k];
      ra.store(da, i);
    }
  }
}

// ---- bilinear ----

template <typename T>
__global__ void product_kernel(T* __restrict__ h, const T* __restrict__ x, const T* __restrict__ y, int64_t n) {
  LOOM_GRID_STRIDE(i, n) h[i] = x[i] * y[i];
}

template <typename T>
__global__ void product_backward_kernel(T* __restrict__ dx, T* __restrict__ dy, const T* __restrict__ g,
                                        const T* __restrict__ x, const T* __restrict__ y, int64_t n) {
  LOOM_GRID_STRIDE(i, n) {
    const T gi = g[i];
    if (dx) dx[i] = gi * y[i];
    if (dy) dy[i] = gi * x[i];
  }
}

// ---- clip loss ----

template <typename T>
__device__ __forceinline__ T neg_inf() {
  return -INFINITY;
}

// One block per row i: row_lse[i] = logsumexp_j s * sim[i, j].
template <typename T>
__global__ void clip_row_lse_kernel(T* __restrict__ row_lse, const T* __restrict__ sim,
                                    const T* __restrict__ logit_scale, int64_t N) {
  const T s = dexp(*logit_scale);
  const T* row = sim + int64_t(blockIdx.x) * N;
  T m = neg_inf<T>();
  for (int64_t j = threadIdx.x; j < N; j += blockDim.x) m = max(m, s * row[j]);
  m = block_reduce(m, MaxOp(), neg_inf<T>());
  T acc = 0;
  for (int64_t j = threadIdx.x; j < N; j += blockDim.x) acc += dexp(s * row[j] - m);
  acc = block_reduce(acc, SumOp(), T(0));
  if (threadIdx.x == 0) row_lse[blockIdx.x] = m + log(acc);
}

constexpr int kColX = 32, kColY = 8;

// Blocks of kColX columns; threadIdx.y strides over the rows keeping an
// online (max, sum of exp) pair, then the kColY pairs of a column merge.
template <typename T>
__global__ void clip_col_lse_kernel(T* __restrict__ col_lse, const T* __restrict__ sim,
                                    const T* __restrict__ logit_scale, int64_t N) {
  __shared__ T sm[kColY][kColX];
  __shared__ T ss[kColY][kColX];
  const T s = dexp(*logit_scale);
  const int64_t j = int64_t(blockIdx.x) * kColX + threadIdx.x;
  T m = neg_inf<T>(), acc = 0;
  if (j < N) {
    for (int64_t i = threadIdx.y; i < N; i += kColY) {
      const T l = s * sim[i * N + j];
      if (l > m) {
        acc = acc * dexp(m - l) + T(1);
        m = l;
      } else {
        acc += dexp(l - m);
      }
    }
  }
  sm[threadIdx.y][threadIdx.x] = m;
  ss[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && j < N) {
    T mm = neg_inf<T>();
    for (int k = 0; k < kColY; ++k) mm = max(mm, sm[k][threadIdx.x]);
    T tot = 0;
    for (int k = 0; k < kColY; ++k)
      if (ss[k][threadIdx.x] > T(0)) tot += ss[k][threadIdx.x] * dexp(sm[k][threadIdx.x] - mm);
    col_lse[j] = mm + log(tot);
  }
}

template <typename T>
__global__ void clip_loss_kernel(T* __restrict__ loss, const T* __restrict__ row_lse, const T* __restrict__ col_lse,
                                 const T* __restrict__ sim, const T* __restrict__ logit_scale, int64_t N) {
  const T s = dexp(*logit_scale);
  double acc = 0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x)
    acc += double(row_lse[i]) + double(col_lse[i]) - 2.0 * double(s * sim[i * N + i]);
  acc = block_reduce(acc, SumOp(), 0.0);
  if (threadIdx.x == 0) *loss = T(acc / (2.0 * double(N)));
}

template <typename T>
__global__ void clip_backward_kernel(T* __restrict__ dsim, T* __restrict__ part, const T* __restrict__ dloss,
                                     const T* __restrict__ sim, const T* __restrict__ row_lse,
                                     const T* __restrict__ col_lse, const T* __restrict__ logit_scale, int64_t N) {
  const T s = dexp(*logit_scale);
  const T coef = s * *dloss / T(2 * N);
  const int64_t i = blockIdx.x;
  const T ri = row_lse[i];
  const T* row = sim + i * N;
  T* drow = dsim + i * N;
  T acc = 0;
  for (int64_t j = threadIdx.x; j < N; j += blockDim.x) {
    const T x = row[j], l = s * x;
    T v = dexp(l - ri) + dexp(l - col_lse[j]);
    if (j == i) v -= T(2);
    const T d = coef * v;
    drow[j] = d;
    acc += d * x;
  }
  acc = block_reduce(acc, SumOp(), T(0));
  if (threadIdx.x == 0) part[i] = acc;
}

// ---- linear epilogue ----

template <typename T>
__global__ void bias_activation_kernel(T* __restrict__ y, T* __restrict__ pre, const T* __restrict__ bias, int64_t n,
                                       int64_t O, int act) {
  LOOM_GRID_STRIDE(i, n) {
    T v = y[i];
    if (bias) v += bias[i % O];
    if (pre) pre[i] = v;
    if (act == 1) v = v > T(0) ? v : T(0);
    else if (act == 2) v = gelu_tanh(v);
    y[i] = v;
  }
}

template <typename T>
__global__ void activation_backward_kernel(T* dz, const T* dy, const T* __restrict__ saved, int64_t n, int act) {
  LOOM_GRID_STRIDE(i, n) {
    const T g = dy[i];
    if (act == 1) dz[i] = saved[i] > T(0) ? g : T(0);
    else if (act == 2) dz[i] = g * gelu_tanh_grad(saved[i]);
    else dz[i] = g;
  }
}

}  // namespace

// ---------------------------------------------------------------- launchers

void gated_fusion_forward(DType dt, void* out, void* gate, const void* z, const void* bias, const void* a,
                          const void* b, int64_t B, int64_t D, cudaStream_t stream) {
  const int64_t n = B * D;
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "gated_fusion", [&] {
    using T = scalar_t;
    constexpr int V = Vec16<T>::N;
    if (D % V == 0 && aligned16({out, gate, z, bias, a, b})) {
      gated_fusion_forward_vec_kernel<T><<<grid_for(n / V), kThreads, 0, stream>>>(
          static_cast<T*>(out), static_cast<T*>(gate), static_cast<const T*>(z), static_cast<const T*>(bias),
          static_cast<const T*>(a), static_cast<const T*>(b), n / V, D / V);
    } else {
      gated_fusion_forward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(
          static_cast<T*>(out), static_cast<T*>(gate), static_cast<const T*>(z), static_cast<const T*>(bias),
          static_cast<const T*>(a), static_cast<const T*>(b), n, D);
    }
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void gated_fusion_backward(DType dt, void* dz, void* da, void* db, const void* dout, const void* a, const void* b,
                           const void* gate, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "gated_fusion_backward", [&] {
    using T = scalar_t;
    constexpr int V = Vec16<T>::N;
    if (n % V == 0 && aligned16({dz, da, db, dout, a, b, gate})) {
      gated_fusion_backward_vec_kernel<T><<<grid_for(n / V), kThreads, 0, stream>>>(
          static_cast<T*>(dz), static_cast<T*>(da), static_cast<T*>(db), static_cast<const T*>(dout),
          static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(gate), n / V);
    } else {
      gated_fusion_backward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(
          static_cast<T*>(dz), static_cast<T*>(da), static_cast<T*>(db), static_cast<const T*>(dout),
          static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(gate), n);
    }
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void film_forward(DType dt, void* out, const void* gb, const void* a, int64_t B, int64_t D, cudaStream_t stream) {
  const int64_t n = B * D;
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "film", [&] {
    using T = scalar_t;
    constexpr int V = Vec16<T>::N;
    if (D % V == 0 && aligned16({out, gb, a})) {
      film_forward_vec_kernel<T><<<grid_for(n / V), kThreads, 0, stream>>>(
          static_cast<T*>(out), static_cast<const T*>(gb), static_cast<const T*>(a), n / V, D);
    } else {
      film_forward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(static_cast<T*>(out), static_cast<const T*>(gb),
                                                                   static_cast<const T*>(a), n, D);
    }
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void film_backward(DType dt, void* dgb, void* da, const void* dout, const void* gb, const void* a, int64_t B, int64_t D,
                   cudaStream_t stream) {
  const int64_t n = B * D;
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "film_backward", [&] {
    using T = scalar_t;
    constexpr int V = Vec16<T>::N;
    if (D % V == 0 && aligned16({dgb, da, dout, gb, a})) {
      film_backward_vec_kernel<T><<<grid_for(n / V), kThreads, 0, stream>>>(
          static_cast<T*>(dgb), static_cast<T*>(da), static_cast<const T*>(dout), static_cast<const T*>(gb),
          static_cast<const T*>(a), n / V, D);
    } else {
      film_backward_kernel<T>
          <<<grid_for(n), kThreads, 0, stream>>>(static_cast<T*>(dgb), static_cast<T*>(da), static_cast<const T*>(dout),
                                                 static_cast<const T*>(gb), static_cast<const T*>(a), n, D);
    }
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void bilinear_product(DType dt, void* h, const void* pa, const void* pb, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "bilinear_pool", [&] {
    using T = scalar_t;
    product_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(static_cast<T*>(h), static_cast<const T*>(pa),
                                                            static_cast<const T*>(pb), n);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void bilinear_product_backward(DType dt, void* dpa, void* dpb, const void* dh, const void* pa, const void* pb,
                               int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "bilinear_pool_backward", [&] {
    using T = scalar_t;
    product_backward_kernel<T>
        <<<grid_for(n), kThreads, 0, stream>>>(static_cast<T*>(dpa), static_cast<T*>(dpb), static_cast<const T*>(dh),
                                               static_cast<const T*>(pa), static_cast<const T*>(pb), n);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void clip_loss_forward(DType dt, void* loss, void* row_lse, void* col_lse, const void* sim, const void* logit_scale,
                       int64_t N, cudaStream_t stream) {
  if (N <= 0) return;
  LOOM_CHECK(N <= INT32_MAX, "clip_loss: N = ", N, " is too large");
  LOOM_DISPATCH_FLOAT(dt, "clip_loss", [&] {
    using T = scalar_t;
    const T* S = static_cast<const T*>(sim);
    const T* ls = static_cast<const T*>(logit_scale);
    clip_row_lse_kernel<T><<<static_cast<unsigned>(N), kThreads, 0, stream>>>(static_cast<T*>(row_lse), S, ls, N);
    LOOM_CUDA_KERNEL_CHECK();
    const unsigned col_blocks = static_cast<unsigned>((N + kColX - 1) / kColX);
    clip_col_lse_kernel<T><<<col_blocks, dim3(kColX, kColY), 0, stream>>>(static_cast<T*>(col_lse), S, ls, N);
    LOOM_CUDA_KERNEL_CHECK();
    clip_loss_kernel<T><<<1, kThreads, 0, stream>>>(static_cast<T*>(loss), static_cast<const T*>(row_lse),
                                                    static_cast<const T*>(col_lse), S, ls, N);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void clip_loss_backward(DType dt, void* dsim, void* scale_partial, const void* dloss, const void* sim,
                        const void* row_lse, const void* col_lse, const void* logit_scale, int64_t N,
                        cudaStream_t stream) {
  if (N <= 0) return;
  LOOM_CHECK(N <= INT32_MAX, "clip_loss: N = ", N, " is too large");
  LOOM_DISPATCH_FLOAT(dt, "clip_loss_backward", [&] {
    using T = scalar_t;
    clip_backward_kernel<T><<<static_cast<unsigned>(N), kThreads, 0, stream>>>(
        static_cast<T*>(dsim), static_cast<T*>(scale_partial), static_cast<const T*>(dloss), static_cast<const T*>(sim),
        static_cast<const T*>(row_lse), static_cast<const T*>(col_lse), static_cast<const T*>(logit_scale), N);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void bias_activation(DType dt, void* y, void* pre, const void* bias, int64_t M, int64_t O, int act,
                     cudaStream_t stream) {
  const int64_t n = M * O;
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "linear", [&] {
    using T = scalar_t;
    bias_activation_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(static_cast<T*>(y), static_cast<T*>(pre),
                                                                    static_cast<const T*>(bias), n, O, act);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void activation_backward(DType dt, void* dz, const void* dy, const void* saved, int64_t n, int act,
                         cudaStream_t stream) {
  if (n <= 0) return;
  LOOM_DISPATCH_FLOAT(dt, "linear_backward", [&] {
    using T = scalar_t;
    activation_backward_kernel<T><<<grid_for(n), kThreads, 0, stream>>>(static_cast<T*>(dz), static_cast<const T*>(dy),
                                                                        static_cast<const T*>(saved), n, act);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

// ---------------------------------------------------------------- cuBLASLt linear

namespace {

constexpr int kMaxDevices = 64;
std::mutex g_lt_mu;
cublasLtHandle_t g_lt[kMaxDevices] = {};

using AlgoKey = std::tuple<int, int64_t, int64_t, int64_t, int, bool, int, int, int>;
std::map<AlgoKey, cublasLtMatmulHeuristicResult_t> g_algos;

// Largest power of two (<= 256) dividing the address: what cuBLASLt may assume.
uint32_t alignment_of(const void* p) {
  uint32_t a = 256;
  const uintptr_t v = reinterpret_cast<uintptr_t>(p);
  while (a > 1 && (v % a) != 0) a >>= 1;
  return a;
}

// RAII for the cuBLASLt descriptors of one call.
struct LtDescs {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t A = nullptr, B = nullptr, C = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~LtDescs() {
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (C) cublasLtMatrixLayoutDestroy(C);
    if (B) cublasLtMatrixLayoutDestroy(B);
    if (A) cublasLtMatrixLayoutDestroy(A);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

// Tries the fused cublasLtMatmul; false when no algorithm supports the case.
bool lt_linear(void* y, const void* x, const void* w, const void* bias, int64_t M, int64_t O, int64_t K,
               cublasLtEpilogue_t epi, bool allow_tf32, void* workspace, size_t ws_bytes, cudaStream_t stream) {
  // The epilogue reads the bias with vector loads: an offset view of a bias
  // takes the unfused path instead.
  if (bias && alignment_of(bias) < 16) return false;
  int device = 0;
  LOOM_CUDA_CHECK(cudaGetDevice(&device));
  LOOM_CHECK(device >= 0 && device < kMaxDevices, "linear: device index ", device, " out of range");
  std::lock_guard<std::mutex> lock(g_lt_mu);
  if (!g_lt[device]) LOOM_CUBLASLT_CHECK(cublasLtCreate(&g_lt[device]));
  cublasLtHandle_t h = g_lt[device];
  LtDescs d;
  const cublasComputeType_t compute = allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  LOOM_CUBLASLT_CHECK(cublasLtMatmulDescCreate(&d.op, compute, CUDA_R_32F));
  // Column-major view: y^T [O, M] = op(w^T stored as [K, O]) x^T [K, M].
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  LOOM_CUBLASLT_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  LOOM_CUBLASLT_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  LOOM_CUBLASLT_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
  if (bias)
    LOOM_CUBLASLT_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
  LOOM_CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&d.A, CUDA_R_32F, K, O, K));
  LOOM_CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&d.B, CUDA_R_32F, K, M, K));
  LOOM_CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&d.C, CUDA_R_32F, O, M, O));
  const uint32_t al_w = alignment_of(w), al_x = alignment_of(x), al_y = alignment_of(y);
  const AlgoKey key{device, M, O, K, static_cast<int>(epi), allow_tf32, int(al_w), int(al_x), int(al_y)};
  auto it = g_algos.find(key);
  if (it == g_algos.end()) {
    LOOM_CUBLASLT_CHECK(cublasLtMatmulPreferenceCreate(&d.pref));
    const uint64_t ws = ws_bytes;
    LOOM_CUBLASLT_CHECK(
        cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
    LOOM_CUBLASLT_CHECK(
        cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_w, sizeof(al_w)));
    LOOM_CUBLASLT_CHECK(
        cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_x, sizeof(al_x)));
    LOOM_CUBLASLT_CHECK(
        cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_y, sizeof(al_y)));
    LOOM_CUBLASLT_CHECK(
        cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_y, sizeof(al_y)));
    cublasLtMatmulHeuristicResult_t res{};
    int count = 0;
    cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(h, d.op, d.A, d.B, d.C, d.C, d.pref, 1, &res, &count);
    if (st != CUBLAS_STATUS_SUCCESS || count == 0) return false;
    it = g_algos.emplace(key, res).first;
  }
  const float alpha = 1.0f, beta = 0.0f;
  LOOM_CUBLASLT_CHECK(cublasLtMatmul(h, d.op, &alpha, w, d.A, x, d.B, &beta, y, d.C, y, d.C, &it->second.algo,
                                     workspace, ws_bytes, stream));
  return true;
}

}  // namespace

size_t linear_workspace_bytes() { return size_t(4) << 20; }

void linear_forward(DType dt, void* y, void* pre, const void* x, const void* w, const void* bias, int64_t M, int64_t O,
                    int64_t K, int act, bool allow_tf32, void* workspace, size_t workspace_bytes, cudaStream_t stream) {
  LOOM_CHECK_TYPE(dt == DType::Float32 || dt == DType::Float64, "linear: expected float32 or float64, got ",
                  dtype_name(dt));
  if (M <= 0 || O <= 0) return;
  if (K > 0 && dt == DType::Float32) {
    // GELU with the pre-activation wanted: BIAS epilogue, then the pointwise
    // kernel saves pre and applies GELU.
    const int lt_act = pre ? 0 : act;
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
    if (lt_act == 1) epi = bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
    else if (lt_act == 2) epi = bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
    else if (bias) epi = CUBLASLT_EPILOGUE_BIAS;
    if (lt_linear(y, x, w, bias, M, O, K, epi, allow_tf32, workspace, workspace_bytes, stream)) {
      if (pre) bias_activation(dt, y, pre, nullptr, M, O, act, stream);
      return;
    }
  }
  if (K > 0) gemm(dt, false, true, M, O, K, 1.0, x, K, 0, w, K, 0, 0.0, y, O, 0, 1, allow_tf32, stream);
  bias_activation(dt, y, pre, bias, M, O, act, stream);
}

}  // namespace loom::kernels::cuda
