// Depthwise 2-D convolution on the CPU (kernels/cpu/conv_depthwise.h): each output plane is a small
// stencil over one input plane, R·S multiply-adds per output, so a GEMM over an im2col matrix (one row of
// weights against R·S rows of columns) spends its time building the columns. Here each task copies one
// input plane, zero-padded (row stride Wp), into a buffer and computes blocks of output rows in the padded
// width: for stride 1, output i of a block reads padded position i + r dh Wp + s dw for tap (r, s), so each
// tap is one long unit-stride multiply-add over the block (in L1), and the junk columns at the end of each
// row are dropped when the rows are copied out. The loops are compiled for AVX-512, AVX2 and baseline
// x86-64. The input gradient is the same stencil on grad_out padded by dil (k - 1) - pad with the kernel
// flipped, summed over the channel multiplier; the weight gradient carries 16 partial sums per tap over a
// plane's rows (valid columns only), one task per output channel over every sample (no partials to merge).
#include "kernels/cpu/conv_depthwise.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu::detail {

namespace {

// One H x W plane into dst, zero-padded by ph rows and pw columns on each side (row stride Wp).
template <typename T>
void pad_plane(const T* src, int64_t H, int64_t W, int64_t ph, int64_t pw, T* dst) {
  const int64_t Wp = W + 2 * pw, Hp = H + 2 * ph;
  std::fill(dst, dst + ph * Wp, T(0));
  for (int64_t h = 0; h < H; ++h) {
    T* row = dst + (ph + h) * Wp;
    std::fill(row, row + pw, T(0));
    std::memcpy(row + pw, src + h * W, size_t(W) * sizeof(T));
    std::fill(row + pw + W, row + Wp, T(0));
  }
  std::fill(dst + (ph + H) * Wp, dst + Hp * Wp, T(0));
}

// A block of output rows in the padded width: tmp[i] = init + sum over taps w[r][s] P[i + r dh Wp + s dw]
// for i < npos, one long unit-stride loop per tap over a block that stays in L1 (the last dw (S - 1)
// columns of each row are junk: P's columns past the row; the caller drops them).
template <typename T>
LOOM_CPU_INLINE void stencil_block(const T* P, int64_t Wp, const T* w, int64_t R, int64_t S, int64_t dh, int64_t dw,
                                   T* tmp, int64_t npos, T init) {
#pragma omp simd
  for (int64_t i = 0; i < npos; ++i) tmp[i] = init;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t s = 0; s < S; ++s) {
      const T wv = w[r * S + s];
      const T* p = P + r * dh * Wp + s * dw;
#pragma omp simd
      for (int64_t i = 0; i < npos; ++i) tmp[i] += wv * p[i];
    }
}

// The weight gradient of one plane: gw[t] += sum over outputs g[oh][ow] P[(oh + r dh) Wp + ow + s dw],
// t = r S + s, with kLanes partial sums per tap carried over the rows (RS <= kMaxTaps).
constexpr int64_t kLanes = 16, kMaxTaps = 64;
template <typename T>
LOOM_CPU_INLINE void stencil_weight(const T* P, int64_t Wp, const T* g, int64_t OH, int64_t OW, int64_t R, int64_t S,
                                    int64_t dh, int64_t dw, T* gw) {
  alignas(64) T part[kMaxTaps][kLanes] = {};
  const int64_t full = OW / kLanes * kLanes;
  for (int64_t oh = 0; oh < OH; ++oh) {
    const T* go = g + oh * OW;
    for (int64_t r = 0; r < R; ++r)
      for (int64_t s = 0; s < S; ++s) {
        const T* p = P + (oh + r * dh) * Wp + s * dw;
        T* acc = part[r * S + s];
        for (int64_t j = 0; j < full; j += kLanes) {
#pragma omp simd
          for (int64_t l = 0; l < kLanes; ++l) acc[l] += go[j + l] * p[j + l];
        }
        for (int64_t j = full; j < OW; ++j) acc[j - full] += go[j] * p[j];
      }
  }
  for (int64_t t = 0; t < R * S; ++t) {
    T sum = 0;
    for (int64_t l = 0; l < kLanes; ++l) sum += part[t][l];
    gw[t] += sum;
  }
}

LOOM_CPU_CLONES void stencil_block_f32(const float* P, int64_t Wp, const float* w, int64_t R, int64_t S, int64_t dh,
                                       int64_t dw, float* tmp, int64_t npos, float init) {
  stencil_block(P, Wp, w, R, S, dh, dw, tmp, npos, init);
}
LOOM_CPU_CLONES void stencil_block_f64(const double* P, int64_t Wp, const double* w, int64_t R, int64_t S, int64_t dh,
                                       int64_t dw, double* tmp, int64_t npos, double init) {
  stencil_block(P, Wp, w, R, S, dh, dw, tmp, npos, init);
}
LOOM_CPU_CLONES void stencil_weight_f32(const float* P, int64_t Wp, const float* g, int64_t OH, int64_t OW, int64_t R,
                                        int64_t S, int64_t dh, int64_t dw, float* gw) {
  stencil_weight(P, Wp, g, OH, OW, R, S, dh, dw, gw);
}
LOOM_CPU_CLONES void stencil_weight_f64(const double* P, int64_t Wp, const double* g, int64_t OH, int64_t OW, int64_t R,
                                        int64_t S, int64_t dh, int64_t dw, double* gw) {
  stencil_weight(P, Wp, g, OH, OW, R, S, dh, dw, gw);
}

// out (OH x OW) = or += the stencil of the padded plane P (row stride Wp), by blocks of rows of at most
// kBlock padded positions through tmp.
constexpr int64_t kBlock = 4096;
template <typename T>
void run_stencil(const T* P, int64_t Wp, const T* w, int64_t R, int64_t S, int64_t dh, int64_t dw, T* out, int64_t OH,
                 int64_t OW, T init, bool accumulate, T* tmp) {
  const int64_t rows = std::max<int64_t>(1, kBlock / Wp);
  for (int64_t oh0 = 0; oh0 < OH; oh0 += rows) {
    const int64_t nr = std::min(rows, OH - oh0), npos = nr * Wp;
    if constexpr (std::is_same_v<T, float>) stencil_block_f32(P + oh0 * Wp, Wp, w, R, S, dh, dw, tmp, npos, init);
    else stencil_block_f64(P + oh0 * Wp, Wp, w, R, S, dh, dw, tmp, npos, init);
    for (int64_t h = 0; h < nr; ++h) {
      T* o = out + (oh0 + h) * OW;
      const T* t = tmp + h * Wp;
      if (accumulate) {
#pragma omp simd
        for (int64_t j = 0; j < OW; ++j) o[j] += t[j];
      } else {
        std::memcpy(o, t, size_t(OW) * sizeof(T));
      }
    }
  }
}

template <typename T>
std::vector<T>& plane_buffer(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf;
}

template <typename T>
void forward(T* out, const T* in, const T* w, const T* bias, const ConvParams& p) {
  const int64_t Kg = p.Kg(), RS = p.taps(), Wp = p.W + 2 * p.pad_w, Hp = p.H + 2 * p.pad_h;
  const int64_t slack = p.dil_w * (p.S - 1) + 16;
  const int64_t ntask = p.N * p.C;  // one input plane each, its Kg output planes
  parallel_range(ntask, ntask * Kg * RS * p.OH * p.OW, [&](int64_t b, int64_t e) {
    std::vector<T>& P = plane_buffer<T>(size_t(Hp * Wp + slack + kBlock + Wp));
    T* tmp = P.data() + Hp * Wp + slack;
    std::fill(P.data() + Hp * Wp, tmp, T(0));
    for (int64_t t = b; t < e; ++t) {
      const int64_t n = t / p.C, c = t % p.C;
      pad_plane(in + t * p.H * p.W, p.H, p.W, p.pad_h, p.pad_w, P.data());
      for (int64_t j = 0; j < Kg; ++j) {
        const int64_t k = c * Kg + j;
        run_stencil(P.data(), Wp, w + k * RS, p.R, p.S, p.dil_h, p.dil_w, out + (n * p.K + k) * p.OH * p.OW, p.OH, p.OW,
                    bias ? bias[k] : T(0), false, tmp);
      }
    }
  });
}

template <typename T>
void backward_input(T* gin, const T* gout, const T* w, const ConvParams& p) {
  const int64_t Kg = p.Kg(), RS = p.taps();
  const int64_t ph = p.dil_h * (p.R - 1) - p.pad_h, pw = p.dil_w * (p.S - 1) - p.pad_w;
  const int64_t Wp = p.OW + 2 * pw, Hp = p.OH + 2 * ph, slack = p.dil_w * (p.S - 1) + 16;
  const int64_t ntask = p.N * p.C;
  parallel_range(ntask, ntask * Kg * RS * p.H * p.W, [&](int64_t b, int64_t e) {
    std::vector<T>& P = plane_buffer<T>(size_t(Hp * Wp + slack + kBlock + Wp));
    T* tmp = P.data() + Hp * Wp + slack;
    std::fill(P.data() + Hp * Wp, tmp, T(0));
    std::vector<T> f(static_cast<size_t>(RS));
    for (int64_t t = b; t < e; ++t) {
      const int64_t n = t / p.C, c = t % p.C;
      T* dst = gin + t * p.H * p.W;
      for (int64_t j = 0; j < Kg; ++j) {
        const int64_t k = c * Kg + j;
        for (int64_t i = 0; i < RS; ++i) f[size_t(i)] = w[k * RS + RS - 1 - i];  // the kernel flipped
        pad_plane(gout + (n * p.K + k) * p.OH * p.OW, p.OH, p.OW, ph, pw, P.data());
        run_stencil(P.data(), Wp, f.data(), p.R, p.S, p.dil_h, p.dil_w, dst, p.H, p.W, T(0), j > 0, tmp);
      }
    }
  });
}

template <typename T>
void backward_weight(T* gw, const T* gout, const T* in, const ConvParams& p) {
  const int64_t Kg = p.Kg(), RS = p.taps(), Wp = p.W + 2 * p.pad_w, Hp = p.H + 2 * p.pad_h;
  std::fill(gw, gw + p.K * RS, T(0));
  parallel_range(p.K, p.K * p.N * RS * p.OH * p.OW, [&](int64_t b, int64_t e) {
    std::vector<T>& P = plane_buffer<T>(size_t(Hp * Wp + 16));
    for (int64_t k = b; k < e; ++k) {
      const int64_t c = k / Kg;
      for (int64_t n = 0; n < p.N; ++n) {
        pad_plane(in + (n * p.C + c) * p.H * p.W, p.H, p.W, p.pad_h, p.pad_w, P.data());
        const T* g = gout + (n * p.K + k) * p.OH * p.OW;
        if constexpr (std::is_same_v<T, float>)
          stencil_weight_f32(P.data(), Wp, g, p.OH, p.OW, p.R, p.S, p.dil_h, p.dil_w, gw + k * RS);
        else stencil_weight_f64(P.data(), Wp, g, p.OH, p.OW, p.R, p.S, p.dil_h, p.dil_w, gw + k * RS);
      }
    }
  });
}

}  // namespace

bool depthwise_applies(const ConvParams& p, bool grad_input) {
  if (!p.is_2d() || p.Cg() != 1 || p.groups != p.C || p.stride_h != 1 || p.stride_w != 1 || p.taps() > kMaxTaps)
    return false;
  return !grad_input || (p.pad_h <= p.dil_h * (p.R - 1) && p.pad_w <= p.dil_w * (p.S - 1));
}

void depthwise_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d", [&] {
    forward(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), static_cast<const scalar_t*>(weight),
            static_cast<const scalar_t*>(bias), p);
  });
}

void depthwise_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_input", [&] {
    backward_input(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out),
                   static_cast<const scalar_t*>(weight), p);
  });
}

void depthwise_backward_weight(DType dt, void* grad_weight, const void* grad_out, const void* in, const ConvParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_weight", [&] {
    backward_weight(static_cast<scalar_t*>(grad_weight), static_cast<const scalar_t*>(grad_out),
                    static_cast<const scalar_t*>(in), p);
  });
}

}  // namespace loom::kernels::cpu::detail
