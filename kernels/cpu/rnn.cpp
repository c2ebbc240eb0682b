// CPU LSTM / GRU / Elman pointwise step kernels (see kernels/rnn.h for the math).
// One task per batch row; the inner loop over the H hidden units is written
// branch-free so that GCC vectorizes it (#pragma omp simd with
// -fopenmp-simd). float32 σ and tanh use exp_fast (kernels/cpu/branchless.h)
// instead of libm's scalar expf, which GCC cannot vectorize without a vector
// math library; the whole step then costs a few times less than the per-step GEMM.
#include "kernels/rnn.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

// float32 row loops are compiled for AVX-512, AVX2 + FMA and baseline x86-64,
// picked at load time (LOOM_CPU_CLONES, kernels/cpu/branchless.h): these loops
// are where the CPU LSTM spends its non-GEMM time.
using detail::exp_fast;

template <typename T>
T sigmoid(T x);
template <typename T>
T tanh_(T x);

template <>
LOOM_CPU_INLINE float sigmoid<float>(float x) {
  return 1.0f / (1.0f + exp_fast(-x));
}
template <>
LOOM_CPU_INLINE float tanh_<float>(float x) {
  // tanh|x| = (1 - e^{-2|x|}) / (1 + e^{-2|x|}); absolute error ~1e-7 near 0.
  float e = exp_fast(-2.0f * std::fabs(x));
  return std::copysign((1.0f - e) / (1.0f + e), x);
}
template <>
inline double sigmoid<double>(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}
template <>
inline double tanh_<double>(double x) {
  return std::tanh(x);
}

inline bool live(const int64_t* lengths, int64_t b, int64_t t) { return lengths == nullptr || t < lengths[b]; }

// Work per row for the parallel split: a transcendental costs ~10 flops.
inline int64_t row_work(int64_t B, int64_t H) { return B * H * 16; }

template <typename T>
void frozen_row(const RnnStepForward& a, int64_t b, bool lstm) {
  const int64_t H = a.H;
  const T* hp = static_cast<const T*>(a.h_prev) + b * a.ld_h_prev;
  T* hn = static_cast<T*>(a.h_next) + b * a.ld_h_next;
  std::memmove(hn, hp, H * sizeof(T));
  if (lstm) {
    const T* cp = static_cast<const T*>(a.c_prev) + b * a.ld_c_prev;
    T* cn = static_cast<T*>(a.c_next) + b * a.ld_c_next;
    std::memmove(cn, cp, H * sizeof(T));
  }
  if (a.out) std::memset(static_cast<T*>(a.out) + b * a.ld_out, 0, H * sizeof(T));
}

template <typename T>
LOOM_CPU_INLINE void lstm_forward_rows(const RnnStepForward& a, int64_t b0, int64_t b1) {
  const int64_t H = a.H;
  {
    const T* bi = static_cast<const T*>(a.b_ih);
    const T* bh = static_cast<const T*>(a.b_hh);
    // Inference passes no saved buffer: the loop still stores (branch-free).
    std::vector<T> scratch(a.saved ? 0 : 4 * H);
    for (int64_t b = b0; b < b1; ++b) {
      if (!live(a.lengths, b, a.t)) {
        frozen_row<T>(a, b, true);
        continue;
      }
      const T* x = static_cast<const T*>(a.xw) + b * a.ld_xw;
      const T* hw = static_cast<const T*>(a.hw) + b * 4 * H;
      const T* cp = static_cast<const T*>(a.c_prev) + b * a.ld_c_prev;
      T* hn = static_cast<T*>(a.h_next) + b * a.ld_h_next;
      T* cn = static_cast<T*>(a.c_next) + b * a.ld_c_next;
      T* out = a.out ? static_cast<T*>(a.out) + b * a.ld_out : nullptr;
      T* s = a.saved ? static_cast<T*>(a.saved) + b * a.ld_saved : scratch.data();
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        T gi = sigmoid<T>(x[j] + bi[j] + hw[j] + bh[j]);
        T gf = sigmoid<T>(x[H + j] + bi[H + j] + hw[H + j] + bh[H + j]);
        T gg = tanh_<T>(x[2 * H + j] + bi[2 * H + j] + hw[2 * H + j] + bh[2 * H + j]);
        T go = sigmoid<T>(x[3 * H + j] + bi[3 * H + j] + hw[3 * H + j] + bh[3 * H + j]);
        T c = gf * cp[j] + gi * gg;
        T h = go * tanh_<T>(c);
        cn[j] = c;
        hn[j] = h;
        s[j] = gi;
        s[H + j] = gf;
        s[2 * H + j] = gg;
        s[3 * H + j] = go;
      }
      if (out) std::memcpy(out, hn, H * sizeof(T));
    }
  }
}

template <typename T>
LOOM_CPU_INLINE void gru_forward_rows(const RnnStepForward& a, int64_t b0, int64_t b1) {
  const int64_t H = a.H;
  {
    const T* bi = static_cast<const T*>(a.b_ih);
    const T* bh = static_cast<const T*>(a.b_hh);
    // Inference passes no saved buffer: the loop still stores (branch-free).
    std::vector<T> scratch(a.saved ? 0 : 4 * H);
    for (int64_t b = b0; b < b1; ++b) {
      if (!live(a.lengths, b, a.t)) {
        frozen_row<T>(a, b, false);
        continue;
      }
      const T* x = static_cast<const T*>(a.xw) + b * a.ld_xw;
      const T* hw = static_cast<const T*>(a.hw) + b * 3 * H;
      const T* hp = static_cast<const T*>(a.h_prev) + b * a.ld_h_prev;
      T* hn = static_cast<T*>(a.h_next) + b * a.ld_h_next;
      T* out = a.out ? static_cast<T*>(a.out) + b * a.ld_out : nullptr;
      T* s = a.saved ? static_cast<T*>(a.saved) + b * a.ld_saved : scratch.data();
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        T r = sigmoid<T>(x[j] + bi[j] + hw[j] + bh[j]);
        T z = sigmoid<T>(x[H + j] + bi[H + j] + hw[H + j] + bh[H + j]);
        T hh = hw[2 * H + j] + bh[2 * H + j];
        T n = tanh_<T>(x[2 * H + j] + bi[2 * H + j] + r * hh);
        T h = n + z * (hp[j] - n);
        hn[j] = h;
        s[j] = r;
        s[H + j] = z;
        s[2 * H + j] = n;
        s[3 * H + j] = hh;
      }
      if (out) std::memcpy(out, hn, H * sizeof(T));
    }
  }
}

// The Elman cell: h' = tanh(a) or relu(a), a = xw + b_ih + hw + b_hh; saves h'.
template <typename T, bool RELU>
LOOM_CPU_INLINE void elman_forward_rows(const RnnStepForward& a, int64_t b0, int64_t b1) {
  const int64_t H = a.H;
  const T* bi = static_cast<const T*>(a.b_ih);
  const T* bh = static_cast<const T*>(a.b_hh);
  for (int64_t b = b0; b < b1; ++b) {
    if (!live(a.lengths, b, a.t)) {
      frozen_row<T>(a, b, false);
      continue;
    }
    const T* x = static_cast<const T*>(a.xw) + b * a.ld_xw;
    const T* hw = static_cast<const T*>(a.hw) + b * H;
    T* hn = static_cast<T*>(a.h_next) + b * a.ld_h_next;
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const T v = x[j] + bi[j] + hw[j] + bh[j];
      hn[j] = RELU ? (v < T(0) ? T(0) : v) : tanh_<T>(v);  // relu keeps NaN, as PyTorch
    }
    if (a.saved) std::memcpy(static_cast<T*>(a.saved) + b * a.ld_saved, hn, H * sizeof(T));
    if (a.out) std::memcpy(static_cast<T*>(a.out) + b * a.ld_out, hn, H * sizeof(T));
  }
}

template <typename T>
void zero_row(void* p, int64_t ld, int64_t b, int64_t n) {
  if (p) std::memset(static_cast<T*>(p) + b * ld, 0, n * sizeof(T));
}

template <typename T>
LOOM_CPU_INLINE void lstm_backward_rows(const RnnStepBackward& a, int64_t b0, int64_t b1) {
  const int64_t H = a.H;
  {
    std::vector<T> zeros(a.d_out ? 0 : H, T(0));
    for (int64_t b = b0; b < b1; ++b) {
      if (!live(a.lengths, b, a.t)) {  // dh and dc pass through unchanged
        zero_row<T>(a.d_gi, a.ld_d_gi, b, 4 * H);
        continue;
      }
      const T* s = static_cast<const T*>(a.saved) + b * a.ld_saved;
      const T* cp = static_cast<const T*>(a.c_prev) + b * a.ld_c_prev;
      const T* cn = static_cast<const T*>(a.c_next) + b * a.ld_c_next;
      const T* dout = a.d_out ? static_cast<const T*>(a.d_out) + b * a.ld_d_out : zeros.data();
      T* dh = static_cast<T*>(a.dh) + b * H;
      T* dc = static_cast<T*>(a.dc) + b * H;
      T* dg = static_cast<T*>(a.d_gi) + b * a.ld_d_gi;
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        T gi = s[j], gf = s[H + j], gg = s[2 * H + j], go = s[3 * H + j];
        T dhj = dh[j] + dout[j];
        T tc = tanh_<T>(cn[j]);
        T dct = dc[j] + dhj * go * (T(1) - tc * tc);
        dg[j] = dct * gg * gi * (T(1) - gi);
        dg[H + j] = dct * cp[j] * gf * (T(1) - gf);
        dg[2 * H + j] = dct * gi * (T(1) - gg * gg);
        dg[3 * H + j] = dhj * tc * go * (T(1) - go);
        dc[j] = dct * gf;
        dh[j] = T(0);
      }
    }
  }
}

template <typename T>
LOOM_CPU_INLINE void gru_backward_rows(const RnnStepBackward& a, int64_t b0, int64_t b1) {
  const int64_t H = a.H;
  {
    std::vector<T> zeros(a.d_out ? 0 : H, T(0));
    for (int64_t b = b0; b < b1; ++b) {
      if (!live(a.lengths, b, a.t)) {
        zero_row<T>(a.d_gi, a.ld_d_gi, b, 3 * H);
        zero_row<T>(a.d_gh, a.ld_d_gh, b, 3 * H);
        continue;
      }
      const T* s = static_cast<const T*>(a.saved) + b * a.ld_saved;
      const T* hp = static_cast<const T*>(a.h_prev) + b * a.ld_h_prev;
      const T* dout = a.d_out ? static_cast<const T*>(a.d_out) + b * a.ld_d_out : zeros.data();
      T* dh = static_cast<T*>(a.dh) + b * H;
      T* dgi = static_cast<T*>(a.d_gi) + b * a.ld_d_gi;
      T* dgh = static_cast<T*>(a.d_gh) + b * a.ld_d_gh;
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        T r = s[j], z = s[H + j], n = s[2 * H + j], hh = s[3 * H + j];
        T dhj = dh[j] + dout[j];
        T dn = dhj * (T(1) - z) * (T(1) - n * n);
        T dz = dhj * (hp[j] - n) * z * (T(1) - z);
        T dr = dn * hh * r * (T(1) - r);
        dgi[j] = dr;
        dgi[H + j] = dz;
        dgi[2 * H + j] = dn;
        dgh[j] = dr;
        dgh[H + j] = dz;
        dgh[2 * H + j] = dn * r;
        dh[j] = dhj * z;
      }
    }
  }
}

template <typename T, bool RELU>
LOOM_CPU_INLINE void elman_backward_rows(const RnnStepBackward& a, int64_t b0, int64_t b1) {
  const int64_t H = a.H;
  std::vector<T> zeros(a.d_out ? 0 : H, T(0));
  for (int64_t b = b0; b < b1; ++b) {
    if (!live(a.lengths, b, a.t)) {  // dh passes through unchanged
      zero_row<T>(a.d_gi, a.ld_d_gi, b, H);
      continue;
    }
    const T* s = static_cast<const T*>(a.saved) + b * a.ld_saved;
    const T* dout = a.d_out ? static_cast<const T*>(a.d_out) + b * a.ld_d_out : zeros.data();
    T* dh = static_cast<T*>(a.dh) + b * H;
    T* dg = static_cast<T*>(a.d_gi) + b * a.ld_d_gi;
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const T dhj = dh[j] + dout[j];
      dg[j] = RELU ? (s[j] > T(0) ? dhj : T(0)) : dhj * (T(1) - s[j] * s[j]);
      dh[j] = T(0);
    }
  }
}

LOOM_CPU_CLONES void lstm_forward_f32(const RnnStepForward& a, int64_t b0, int64_t b1) {
  lstm_forward_rows<float>(a, b0, b1);
}
LOOM_CPU_CLONES void gru_forward_f32(const RnnStepForward& a, int64_t b0, int64_t b1) {
  gru_forward_rows<float>(a, b0, b1);
}
LOOM_CPU_CLONES void lstm_backward_f32(const RnnStepBackward& a, int64_t b0, int64_t b1) {
  lstm_backward_rows<float>(a, b0, b1);
}
LOOM_CPU_CLONES void gru_backward_f32(const RnnStepBackward& a, int64_t b0, int64_t b1) {
  gru_backward_rows<float>(a, b0, b1);
}
void lstm_forward_f64(const RnnStepForward& a, int64_t b0, int64_t b1) { lstm_forward_rows<double>(a, b0, b1); }
void gru_forward_f64(const RnnStepForward& a, int64_t b0, int64_t b1) { gru_forward_rows<double>(a, b0, b1); }
void lstm_backward_f64(const RnnStepBackward& a, int64_t b0, int64_t b1) { lstm_backward_rows<double>(a, b0, b1); }
void gru_backward_f64(const RnnStepBackward& a, int64_t b0, int64_t b1) { gru_backward_rows<double>(a, b0, b1); }

template <bool RELU>
LOOM_CPU_CLONES void elman_forward_f32(const RnnStepForward& a, int64_t b0, int64_t b1) {
  elman_forward_rows<float, RELU>(a, b0, b1);
}
template <bool RELU>
LOOM_CPU_CLONES void elman_backward_f32(const RnnStepBackward& a, int64_t b0, int64_t b1) {
  elman_backward_rows<float, RELU>(a, b0, b1);
}
template <bool RELU>
void elman_forward_f64(const RnnStepForward& a, int64_t b0, int64_t b1) {
  elman_forward_rows<double, RELU>(a, b0, b1);
}
template <bool RELU>
void elman_backward_f64(const RnnStepBackward& a, int64_t b0, int64_t b1) {
  elman_backward_rows<double, RELU>(a, b0, b1);
}

template <typename Args>
void run_rows(void (*rows)(const Args&, int64_t, int64_t), const Args& a) {
  detail::parallel_range(a.B, row_work(a.B, a.H), [&](int64_t b0, int64_t b1) { rows(a, b0, b1); });
}

}  // namespace

void rnn_step_forward(RnnCell cell, DType dt, const RnnStepForward& a) {
  LOOM_CHECK(a.B >= 0 && a.H >= 0, "rnn_step_forward: negative size B=", a.B, " H=", a.H);
  if (a.B == 0 || a.H == 0) return;
  LOOM_CHECK_TYPE(dt == DType::Float32 || dt == DType::Float64, "rnn_step_forward: expected a floating dtype, got ",
                  dtype_name(dt));
  const bool f32 = dt == DType::Float32;
  switch (cell) {
    case RnnCell::LSTM: run_rows(f32 ? lstm_forward_f32 : lstm_forward_f64, a); break;
    case RnnCell::GRU: run_rows(f32 ? gru_forward_f32 : gru_forward_f64, a); break;
    case RnnCell::Tanh: run_rows(f32 ? elman_forward_f32<false> : elman_forward_f64<false>, a); break;
    case RnnCell::Relu: run_rows(f32 ? elman_forward_f32<true> : elman_forward_f64<true>, a); break;
  }
}

void rnn_step_backward(RnnCell cell, DType dt, const RnnStepBackward& a) {
  LOOM_CHECK(a.B >= 0 && a.H >= 0, "rnn_step_backward: negative size B=", a.B, " H=", a.H);
  if (a.B == 0 || a.H == 0) return;
  LOOM_CHECK_TYPE(dt == DType::Float32 || dt == DType::Float64, "rnn_step_backward: expected a floating dtype, got ",
                  dtype_name(dt));
  const bool f32 = dt == DType::Float32;
  switch (cell) {
    case RnnCell::LSTM: run_rows(f32 ? lstm_backward_f32 : lstm_backward_f64, a); break;
    case RnnCell::GRU: run_rows(f32 ? gru_backward_f32 : gru_backward_f64, a); break;
    case RnnCell::Tanh: run_rows(f32 ? elman_backward_f32<false> : elman_backward_f64<false>, a); break;
    case RnnCell::Relu: run_rows(f32 ? elman_backward_f32<true> : elman_backward_f64<true>, a); break;
  }
}

}  // namespace loom::kernels::cpu
