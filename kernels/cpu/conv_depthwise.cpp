// Depthwise 2-D convolution on the CPU (kernels/cpu/conv_depthwise.h): each output plane is a small
// stencil over one input plane, R·S multiply-adds per output, so a GEMM over an im2col matrix (one row of
// weights against R·S rows of columns) spends its time building the columns. Here each task copies one
// input plane, zero-padded (row stride Wp), into a buffer and computes blocks of output rows in the padded
// width: for stride 1, output i of a block reads padded position i + r dh Wp + s dw for tap (r, s), so each
// tap is one long unit-stride multiply-add over the block (in L1), and the junk columns at the end of each
// row are dropped when the rows are copied out. At stride 2 the padded plane is split into four phase
// planes (even / odd rows and columns) and each tap reads a window of one of them (Layout). The loops are compiled for
// AVX-512, AVX2 and baseline x86-64. The input gradient is the same stencil on grad_out padded by dil (k - 1) - pad
// with the kernel flipped, summed over the channel multiplier; the weight gradient carries 16 partial sums per tap over
// a plane's rows (valid columns only), one task per output channel over every sample (no partials to merge).
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

// Where the taps read: the padded plane (Hp x Wp) as sh·sw phase planes of Hq x Wq (phase (a, b): padded
// rows a, a + sh, ... and columns b, b + sw, ...), so that at stride 2 too every tap is a window of one
// phase plane: output oh Wq + ow reads phase (r dh mod sh, s dw mod sw) at oh Wq + ow + off, off =
// (r dh / sh) Wq + s dw / sw. At stride 1 it is the padded plane itself.
struct Layout {
  int64_t sh, sw, Hp, Wp, Hq, Wq, plane, size;  // plane: one phase; size: all of them
  int64_t slack;                                // zeros past them, read by the junk columns only
  std::vector<int64_t> off;                     // per tap r S + s: its phase's start + the shift
};

Layout layout(int64_t H, int64_t W, int64_t ph, int64_t pw, int64_t R, int64_t S, int64_t dh, int64_t dw, int64_t sh,
              int64_t sw) {
  Layout L;
  L.sh = sh, L.sw = sw, L.Hp = H + 2 * ph, L.Wp = W + 2 * pw;
  L.Hq = (L.Hp + sh - 1) / sh, L.Wq = (L.Wp + sw - 1) / sw, L.plane = L.Hq * L.Wq, L.size = sh * sw * L.plane;
  L.slack = (S - 1) * dw + L.Wq + 16;
  L.off.resize(size_t(R * S));
  for (int64_t r = 0; r < R; ++r)
    for (int64_t s = 0; s < S; ++s)
      L.off[size_t(r * S + s)] = ((r * dh % sh) * sw + s * dw % sw) * L.plane + (r * dh / sh) * L.Wq + s * dw / sw;
  return L;
}

// One H x W plane into dst in the layout L (scratch: a padded plane, for a stride above 1).
template <typename T>
void fill(const T* src, int64_t H, int64_t W, int64_t ph, int64_t pw, const Layout& L, T* scratch, T* dst) {
  if (L.sh == 1 && L.sw == 1) return pad_plane(src, H, W, ph, pw, dst);
  pad_plane(src, H, W, ph, pw, scratch);
  for (int64_t a = 0; a < L.sh; ++a)
    for (int64_t b = 0; b < L.sw; ++b) {
      T* q = dst + (a * L.sw + b) * L.plane;
      for (int64_t h = 0; h < L.Hq; ++h) {
        const int64_t ih = h * L.sh + a;
        for (int64_t w = 0; w < L.Wq; ++w) {
          const int64_t iw = w * L.sw + b;
          q[h * L.Wq + w] = ih < L.Hp && iw < L.Wp ? scratch[ih * L.Wp + iw] : T(0);
        }
      }
    }
}

// A block of output rows in the layout's width: tmp[i] = init + sum over taps w[t] P[off[t] + i] for
// i < npos, one long unit-stride loop per tap over a block that stays in L1 (the last columns of each row
// are junk: the caller drops them).
template <typename T>
LOOM_CPU_INLINE void stencil_block(const T* P, const int64_t* off, int64_t taps, const T* w, T* tmp, int64_t npos,
                                   T init) {
#pragma omp simd
  for (int64_t i = 0; i < npos; ++i) tmp[i] = init;
  for (int64_t t = 0; t < taps; ++t) {
    const T wv = w[t];
    const T* p = P + off[t];
#pragma omp simd
    for (int64_t i = 0; i < npos; ++i) tmp[i] += wv * p[i];
  }
}

// The weight gradient of one plane: gw[t] += sum over outputs g[oh][ow] P[off[t] + oh Wq + ow], with
// kLanes partial sums per tap carried over the rows (taps <= kMaxTaps).
constexpr int64_t kLanes = 16, kMaxTaps = 64;
template <typename T>
LOOM_CPU_INLINE void stencil_weight(const T* P, int64_t Wq, const int64_t* off, int64_t taps, const T* g, int64_t OH,
                                    int64_t OW, T* gw) {
  alignas(64) T part[kMaxTaps][kLanes] = {};
  const int64_t full = OW / kLanes * kLanes;
  for (int64_t oh = 0; oh < OH; ++oh) {
    const T* go = g + oh * OW;
    for (int64_t t = 0; t < taps; ++t) {
      const T* p = P + off[t] + oh * Wq;
      T* acc = part[t];
      for (int64_t j = 0; j < full; j += kLanes) {
#pragma omp simd
        for (int64_t l = 0; l < kLanes; ++l) acc[l] += go[j + l] * p[j + l];
      }
      for (int64_t j = full; j < OW; ++j) acc[j - full] += go[j] * p[j];
    }
  }
  for (int64_t t = 0; t < taps; ++t) {
    T sum = 0;
    for (int64_t l = 0; l < kLanes; ++l) sum += part[t][l];
    gw[t] += sum;
  }
}

LOOM_CPU_CLONES void stencil_block_f32(const float* P, const int64_t* off, int64_t taps, const float* w, float* tmp,
                                       int64_t npos, float init) {
  stencil_block(P, off, taps, w, tmp, npos, init);
}
LOOM_CPU_CLONES void stencil_block_f64(const double* P, const int64_t* off, int64_t taps, const double* w, double* tmp,
                                       int64_t npos, double init) {
  stencil_block(P, off, taps, w, tmp, npos, init);
}
LOOM_CPU_CLONES void stencil_weight_f32(const float* P, int64_t Wq, const int64_t* off, int64_t taps, const float* g,
                                        int64_t OH, int64_t OW, float* gw) {
  stencil_weight(P, Wq, off, taps, g, OH, OW, gw);
}
LOOM_CPU_CLONES void stencil_weight_f64(const double* P, int64_t Wq, const int64_t* off, int64_t taps, const double* g,
                                        int64_t OH, int64_t OW, double* gw) {
  stencil_weight(P, Wq, off, taps, g, OH, OW, gw);
}

// out (OH x OW) = or += the stencil of the plane in layout L, by blocks of rows of at most kBlock
// positions through tmp.
constexpr int64_t kBlock = 4096;
template <typename T>
void run_stencil(const T* P, const Layout& L, const T* w, T* out, int64_t OH, int64_t OW, T init, bool accumulate,
                 T* tmp) {
  const int64_t Wq = L.Wq, rows = std::max<int64_t>(1, kBlock / Wq), taps = int64_t(L.off.size());
  for (int64_t oh0 = 0; oh0 < OH; oh0 += rows) {
    const int64_t nr = std::min(rows, OH - oh0), npos = nr * Wq;
    if constexpr (std::is_same_v<T, float>) stencil_block_f32(P + oh0 * Wq, L.off.data(), taps, w, tmp, npos, init);
    else stencil_block_f64(P + oh0 * Wq, L.off.data(), taps, w, tmp, npos, init);
    for (int64_t h = 0; h < nr; ++h) {
      T* o = out + (oh0 + h) * OW;
      const T* t = tmp + h * Wq;
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

// The buffer of one task: the plane in its layout, slack past it (read by the junk columns only, zero),
// a block of outputs, a padded plane for the phase split.
template <typename T>
struct Buffers {
  T *plane, *tmp, *scratch;
};
template <typename T>
Buffers<T> buffers(const Layout& L) {
  const int64_t slack = L.slack;
  std::vector<T>& buf = plane_buffer<T>(size_t(L.size + slack + kBlock + L.Wq + L.Hp * L.Wp));
  T* base = buf.data();
  std::fill(base + L.size, base + L.size + slack, T(0));
  return {base, base + L.size + slack, base + L.size + slack + kBlock + L.Wq};
}

template <typename T>
void forward(T* out, const T* in, const T* w, const T* bias, const ConvParams& p) {
  const int64_t Kg = p.Kg(), RS = p.taps();
  const Layout L = layout(p.H, p.W, p.pad_h, p.pad_w, p.R, p.S, p.dil_h, p.dil_w, p.stride_h, p.stride_w);
  const int64_t ntask = p.N * p.C;  // one input plane each, its Kg output planes
  parallel_range(ntask, ntask * Kg * RS * p.OH * p.OW, [&](int64_t b, int64_t e) {
    const Buffers<T> B = buffers<T>(L);
    for (int64_t t = b; t < e; ++t) {
      const int64_t n = t / p.C, c = t % p.C;
      fill(in + t * p.H * p.W, p.H, p.W, p.pad_h, p.pad_w, L, B.scratch, B.plane);
      for (int64_t j = 0; j < Kg; ++j) {
        const int64_t k = c * Kg + j;
        run_stencil(B.plane, L, w + k * RS, out + (n * p.K + k) * p.OH * p.OW, p.OH, p.OW, bias ? bias[k] : T(0), false,
                    B.tmp);
      }
    }
  });
}

template <typename T>
void backward_input(T* gin, const T* gout, const T* w, const ConvParams& p) {
  const int64_t Kg = p.Kg(), RS = p.taps();
  const int64_t ph = p.dil_h * (p.R - 1) - p.pad_h, pw = p.dil_w * (p.S - 1) - p.pad_w;
  const Layout L = layout(p.OH, p.OW, ph, pw, p.R, p.S, p.dil_h, p.dil_w, 1, 1);
  const int64_t ntask = p.N * p.C;
  parallel_range(ntask, ntask * Kg * RS * p.H * p.W, [&](int64_t b, int64_t e) {
    const Buffers<T> B = buffers<T>(L);
    std::vector<T> f(static_cast<size_t>(RS));
    for (int64_t t = b; t < e; ++t) {
      const int64_t n = t / p.C, c = t % p.C;
      T* dst = gin + t * p.H * p.W;
      for (int64_t j = 0; j < Kg; ++j) {
        const int64_t k = c * Kg + j;
        for (int64_t i = 0; i < RS; ++i) f[size_t(i)] = w[k * RS + RS - 1 - i];  // the kernel flipped
        fill(gout + (n * p.K + k) * p.OH * p.OW, p.OH, p.OW, ph, pw, L, B.scratch, B.plane);
        run_stencil(B.plane, L, f.data(), dst, p.H, p.W, T(0), j > 0, B.tmp);
      }
    }
  });
}

// Floor division (b > 0).
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// The input gradient at a stride above 1, one input phase at a time: input rows a, a + sh, ... (a < sh)
// receive only the taps r with a + pad_h - r dh divisible by sh, input row a + sh i from output row i + q_r,
// q_r = (a + pad_h - r dh) / sh (and the same for columns). So each of the sh sw phases of the input
// is a stride-1 stencil, with its own taps and offsets, over one zero-padded copy of the output
// gradient plane; the results are scattered into the phase's rows and columns. Any padding.
template <typename T>
void backward_input_phases(T* gin, const T* gout, const T* w, const ConvParams& p) {
  const int64_t Kg = p.Kg(), S = p.S, RS = p.taps(), sh = p.stride_h, sw = p.stride_w;
  // The reach of q over every phase and tap: the padding of the output-gradient plane that keeps every
  // read inside it (rows of phase a: i < ceil((H - a) / sh) <= ceil(H / sh)).
  auto reach = [](int64_t s, int64_t pad, int64_t k, int64_t dil, int64_t n_in, int64_t n_out) {
    int64_t lo = 0, hi = 0;
    for (int64_t a = 0; a < s; ++a)
      for (int64_t r = 0; r < k; ++r) {
        const int64_t v = a + pad - r * dil;
        if (v % s != 0) continue;
        lo = std::min(lo, v / s), hi = std::max(hi, v / s);
      }
    const int64_t rows = (n_in + s - 1) / s;
    return std::max(-lo, rows - 1 + hi - (n_out - 1));
  };
  const int64_t ph = std::max<int64_t>(0, reach(sh, p.pad_h, p.R, p.dil_h, p.H, p.OH));
  const int64_t pw = std::max<int64_t>(0, reach(sw, p.pad_w, S, p.dil_w, p.W, p.OW));
  const Layout L = layout(p.OH, p.OW, ph, pw, 1, 1, 1, 1, 1, 1);  // the padded plane, no taps
  const int64_t Wp = L.Wp;
  // Per phase (a, b): its taps (indices into the kernel) and their offsets in the padded plane.
  struct Phase {
    int64_t a, b, rows, cols;
    std::vector<int64_t> tap, off;
  };
  std::vector<Phase> phases;
  for (int64_t a = 0; a < sh; ++a)
    for (int64_t b = 0; b < sw; ++b) {
      Phase ph_{a, b, (p.H - a + sh - 1) / sh, (p.W - b + sw - 1) / sw, {}, {}};
      for (int64_t r = 0; r < p.R; ++r) {
        const int64_t v = a + p.pad_h - r * p.dil_h;
        if (v % sh != 0) continue;
        for (int64_t s = 0; s < S; ++s) {
          const int64_t u = b + p.pad_w - s * p.dil_w;
          if (u % sw != 0) continue;
          ph_.tap.push_back(r * S + s);
          ph_.off.push_back((floor_div(v, sh) + ph) * Wp + floor_div(u, sw) + pw);
        }
      }
      phases.push_back(std::move(ph_));
    }
  const int64_t ntask = p.N * p.C;
  parallel_range(ntask, ntask * Kg * RS * p.OH * p.OW, [&](int64_t b0, int64_t e0) {
    const Buffers<T> B = buffers<T>(L);
    std::vector<T> f(static_cast<size_t>(RS));
    for (int64_t t = b0; t < e0; ++t) {
      const int64_t n = t / p.C, c = t % p.C;
      T* dst = gin + t * p.H * p.W;
      for (int64_t j = 0; j < Kg; ++j) {
        const int64_t k = c * Kg + j;
        pad_plane(gout + (n * p.K + k) * p.OH * p.OW, p.OH, p.OW, ph, pw, B.plane);
        for (const Phase& q : phases) {
          const int64_t taps = int64_t(q.tap.size());
          for (int64_t i = 0; i < taps; ++i) f[size_t(i)] = w[k * RS + q.tap[size_t(i)]];
          const int64_t rows = std::max<int64_t>(1, kBlock / Wp);
          for (int64_t i0 = 0; i0 < q.rows; i0 += rows) {
            const int64_t nr = std::min(rows, q.rows - i0);
            if (taps) {
              if constexpr (std::is_same_v<T, float>)
                stencil_block_f32(B.plane + i0 * Wp, q.off.data(), taps, f.data(), B.tmp, nr * Wp, 0.0f);
              else stencil_block_f64(B.plane + i0 * Wp, q.off.data(), taps, f.data(), B.tmp, nr * Wp, 0.0);
            } else {
              std::fill(B.tmp, B.tmp + nr * Wp, T(0));
            }
            for (int64_t i = 0; i < nr; ++i) {
              T* o = dst + (q.a + sh * (i0 + i)) * p.W + q.b;
              const T* src = B.tmp + i * Wp;
              if (j > 0) {
                for (int64_t x = 0; x < q.cols; ++x) o[x * sw] += src[x];
              } else {
                for (int64_t x = 0; x < q.cols; ++x) o[x * sw] = src[x];
              }
            }
          }
        }
      }
    }
  });
}

template <typename T>
void backward_weight(T* gw, const T* gout, const T* in, const ConvParams& p) {
  const int64_t Kg = p.Kg(), RS = p.taps();
  const Layout L = layout(p.H, p.W, p.pad_h, p.pad_w, p.R, p.S, p.dil_h, p.dil_w, p.stride_h, p.stride_w);
  std::fill(gw, gw + p.K * RS, T(0));
  parallel_range(p.K, p.K * p.N * RS * p.OH * p.OW, [&](int64_t b, int64_t e) {
    const Buffers<T> B = buffers<T>(L);
    for (int64_t k = b; k < e; ++k) {
      const int64_t c = k / Kg;
      for (int64_t n = 0; n < p.N; ++n) {
        fill(in + (n * p.C + c) * p.H * p.W, p.H, p.W, p.pad_h, p.pad_w, L, B.scratch, B.plane);
        const T* g = gout + (n * p.K + k) * p.OH * p.OW;
        if constexpr (std::is_same_v<T, float>)
          stencil_weight_f32(B.plane, L.Wq, L.off.data(), RS, g, p.OH, p.OW, gw + k * RS);
        else stencil_weight_f64(B.plane, L.Wq, L.off.data(), RS, g, p.OH, p.OW, gw + k * RS);
      }
    }
  });
}

}  // namespace

bool depthwise_applies(const ConvParams& p, bool grad_input) {
  if (!p.is_2d() || p.Cg() != 1 || p.groups != p.C || p.stride_h > 2 || p.stride_w > 2 || p.taps() > kMaxTaps)
    return false;
  // The input gradient: at stride 1 a flipped stencil over the padded output gradient (pad <= dil (k - 1)),
  // which covers the input the output came from, H = OH + dil (R - 1) - 2 pad (a transposed convolution's
  // output_padding makes its output, this input, larger); at stride 2 by input phases (any padding and size).
  const bool natural_size =
      p.H == p.OH + p.dil_h * (p.R - 1) - 2 * p.pad_h && p.W == p.OW + p.dil_w * (p.S - 1) - 2 * p.pad_w;
  return !grad_input || p.stride_h > 1 || p.stride_w > 1 ||
         (p.pad_h <= p.dil_h * (p.R - 1) && p.pad_w <= p.dil_w * (p.S - 1) && natural_size);
}

void depthwise_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d", [&] {
    forward(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), static_cast<const scalar_t*>(weight),
            static_cast<const scalar_t*>(bias), p);
  });
}

void depthwise_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_input", [&] {
    auto* gin = static_cast<scalar_t*>(grad_in);
    auto* gout = static_cast<const scalar_t*>(grad_out);
    auto* w = static_cast<const scalar_t*>(weight);
    if (p.stride_h > 1 || p.stride_w > 1) backward_input_phases(gin, gout, w, p);
    else backward_input(gin, gout, w, p);
  });
}

void depthwise_backward_weight(DType dt, void* grad_weight, const void* grad_out, const void* in, const ConvParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_weight", [&] {
    backward_weight(static_cast<scalar_t*>(grad_weight), static_cast<const scalar_t*>(grad_out),
                    static_cast<const scalar_t*>(in), p);
  });
}

}  // namespace loom::kernels::cpu::detail
