// Fused scaled-dot-product attention on CUDA (FlashAttention-2 style, fp32/fp64
// FMA). Math, layouts, masks and the dropout stream: kernels/attention.h.
//
// Forward (attention_forward_kernel): one block of 128 threads per (b, h,
// 64-query tile). The Q tile sits in shared memory; the block walks the keys in
// tiles of 32 (K and V staged in shared memory, zero-filled past Lk). Per tile:
// S = scale * Q K^T, each thread a 4x4 register block; masks applied while
// writing S to shared memory; one thread per row does the online softmax
// (running max m, running sum l, rescale factor alpha) and the dropout; then
// every thread updates its 4 x (DMAX/8) slice of the output accumulator in
// registers, acc = alpha * acc + P V. The block ends with out = acc / l and
// lse = m + log l (-inf and out = 0 for a row with every key masked).
// Causal blocks stop at the last key their rows can see.
//
// Backward: attention_delta_kernel computes Delta_i = rowsum(dO * O) (one warp
// per row). attention_backward_kernel: one block per (b, h, 32-key tile), K and
// V in shared memory, dK and dV accumulated in registers while the block walks
// the query tiles (from the first the causal mask lets see these keys):
// S and dP = dO V^T recomputed, P = exp(S - lse), the dropout factor Z
// regenerated from Philox, dS = P * (dP Z - Delta); dV += (P Z)^T dO,
// dK += scale dS^T Q in registers, dQ += scale dS K by atomicAdd (dq is zeroed
// first). Shared-memory rows are padded by one element so that the strided
// reads of the register blocks hit distinct banks.
// DMAX (32, 64 or 128) is the head size rounded up; D, Dv <= 128.
// Awaiting a GPU run: correctness ([cuda] tests) and timings; TF32 mma is not
// used yet (FMA only).
#include "kernels/attention.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/common.cuh"

namespace loom::kernels::cuda {
namespace {

constexpr int kNT = 128;  // threads per block
constexpr int kFQ = 64;   // forward: queries per block
constexpr int kFK = 32;   // forward: keys per tile
constexpr int kBK = 32;   // backward: keys per block
constexpr int kBQ = 32;   // backward: queries per tile

template <typename T>
__device__ __forceinline__ T neg_inf();
template <>
__device__ __forceinline__ float neg_inf<float>() {
  return -__int_as_float(0x7f800000);
}
template <>
__device__ __forceinline__ double neg_inf<double>() {
  return -__longlong_as_double(0x7ff0000000000000LL);
}

__device__ __forceinline__ float exp_t(float x) { return __expf(x); }
__device__ __forceinline__ double exp_t(double x) { return exp(x); }
__device__ __forceinline__ float log_t(float x) { return logf(x); }
__device__ __forceinline__ double log_t(double x) { return log(x); }

// Score of query i, key j after scaling and masking (-inf when removed).
template <typename T>
__device__ __forceinline__ T masked_score(const AttentionParams& p, int64_t b, int64_t h, int64_t i, int64_t j, T s) {
  if (j >= p.Lk || i >= p.Lq || (p.causal && j > i)) return neg_inf<T>();
  if (p.mask) {
    const int64_t off = b * p.mask_stride[0] + h * p.mask_stride[1] + i * p.mask_stride[2] + j * p.mask_stride[3];
    if (p.mask_is_bool) {
      if (!static_cast<const bool*>(p.mask)[off]) return neg_inf<T>();
    } else {
      s += static_cast<const T*>(p.mask)[off];
    }
  }
  return s;
}

template <typename T>
__device__ __forceinline__ T dropout_factor(const AttentionParams& p, int64_t bh, int64_t i, int64_t j) {
  const uint64_t e = static_cast<uint64_t>((bh * p.Lq + i) * p.Lk + j);
  const bool keep = attention_dropout_uniform(p.seed, p.offset, e) >= static_cast<float>(p.dropout_p);
  return keep && p.dropout_p < 1.0 ? static_cast<T>(1.0 / (1.0 - p.dropout_p)) : T(0);
}

// Copies rows [r0, r0 + n) (row length len, row stride len in global memory)
// into a shared tile with row stride ld; rows past `rows_valid` are zeroed.
template <typename T>
__device__ __forceinline__ void load_tile(T* dst, int ld, const T* src, int64_t r0, int n, int64_t rows_valid,
                                          int len) {
  for (int e = threadIdx.x; e < n * len; e += kNT) {
    const int r = e / len, c = e - r * len;
    dst[r * ld + c] = r0 + r < rows_valid ? src[(r0 + r) * len + c] : T(0);
  }
}

template <typename T, int DMAX>
__global__ void __launch_bounds__(kNT)
    attention_forward_kernel(T* __restrict__ out, T* __restrict__ lse, const T* __restrict__ q, const T* __restrict__ k,
                             const T* __restrict__ v, AttentionParams p, int64_t nqb) {
  constexpr int LD = DMAX + 1, LS = kFK + 1, NC = DMAX / 8;
  extern __shared__ unsigned char smem_raw[];
  T* Qs = reinterpret_cast<T*>(smem_raw);
  T* Ks = Qs + kFQ * LD;
  T* Vs = Ks + kFK * LD;
  T* Ss = Vs + kFK * LD;
  T* m_s = Ss + kFQ * LS;
  T* l_s = m_s + kFQ;
  T* a_s = l_s + kFQ;

  const int64_t bh = blockIdx.x / nqb, q0 = (blockIdx.x % nqb) * kFQ;
  const int64_t b = bh / p.H, h = bh % p.H;
  const int D = static_cast<int>(p.D), Dv = static_cast<int>(p.Dv);
  const T scale = static_cast<T>(p.scale);
  const int tid = threadIdx.x, ty = tid / 8, tx = tid % 8;
  const T* Kb = k + bh * p.Lk * D;
  const T* Vb = v + bh * p.Lk * Dv;

  load_tile(Qs, LD, q + bh * p.Lq * D, q0, kFQ, p.Lq, D);
  if (tid < kFQ) {
    m_s[tid] = neg_inf<T>();
    l_s[tid] = T(0);
  }
  __syncthreads();  // the tile loop may not run (no visible keys): l_s must be ready for the epilogue
  T acc[4][NC];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int c = 0; c < NC; ++c) acc[i][c] = T(0);

  const int64_t kend = p.causal ? min(p.Lk, q0 + kFQ) : p.Lk;
  for (int64_t k0 = 0; k0 < kend; k0 += kFK) {
    load_tile(Ks, LD, Kb, k0, kFK, p.Lk, D);
    load_tile(Vs, LD, Vb, k0, kFK, p.Lk, Dv);
    __syncthreads();
    // S = scale * Q K^T: rows ty*4 + i, keys tx + 8j.
    T s[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) s[i][j] = T(0);
    for (int d = 0; d < D; ++d) {
      T qv[4], kv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) qv[i] = Qs[(ty * 4 + i) * LD + d];
#pragma unroll
      for (int j = 0; j < 4; ++j) kv[j] = Ks[(tx + 8 * j) * LD + d];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) s[i][j] = fma(qv[i], kv[j], s[i][j]);
    }
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int r = ty * 4 + i, c = tx + 8 * j;
        Ss[r * LS + c] = masked_score<T>(p, b, h, q0 + r, k0 + c, s[i][j] * scale);
      }
    __syncthreads();
    // Online softmax, one thread per query row.
    if (tid < kFQ) {
      T* row = Ss + tid * LS;
      const T m_old = m_s[tid];
      T mx = m_old;
      for (int c = 0; c < kFK; ++c) mx = max(mx, row[c]);
      T alpha = T(1);
      if (mx == neg_inf<T>()) {
        for (int c = 0; c < kFK; ++c) row[c] = T(0);
      } else {
        alpha = m_old == neg_inf<T>() ? T(0) : exp_t(m_old - mx);
        T sum = T(0);
        const bool drop = p.dropout_p > 0.0;
        for (int c = 0; c < kFK; ++c) {
          const T e = row[c] == neg_inf<T>() ? T(0) : exp_t(row[c] - mx);
          sum += e;
          row[c] = drop && e != T(0) ? e * dropout_factor<T>(p, bh, q0 + tid, k0 + c) : e;
        }
        l_s[tid] = l_s[tid] * alpha + sum;
        m_s[tid] = mx;
      }
      a_s[tid] = alpha;
    }
    __syncthreads();
    // acc = alpha * acc + P V: rows ty*4 + i, columns tx + 8c.
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const T al = a_s[ty * 4 + i];
#pragma unroll
      for (int c = 0; c < NC; ++c) acc[i][c] *= al;
    }
    for (int kk = 0; kk < kFK; ++kk) {
      T pv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) pv[i] = Ss[(ty * 4 + i) * LS + kk];
#pragma unroll
      for (int c = 0; c < NC; ++c) {
        const T vv = Vs[kk * LD + tx + 8 * c];
#pragma unroll
        for (int i = 0; i < 4; ++i) acc[i][c] = fma(pv[i], vv, acc[i][c]);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int r = ty * 4 + i;
    if (q0 + r >= p.Lq) continue;
    const T l = l_s[r];
    const T inv = l > T(0) ? T(1) / l : T(0);
    T* o = out + (bh * p.Lq + q0 + r) * Dv;
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      const int col = tx + 8 * c;
      if (col < Dv) o[col] = acc[i][c] * inv;
    }
  }
  if (tid < kFQ && q0 + tid < p.Lq) {
    const T l = l_s[tid];
    lse[bh * p.Lq + q0 + tid] = l > T(0) ? m_s[tid] + log_t(l) : neg_inf<T>();
  }
}

// Delta[r] = sum_d dO[r, d] * O[r, d], one warp per row.
template <typename T>
__global__ void attention_delta_kernel(T* __restrict__ delta, const T* __restrict__ dout, const T* __restrict__ out,
                                       int64_t rows, int Dv) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * (kNT / kWarp) + threadIdx.x / kWarp;
  if (r >= rows) return;
  const int lane = threadIdx.x % kWarp;
  T acc = T(0);
  for (int d = lane; d < Dv; d += kWarp) acc += dout[r * Dv + d] * out[r * Dv + d];
  acc = warp_reduce(acc, [](T a, T b) { return a + b; });
  if (lane == 0) delta[r] = acc;
}

template <typename T, int DMAX>
__global__ void __launch_bounds__(kNT)
    attention_backward_kernel(T* __restrict__ dq, T* __restrict__ dk, T* __restrict__ dv, const T* __restrict__ dout,
                              const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                              const T* __restrict__ lse, const T* __restrict__ delta, AttentionParams p, int64_t nkb) {
  constexpr int LD = DMAX + 1, LS = kBQ + 1, NC = DMAX / 8;
  static_assert(kBK == 32 && kBQ == 32, "the thread mapping below assumes 32 x 32 tiles");
  extern __shared__ unsigned char smem_raw[];
  T* Ks = reinterpret_cast<T*>(smem_raw);
  T* Vs = Ks + kBK * LD;
  T* Qs = Vs + kBK * LD;
  T* dOs = Qs + kBQ * LD;
  T* Ps = dOs + kBQ * LD;  // [query][key]: P * Z
  T* dSs = Ps + kBQ * LS;  // [query][key]: dS
  T* lse_s = dSs + kBQ * LS;
  T* dl_s = lse_s + kBQ;

  const int64_t bh = blockIdx.x / nkb, k0 = (blockIdx.x % nkb) * kBK;
  const int64_t b = bh / p.H, h = bh % p.H;
  const int D = static_cast<int>(p.D), Dv = static_cast<int>(p.Dv);
  const T scale = static_cast<T>(p.scale);
  const bool drop = p.dropout_p > 0.0;
  const int tid = threadIdx.x, ty = tid / 8, tx = tid % 8;
  const T* Qb = q + bh * p.Lq * D;
  const T* dOb = dout + bh * p.Lq * Dv;
  T* dQb = dq + bh * p.Lq * D;

  load_tile(Ks, LD, k + bh * p.Lk * D, k0, kBK, p.Lk, D);
  load_tile(Vs, LD, v + bh * p.Lk * Dv, k0, kBK, p.Lk, Dv);
  T dK[2][NC], dV[2][NC];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int c = 0; c < NC; ++c) dK[i][c] = dV[i][c] = T(0);

  // Causal: queries before k0 see none of these keys.
  for (int64_t q0 = p.causal ? k0 / kBQ * kBQ : 0; q0 < p.Lq; q0 += kBQ) {
    load_tile(Qs, LD, Qb, q0, kBQ, p.Lq, D);
    load_tile(dOs, LD, dOb, q0, kBQ, p.Lq, Dv);
    if (tid < kBQ) {
      const bool ok = q0 + tid < p.Lq;
      lse_s[tid] = ok ? lse[bh * p.Lq + q0 + tid] : neg_inf<T>();
      dl_s[tid] = ok ? delta[bh * p.Lq + q0 + tid] : T(0);
    }
    __syncthreads();
    // S and dP for rows ty*2 + i, keys tx + 8j.
    T s[2][4], dp[2][4];
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) s[i][j] = dp[i][j] = T(0);
    for (int d = 0; d < D; ++d) {
      T qv[2], kv[4];
#pragma unroll
      for (int i = 0; i < 2; ++i) qv[i] = Qs[(ty * 2 + i) * LD + d];
#pragma unroll
      for (int j = 0; j < 4; ++j) kv[j] = Ks[(tx + 8 * j) * LD + d];
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) s[i][j] = fma(qv[i], kv[j], s[i][j]);
    }
    for (int d = 0; d < Dv; ++d) {
      T gv[2], vv[4];
#pragma unroll
      for (int i = 0; i < 2; ++i) gv[i] = dOs[(ty * 2 + i) * LD + d];
#pragma unroll
      for (int j = 0; j < 4; ++j) vv[j] = Vs[(tx + 8 * j) * LD + d];
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) dp[i][j] = fma(gv[i], vv[j], dp[i][j]);
    }
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int r = ty * 2 + i, c = tx + 8 * j;
        const int64_t gi = q0 + r, gj = k0 + c;
        const T L = lse_s[r];
        const T sc = masked_score<T>(p, b, h, gi, gj, s[i][j] * scale);
        const T P = (sc == neg_inf<T>() || L == neg_inf<T>()) ? T(0) : exp_t(sc - L);
        const T z = drop && P != T(0) ? dropout_factor<T>(p, bh, gi, gj) : T(1);
        Ps[r * LS + c] = P * z;
        dSs[r * LS + c] = P * (dp[i][j] * z - dl_s[r]);
      }
    __syncthreads();
    // dV += (P Z)^T dO and dK += dS^T Q for keys ty*2 + i, columns tx + 8c.
    for (int r = 0; r < kBQ; ++r) {
      T pz[2], ds[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        pz[i] = Ps[r * LS + ty * 2 + i];
        ds[i] = dSs[r * LS + ty * 2 + i];
      }
#pragma unroll
      for (int c = 0; c < NC; ++c) {
        const T g = dOs[r * LD + tx + 8 * c], qq = Qs[r * LD + tx + 8 * c];
#pragma unroll
        for (int i = 0; i < 2; ++i) {
          dV[i][c] = fma(pz[i], g, dV[i][c]);
          dK[i][c] = fma(ds[i], qq, dK[i][c]);
        }
      }
    }
    // dQ += scale * dS K for queries ty*2 + i, columns tx + 8c.
    T dQ[2][NC];
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int c = 0; c < NC; ++c) dQ[i][c] = T(0);
    for (int kk = 0; kk < kBK; ++kk) {
      T ds[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) ds[i] = dSs[(ty * 2 + i) * LS + kk];
#pragma unroll
      for (int c = 0; c < NC; ++c) {
        const T kv = Ks[kk * LD + tx + 8 * c];
#pragma unroll
        for (int i = 0; i < 2; ++i) dQ[i][c] = fma(ds[i], kv, dQ[i][c]);
      }
    }
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int64_t gi = q0 + ty * 2 + i;
      if (gi >= p.Lq) continue;
#pragma unroll
      for (int c = 0; c < NC; ++c) {
        const int col = tx + 8 * c;
        if (col < D) atomicAdd(dQb + gi * D + col, dQ[i][c] * scale);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int64_t gj = k0 + ty * 2 + i;
    if (gj >= p.Lk) continue;
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      const int col = tx + 8 * c;
      if (col < D) dk[(bh * p.Lk + gj) * D + col] = dK[i][c] * scale;
      if (col < Dv) dv[(bh * p.Lk + gj) * Dv + col] = dV[i][c];
    }
  }
}

size_t forward_smem(int dmax, size_t elem) { return ((kFQ + 2 * kFK) * (dmax + 1) + kFQ * (kFK + 1) + 3 * kFQ) * elem; }
size_t backward_smem(int dmax, size_t elem) {
  return ((2 * kBK + 2 * kBQ) * (dmax + 1) + 2 * kBQ * (kBQ + 1) + 2 * kBQ) * elem;
}

template <typename K>
void allow_smem(K kernel, size_t bytes) {
  if (bytes > 48 * 1024)
    LOOM_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

template <typename F>
void dispatch_dmax(int64_t d, F&& f) {
  if (d <= 32) f(std::integral_constant<int, 32>{});
  else if (d <= 64) f(std::integral_constant<int, 64>{});
  else f(std::integral_constant<int, 128>{});
}

template <typename T>
void forward_t(T* out, T* lse, const T* q, const T* k, const T* v, const AttentionParams& p, cudaStream_t stream) {
  const int64_t nqb = (p.Lq + kFQ - 1) / kFQ, blocks = p.B * p.H * nqb;
  dispatch_dmax(std::max(p.D, p.Dv), [&](auto dm) {
    constexpr int DMAX = decltype(dm)::value;
    const size_t smem = forward_smem(DMAX, sizeof(T));
    auto kernel = attention_forward_kernel<T, DMAX>;
    allow_smem(kernel, smem);
    kernel<<<static_cast<unsigned>(blocks), kNT, smem, stream>>>(out, lse, q, k, v, p, nqb);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

template <typename T>
void backward_t(T* dq, T* dk, T* dv, const T* dout, const T* q, const T* k, const T* v, const T* out, const T* lse,
                T* delta, const AttentionParams& p, cudaStream_t stream) {
  const int64_t BH = p.B * p.H;
  if (p.Lq * p.D > 0) LOOM_CUDA_CHECK(cudaMemsetAsync(dq, 0, BH * p.Lq * p.D * sizeof(T), stream));
  if (p.Lk == 0) return;
  const int64_t rows = BH * p.Lq;
  if (rows > 0) {
    const int64_t per = kNT / kWarp;
    attention_delta_kernel<T><<<static_cast<unsigned>((rows + per - 1) / per), kNT, 0, stream>>>(
        delta, dout, out, rows, static_cast<int>(p.Dv));
    LOOM_CUDA_KERNEL_CHECK();
  }
  const int64_t nkb = (p.Lk + kBK - 1) / kBK, blocks = BH * nkb;
  dispatch_dmax(std::max(p.D, p.Dv), [&](auto dm) {
    constexpr int DMAX = decltype(dm)::value;
    const size_t smem = backward_smem(DMAX, sizeof(T));
    auto kernel = attention_backward_kernel<T, DMAX>;
    allow_smem(kernel, smem);
    kernel<<<static_cast<unsigned>(blocks), kNT, smem, stream>>>(dq, dk, dv, dout, q, k, v, lse, delta, p, nkb);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace

void attention_forward(DType dt, void* out, void* lse, const void* q, const void* k, const void* v,
                       const AttentionParams& p, cudaStream_t stream) {
  LOOM_CHECK(p.D <= 128 && p.Dv <= 128, "attention_forward: CUDA head sizes must be <= 128, got D = ", p.D,
             ", Dv = ", p.Dv);
  if (p.B * p.H * p.Lq == 0) return;
  switch (dt) {
    case DType::Float32:
      forward_t<float>(static_cast<float*>(out), static_cast<float*>(lse), static_cast<const float*>(q),
                       static_cast<const float*>(k), static_cast<const float*>(v), p, stream);
      break;
    case DType::Float64:
      forward_t<double>(static_cast<double*>(out), static_cast<double*>(lse), static_cast<const double*>(q),
                        static_cast<const double*>(k), static_cast<const double*>(v), p, stream);
      break;
    default: LOOM_CHECK_TYPE(false, "attention_forward: expected float32 or float64, got ", dtype_name(dt));
  }
}

void attention_backward(DType dt, void* dq, void* dk, void* dv, const void* grad_out, const void* q, const void* k,
                        const void* v, const void* out, const void* lse, void* workspace, const AttentionParams& p,
                        cudaStream_t stream) {
  LOOM_CHECK(p.D <= 128 && p.Dv <= 128, "attention_backward: CUDA head sizes must be <= 128, got D = ", p.D,
             ", Dv = ", p.Dv);
  if (p.B * p.H == 0) return;
  switch (dt) {
    case DType::Float32:
      backward_t<float>(static_cast<float*>(dq), static_cast<float*>(dk), static_cast<float*>(dv),
                        static_cast<const float*>(grad_out), static_cast<const float*>(q), static_cast<const float*>(k),
                        static_cast<const float*>(v), static_cast<const float*>(out), static_cast<const float*>(lse),
                        static_cast<float*>(workspace), p, stream);
      break;
    case DType::Float64:
      backward_t<double>(static_cast<double*>(dq), static_cast<double*>(dk), static_cast<double*>(dv),
                         static_cast<const double*>(grad_out), static_cast<const double*>(q),
                         static_cast<const double*>(k), static_cast<const double*>(v), static_cast<const double*>(out),
                         static_cast<const double*>(lse), static_cast<double*>(workspace), p, stream);
      break;
    default: LOOM_CHECK_TYPE(false, "attention_backward: expected float32 or float64, got ", dtype_name(dt));
  }
}

}  // namespace loom::kernels::cuda
