// Fused scaled-dot-product attention on the CPU: the twin of
// kernels/cuda/attention.cu and loom's CPU path (math and layouts in
// kernels/attention.h).
//
// Forward: one pool task per (b, h, block of kBq queries). The task walks the
// keys in blocks of `bk`: S = scale * Q_i K_j^T by an OpenBLAS GEMM into a
// kBq x bk scratch tile, masks applied in place, then the online softmax
// (running max m and sum l per row, the accumulator rescaled by exp(m_old -
// m_new)) and acc += P_ij V_j by a second GEMM. Only the tile, never the L x L
// matrix, exists; the task ends with out = acc / l and lse = m + log l.
// Backward: one task per (b, h), which owns that head's dq, dk and dv (no
// atomics, no reduction afterwards). Delta_i = rowsum(dO * O) first; then for
// each key block j and query block i, P is recomputed as exp(S - lse), the
// dropout keep mask regenerated from Philox, and
//   dV_j += (P*Z)^T dO_i,  dP = dO_i V_j^T,  dS = P * (dP*Z - Delta_i),
//   dQ_i += scale * dS K_j,  dK_j += scale * dS^T Q_i.
// The score products read the head's keys and values transposed once, so they
// run as plain (not transposed-B) GEMMs.
// Tiles are kBq x bk scores (64 x 128 for D = 64); OpenBLAS is single-threaded
// (kernels/cpu/thread_pool.cpp): the pool supplies the parallelism.
// float32 exponentials use a vectorizable Cephes-style polynomial (~1 ulp),
// and the row loops (max, exp and sum, dS) are compiled for AVX-512 / AVX2;
// float64 uses std::exp.
#include "kernels/attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"
#include "kernels/matmul.h"

namespace loom::kernels::cpu {
namespace {

constexpr int64_t kBq = 64;                   // query rows per tile
constexpr int64_t kMaxGemm = 128 * 128 * 64;  // multiply-adds of one tile's product, at most

// Keys per tile: as many as keep kBq x bk x max(D, Dv) within kMaxGemm, a multiple of 8, at most 128
// (64 x 128 score tiles: at L = 128, D = 64 on 2 cores a few per cent faster than 32 x 128).
int64_t key_block(int64_t D, int64_t Dv) {
  int64_t d = std::max<int64_t>({D, Dv, 1});
  int64_t bk = kMaxGemm / (kBq * d);
  bk = std::min<int64_t>(std::max<int64_t>(bk / 8 * 8, 8), 128);
  return bk;
}

template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
          T beta, T* c, int64_t ldc) {
  const CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
  lda = std::max<int64_t>(lda, 1);
  ldb = std::max<int64_t>(ldb, 1);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, TA, TB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else cblas_dgemm(CblasRowMajor, TA, TB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// A head's keys (or values) transposed, [cols, ld] with ld = rows rounded up
// to 16: the score products Q K^T and dO V^T then run as plain products
// (OpenBLAS's transposed-B path packs slower: 64 x 128 x 64, 11-18 us against
// 7.6 us plus a 2.8 us transpose shared by the head's query blocks).
int64_t transposed_ld(int64_t rows) { return (rows + 15) / 16 * 16; }

template <typename T>
void transpose_head(const T* src, int64_t rows, int64_t cols, T* dst) {
  const int64_t ld = transposed_ld(rows);
  if (rows == 0 || cols == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (packed_gemm_supported()) {
      transpose_padded(src, cols, rows, cols, dst, ld);
      return;
    }
  }
  constexpr int64_t kB = 32;
  for (int64_t i0 = 0; i0 < rows; i0 += kB)
    for (int64_t j0 = 0; j0 < cols; j0 += kB)
      for (int64_t j = j0; j < std::min(cols, j0 + kB); ++j)
        for (int64_t i = i0; i < std::min(rows, i0 + kB); ++i) dst[j * ld + i] = src[i * cols + j];
}

// exp(x) for float with a polynomial that vectorizes; exactly 0 below -87.
LOOM_CPU_INLINE float exp_poly(float x) {
  const float xc = std::min(std::max(x, -87.0f), 88.0f);
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
  const float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return x < -87.0f ? 0.0f : y * scale;
}

template <typename T>
LOOM_CPU_INLINE T exp_t(T x) {
  if constexpr (std::is_same_v<T, float>) return exp_poly(x);
  else return std::exp(x);
}

// The loops over one row of a score tile. The float32 ones are compiled for
// AVX-512, AVX2 and baseline x86-64 (LOOM_CPU_CLONES; 16 lanes of exp_poly).
// max(init, s[0..n)); a NaN score is skipped, as std::max skips it.
template <typename T>
LOOM_CPU_INLINE T row_max(const T* s, int64_t n, T init) {
  T mx = init;
#pragma omp simd reduction(max : mx)
  for (int64_t c = 0; c < n; ++c) mx = s[c] > mx ? s[c] : mx;  // (std::max here kept gcc 12 scalar)
  return mx;
}
// s[c] = exp(s[c] - sub); returns their sum.
template <typename T>
LOOM_CPU_INLINE T row_exp_sum(T* s, int64_t n, T sub) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < n; ++c) {
    const T e = exp_t<T>(s[c] - sub);
    s[c] = e;
    sum += e;
  }
  return sum;
}
// s[c] = s[c] * (w[c] - dl): dS from P and dP.
template <typename T>
LOOM_CPU_INLINE void row_ds(T* s, const T* w, int64_t n, T dl) {
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) s[c] = s[c] * (w[c] - dl);
}
LOOM_CPU_CLONES float row_max_f32(const float* s, int64_t n, float init) { return row_max(s, n, init); }
LOOM_CPU_CLONES float row_exp_sum_f32(float* s, int64_t n, float sub) { return row_exp_sum(s, n, sub); }
LOOM_CPU_CLONES void row_ds_f32(float* s, const float* w, int64_t n, float dl) { row_ds(s, w, n, dl); }

template <typename T>
T max_of_row(const T* s, int64_t n, T init) {
  if constexpr (std::is_same_v<T, float>) return row_max_f32(s, n, init);
  else return row_max(s, n, init);
}
template <typename T>
T exp_sum_row(T* s, int64_t n, T sub) {
  if constexpr (std::is_same_v<T, float>) return row_exp_sum_f32(s, n, sub);
  else return row_exp_sum(s, n, sub);
}
template <typename T>
void ds_row(T* s, const T* w, int64_t n, T dl) {
  if constexpr (std::is_same_v<T, float>) row_ds_f32(s, w, n, dl);
  else row_ds(s, w, n, dl);
}

// Applies the causal and user masks to the scores of query i, keys [k0, k0+n).
template <typename T>
void mask_row(const AttentionParams& p, int64_t b, int64_t h, int64_t i, int64_t k0, int64_t n, T* s) {
  const T ninf = -std::numeric_limits<T>::infinity();
  if (p.causal)
    for (int64_t c = std::max<int64_t>(i - k0 + 1, 0); c < n; ++c) s[c] = ninf;
  if (!p.mask) return;
  const int64_t* ms = p.mask_stride;
  const int64_t base = b * ms[0] + h * ms[1] + i * ms[2] + k0 * ms[3], sj = ms[3];
  if (p.mask_is_bool) {
    const bool* m = static_cast<const bool*>(p.mask) + base;
    for (int64_t c = 0; c < n; ++c)
      if (!m[c * sj]) s[c] = ninf;
  } else {
    const T* m = static_cast<const T*>(p.mask) + base;
    for (int64_t c = 0; c < n; ++c) s[c] += m[c * sj];
  }
}

// z[c] = dropout factor of score element e0 + c (0 or 1/(1-p)).
template <typename T>
void dropout_row(const AttentionParams& p, uint64_t e0, int64_t n, T* z) {
  const float pf = static_cast<float>(p.dropout_p);
  const T keep = p.dropout_p < 1.0 ? T(1.0 / (1.0 - p.dropout_p)) : T(0);
  uint64_t e = e0;
  for (int64_t c = 0; c < n;) {
    philox::U4 u = philox::block(p.seed, p.offset + e / 4);
    for (int l = static_cast<int>(e % 4); l < 4 && c < n; ++l, ++c, ++e)
      z[c] = philox::to_unit_float(philox::lane(u, l)) >= pf ? keep : T(0);
  }
}

template <typename T>
void forward_impl(T* out, T* lse, const T* q, const T* k, const T* v, const AttentionParams& p, T* probs) {
  const int64_t Lq = p.Lq, Lk = p.Lk, D = p.D, Dv = p.Dv, BH = p.B * p.H;
  const int64_t nqb = (Lq + kBq - 1) / kBq, bk = key_block(D, Dv);
  const T scale = static_cast<T>(p.scale), ninf = -std::numeric_limits<T>::infinity();
  const bool dropout = p.dropout_p > 0.0;
  detail::parallel_range(BH * nqb, BH * Lq * std::max<int64_t>(Lk, 1) * (D + Dv), [&](int64_t lo, int64_t hi) {
    std::vector<T> S(kBq * bk), Z(bk), acc(kBq * std::max<int64_t>(Dv, 1)), m(kBq), l(kBq);
    const int64_t ldk = transposed_ld(Lk);
    std::vector<T> KT(size_t(std::max<int64_t>(D * ldk, 1)));
    int64_t kt_head = -1;  // the head whose keys KT holds
    // With probs: each row's running maximum after each key block, to rescale the stored exp(S - m) at the end.
    const int64_t nkb = (Lk + bk - 1) / bk;
    std::vector<T> mblock(probs ? kBq * std::max<int64_t>(nkb, 1) : 0);
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t bh = task / nqb, q0 = task % nqb * kBq, rows = std::min(kBq, Lq - q0);
      const int64_t b = bh / p.H, h = bh % p.H;
      const T* Q = q + (bh * Lq + q0) * D;
      const T* K = k + bh * Lk * D;
      const T* V = v + bh * Lk * Dv;
      if (kt_head != bh) {
        transpose_head<T>(K, Lk, D, KT.data());
        kt_head = bh;
      }
      std::fill(acc.begin(), acc.end(), T(0));
      std::fill(m.begin(), m.end(), ninf);
      std::fill(l.begin(), l.end(), T(0));
      const int64_t kend = p.causal ? std::min(Lk, q0 + rows) : Lk;
      for (int64_t k0 = 0; k0 < kend; k0 += bk) {
        const int64_t cols = std::min(bk, kend - k0);
        gemm<T>(false, false, rows, cols, D, scale, Q, D, KT.data() + k0, ldk, T(0), S.data(), bk);
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t i = q0 + r;
          T* s = S.data() + r * bk;
          mask_row<T>(p, b, h, i, k0, cols, s);
          const T mx = max_of_row<T>(s, cols, m[r]);
          T* pr = probs ? probs + (bh * Lq + i) * Lk + k0 : nullptr;
          if (pr) mblock[r * nkb + k0 / bk] = mx;
          if (mx == ninf) {  // every key so far masked: this tile adds nothing
            std::fill(s, s + cols, T(0));
            if (pr) std::fill(pr, pr + cols, T(0));
            continue;
          }
          const T sum = exp_sum_row<T>(s, cols, mx);
          if (pr) std::copy(s, s + cols, pr);
          const T alpha = exp_t<T>(m[r] - mx);
          l[r] = l[r] * alpha + sum;
          m[r] = mx;
          if (alpha != T(1)) {
            T* a = acc.data() + r * Dv;
#pragma omp simd
            for (int64_t d = 0; d < Dv; ++d) a[d] *= alpha;
          }
          if (dropout) {
            dropout_row<T>(p, static_cast<uint64_t>((bh * Lq + i) * Lk + k0), cols, Z.data());
#pragma omp simd
            for (int64_t c = 0; c < cols; ++c) s[c] *= Z[c];
          }
        }
        if (Dv > 0) gemm<T>(false, false, rows, Dv, cols, T(1), S.data(), bk, V + k0 * Dv, Dv, T(1), acc.data(), Dv);
      }
      for (int64_t r = 0; r < rows; ++r) {
        T* o = out + (bh * Lq + q0 + r) * Dv;
        const T* a = acc.data() + r * Dv;
        const T inv = l[r] > T(0) ? T(1) / l[r] : T(0);
#pragma omp simd
        for (int64_t d = 0; d < Dv; ++d) o[d] = a[d] * inv;
        lse[bh * Lq + q0 + r] = l[r] > T(0) ? m[r] + std::log(l[r]) : ninf;
        if (probs) {  // P = exp(S - m_block) * exp(m_block - m) / l; keys past a causal row's end are 0
          T* pr = probs + (bh * Lq + q0 + r) * Lk;
          for (int64_t j = 0; j * bk < kend; ++j) {
            const int64_t c0 = j * bk, cols = std::min(bk, kend - c0);
            const T f = l[r] > T(0) ? exp_t<T>(mblock[r * nkb + j] - m[r]) / l[r] : T(0);
#pragma omp simd
            for (int64_t c = 0; c < cols; ++c) pr[c0 + c] *= f;
          }
          std::fill(pr + kend, pr + Lk, T(0));
        }
      }
    }
  });
}

template <typename T>
void backward_impl(T* dq, T* dk, T* dv, const T* dout, const T* q, const T* k, const T* v, const T* out, const T* lse,
                   const AttentionParams& p, const T* probs) {
  const int64_t Lq = p.Lq, Lk = p.Lk, D = p.D, Dv = p.Dv, BH = p.B * p.H;
  const int64_t bk = key_block(D, Dv);
  const T scale = static_cast<T>(p.scale), ninf = -std::numeric_limits<T>::infinity();
  const bool dropout = p.dropout_p > 0.0;
  detail::parallel_range(BH, BH * Lq * std::max<int64_t>(Lk, 1) * (D + Dv), [&](int64_t lo, int64_t hi) {
    std::vector<T> S(kBq * bk), W(kBq * bk), Z(dropout ? kBq * bk : 0), delta(Lq);
    const int64_t ldk = transposed_ld(Lk);
    std::vector<T> KT(probs ? 1 : size_t(std::max<int64_t>(D * ldk, 1))), VT(size_t(std::max<int64_t>(Dv * ldk, 1)));
    for (int64_t bh = lo; bh < hi; ++bh) {
      const int64_t b = bh / p.H, h = bh % p.H;
      const T *Q = q + bh * Lq * D, *K = k + bh * Lk * D, *V = v + bh * Lk * Dv;
      const T *dO = dout + bh * Lq * Dv, *O = out + bh * Lq * Dv, *LSE = lse + bh * Lq;
      T *dQ = dq + bh * Lq * D, *dK = dk + bh * Lk * D, *dV = dv + bh * Lk * Dv;
      std::fill(dQ, dQ + Lq * D, T(0));
      std::fill(dK, dK + Lk * D, T(0));
      std::fill(dV, dV + Lk * Dv, T(0));
      if (!probs) transpose_head<T>(K, Lk, D, KT.data());
      transpose_head<T>(V, Lk, Dv, VT.data());
      for (int64_t i = 0; i < Lq; ++i) {
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t d = 0; d < Dv; ++d) acc += dO[i * Dv + d] * O[i * Dv + d];
        delta[i] = acc;
      }
      for (int64_t k0 = 0; k0 < Lk; k0 += bk) {
        const int64_t cols = std::min(bk, Lk - k0);
        // Causal: queries before k0 see none of these keys.
        for (int64_t q0 = p.causal ? k0 / kBq * kBq : 0; q0 < Lq; q0 += kBq) {
          const int64_t rows = std::min(kBq, Lq - q0);
          if (!probs)
            gemm<T>(false, false, rows, cols, D, scale, Q + q0 * D, D, KT.data() + k0, ldk, T(0), S.data(), bk);
          for (int64_t r = 0; r < rows; ++r) {
            const int64_t i = q0 + r;
            T* s = S.data() + r * bk;
            if (probs) {  // the forward's P: no score product, no exponentials
              const T* pr = probs + (bh * Lq + i) * Lk + k0;
              std::copy(pr, pr + cols, s);
            } else {
              mask_row<T>(p, b, h, i, k0, cols, s);
              if (LSE[i] == ninf) std::fill(s, s + cols, T(0));
              else exp_sum_row<T>(s, cols, LSE[i]);
            }
            if (dropout) {
              T* z = Z.data() + r * bk;
              dropout_row<T>(p, static_cast<uint64_t>((bh * Lq + i) * Lk + k0), cols, z);
              T* w = W.data() + r * bk;
#pragma omp simd
              for (int64_t c = 0; c < cols; ++c) w[c] = s[c] * z[c];
            }
          }
          // dV_j += (P*Z)^T dO_i
          if (Dv > 0)
            gemm<T>(true, false, cols, Dv, rows, T(1), dropout ? W.data() : S.data(), bk, dO + q0 * Dv, Dv, T(1),
                    dV + k0 * Dv, Dv);
          // W = dO_i V_j^T, then S <- dS = P * (W*Z - Delta)
          if (Dv > 0)
            gemm<T>(false, false, rows, cols, Dv, T(1), dO + q0 * Dv, Dv, VT.data() + k0, ldk, T(0), W.data(), bk);
          else std::fill(W.begin(), W.end(), T(0));
          for (int64_t r = 0; r < rows; ++r) {
            T* s = S.data() + r * bk;
            const T* w = W.data() + r * bk;
            const T dl = delta[q0 + r];
            if (dropout) {
              const T* z = Z.data() + r * bk;
#pragma omp simd
              for (int64_t c = 0; c < cols; ++c) s[c] = s[c] * (w[c] * z[c] - dl);
            } else {
              ds_row<T>(s, w, cols, dl);
            }
          }
          if (D > 0) {
            gemm<T>(false, false, rows, D, cols, scale, S.data(), bk, K + k0 * D, D, T(1), dQ + q0 * D, D);
            gemm<T>(true, false, cols, D, rows, scale, S.data(), bk, Q + q0 * D, D, T(1), dK + k0 * D, D);
          }
        }
      }
    }
  });
}

}  // namespace

void attention_forward(DType dt, void* out, void* lse, const void* q, const void* k, const void* v,
                       const AttentionParams& p, void* probs) {
  if (p.B * p.H * p.Lq == 0) return;
  switch (dt) {
    case DType::Float32:
      forward_impl<float>(static_cast<float*>(out), static_cast<float*>(lse), static_cast<const float*>(q),
                          static_cast<const float*>(k), static_cast<const float*>(v), p, static_cast<float*>(probs));
      break;
    case DType::Float64:
      forward_impl<double>(static_cast<double*>(out), static_cast<double*>(lse), static_cast<const double*>(q),
                           static_cast<const double*>(k), static_cast<const double*>(v), p,
                           static_cast<double*>(probs));
      break;
    default: LOOM_CHECK_TYPE(false, "attention_forward: expected float32 or float64, got ", dtype_name(dt));
  }
}

void attention_backward(DType dt, void* dq, void* dk, void* dv, const void* grad_out, const void* q, const void* k,
                        const void* v, const void* out, const void* lse, const AttentionParams& p, const void* probs) {
  if (p.B * p.H == 0) return;
  switch (dt) {
    case DType::Float32:
      backward_impl<float>(static_cast<float*>(dq), static_cast<float*>(dk), static_cast<float*>(dv),
                           static_cast<const float*>(grad_out), static_cast<const float*>(q),
                           static_cast<const float*>(k), static_cast<const float*>(v), static_cast<const float*>(out),
                           static_cast<const float*>(lse), p, static_cast<const float*>(probs));
      break;
    case DType::Float64:
      backward_impl<double>(static_cast<double*>(dq), static_cast<double*>(dk), static_cast<double*>(dv),
                            static_cast<const double*>(grad_out), static_cast<const double*>(q),
                            static_cast<const double*>(k), static_cast<const double*>(v),
                            static_cast<const double*>(out), static_cast<const double*>(lse), p,
                            static_cast<const double*>(probs));
      break;
    default: LOOM_CHECK_TYPE(false, "attention_backward: expected float32 or float64, got ", dtype_name(dt));
  }
}

}  // namespace loom::kernels::cpu
