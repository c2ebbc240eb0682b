// The three GEMM views of a convolution that conv.cu's implicit-GEMM kernel
// runs (forward, backward-data, backward-weight): for a GEMM row or column,
// where its operand starts and how to gather L consecutive k from it. Split
// from conv.cu so that each file stays readable; only conv.cu includes it.
#pragma once
#include <cstdint>
#include <type_traits>

#include "kernels/conv.h"
#include "kernels/cuda/common.cuh"

namespace loom::kernels::cuda {
namespace {

// Host-and-device, so the index math can also be checked by a host emulation.
#define LOOM_HD __host__ __device__

// ---- the three GEMM views of a convolution ----
// Each gives: the A row context of pixel/row m and addr_a(ctx, k0, kend, f),
// which calls f(i, address) for L consecutive k from k0 (nullptr: zero, past
// kend or outside the image), the same for B columns (plus load_b_vec, a
// vector load where the layout allows), base() (any valid address), and the
// output context of row m with store(ctx, n, v).

// A row or column of a GEMM operand (or of the output): where it starts and
// whether it exists (rows past M, columns past N read as zero / are skipped).
template <typename P>
struct Span {
  P ptr;
  bool valid;
};
// An output or input pixel's row of A: its image plane and its (h, w) origin
// (forward: the window's top-left input pixel; backward-data: the padded input
// position).
template <typename T>
struct PixelSpan {
  const T* ptr;
  int h, w;
  bool valid;
};

// Walks L consecutive indices from k0 of a 3-level index (a, b, c) with
// extents (-, B, C), calling f(i, a, b, c) for the i-th; one division at the
// start instead of one per element. Used for k = (channel, r, s) and for
// (image, oh, ow).
template <int L, typename F>
LOOM_HD void walk3(int k0, int B, int C, F&& f) {
  const int BC = B * C;
  int a = k0 / BC, bc = k0 - a * BC, b = bc / C, c = bc - b * C;
#pragma unroll
  for (int i = 0; i < L; ++i) {
    f(i, a, b, c);
    if (++c == C) {
      c = 0;
      if (++b == B) b = 0, ++a;
    }
  }
}

template <typename T>
struct FwdProblem {
  const T* in;
  const T* w;
  const T* bias;
  T* out;
  ConvParams p;
  int M, N, K;  // GEMM sizes
  bool vec_b;

  using ACtx = PixelSpan<T>;
  using BCtx = Span<const T*>;
  using OCtx = Span<T*>;

  LOOM_HD void select_split(int) {}
  LOOM_HD ACtx a_ctx(int m, int g) const {
    ACtx c{};
    c.valid = m < M;
    if (!c.valid) return c;
    const int OHW = int(p.OH * p.OW);
    const int n = m / OHW, ohw = m - n * OHW, oh = ohw / int(p.OW), ow = ohw - oh * int(p.OW);
    c.ptr = in + (int64_t(n) * p.C + int64_t(g) * p.Cg()) * p.H * p.W;
    c.h = oh * int(p.stride_h) - int(p.pad_h);
    c.w = ow * int(p.stride_w) - int(p.pad_w);
    return c;
  }
  template <int L, typename F>
  LOOM_HD void addr_a(const ACtx& c, int k0, int kend, F&& f) const {
    walk3<L>(k0, int(p.R), int(p.S), [&](int i, int ci, int r, int s) {
      const int ih = c.h + r * int(p.dil_h), iw = c.w + s * int(p.dil_w);
      const bool in = c.valid && k0 + i < kend && ih >= 0 && ih < int(p.H) && iw >= 0 && iw < int(p.W);
      f(i, in ? c.ptr + (int64_t(ci) * p.H + ih) * p.W + iw : nullptr);
    });
  }
  LOOM_HD BCtx b_ctx(int n, int g) const {
    BCtx c{};
    c.valid = n < N;
    c.ptr = w + (int64_t(g) * p.Kg() + n) * K;
    return c;
  }
  // The weight rows are contiguous in k: four at once where aligned.
  template <int L>
  LOOM_HD bool load_b_vec(const BCtx& c, int k0, int kend, T (&v)[L]) const {
    if constexpr (L == 4 && std::is_same<T, float>::value) {
      if (vec_b && c.valid && k0 + 3 < kend) {
        const float4 q = *reinterpret_cast<const float4*>(c.ptr + k0);
        v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
        return true;
      }
    }
    return false;
  }
  template <int L, typename F>
  LOOM_HD void addr_b(const BCtx& c, int k0, int kend, F&& f) const {
#pragma unroll
    for (int i = 0; i < L; ++i) f(i, (c.valid && k0 + i < kend) ? c.ptr + k0 + i : nullptr);
  }
  LOOM_HD const T* base() const { return in; }
  LOOM_HD OCtx o_ctx(int m, int g) const {
    OCtx c{};
    c.valid = m < M;
    if (!c.valid) return c;
    const int OHW = int(p.OH * p.OW), n = m / OHW, ohw = m - n * OHW;
    c.ptr = out + (int64_t(n) * p.K + int64_t(g) * p.Kg()) * OHW + ohw;
    return c;
  }
  LOOM_HD void store(const OCtx& c, int n, int g, T v, bool) const {
    if (!c.valid || n >= N) return;
    if (bias) v += bias[g * p.Kg() + n];
    c.ptr[int64_t(n) * p.OH * p.OW] = v;
  }
};

template <typename T>
struct DgradProblem {
  const T* gout;
  const T* w;
  T* gin;
  ConvParams p;
  int M, N, K;
  bool vec_b;

  using ACtx = PixelSpan<T>;
  using BCtx = Span<const T*>;
  using OCtx = Span<T*>;

  LOOM_HD void select_split(int) {}
  LOOM_HD ACtx a_ctx(int m, int g) const {
    ACtx c{};
    c.valid = m < M;
    if (!c.valid) return c;
    const int HW = int(p.H * p.W);
    const int n = m / HW, hw = m - n * HW, h = hw / int(p.W), x = hw - h * int(p.W);
    c.ptr = gout + (int64_t(n) * p.K + int64_t(g) * p.Kg()) * p.OH * p.OW;
    c.h = h + int(p.pad_h);
    c.w = x + int(p.pad_w);
    return c;
  }
  template <int L, typename F>
  LOOM_HD void addr_a(const ACtx& c, int k0, int kend, F&& f) const {
    walk3<L>(k0, int(p.R), int(p.S), [&](int i, int ko, int r, int s) {
      const T* q = nullptr;
      const int th = c.h - r * int(p.dil_h), tw = c.w - s * int(p.dil_w);
      if (c.valid && k0 + i < kend && th >= 0 && tw >= 0) {
        const int oh = th / int(p.stride_h), ow = tw / int(p.stride_w);
        if (oh * int(p.stride_h) == th && ow * int(p.stride_w) == tw && oh < int(p.OH) && ow < int(p.OW))
          q = c.ptr + (int64_t(ko) * p.OH + oh) * p.OW + ow;
      }
      f(i, q);
    });
  }
  LOOM_HD BCtx b_ctx(int n, int g) const {
    BCtx c{};
    c.valid = n < N;
    c.ptr = w + int64_t(g) * p.Kg() * p.Cg() * p.R * p.S + int64_t(n) * p.R * p.S;
    return c;
  }
  template <int L>
  LOOM_HD bool load_b_vec(const BCtx&, int, int, T (&)[L]) const {
    return false;
  }
  template <int L, typename F>
  LOOM_HD void addr_b(const BCtx& c, int k0, int kend, F&& f) const {
    const int RS = int(p.R * p.S);
    int ko = k0 / RS, rs = k0 - ko * RS;
#pragma unroll
    for (int i = 0; i < L; ++i) {
      f(i, (c.valid && k0 + i < kend) ? c.ptr + int64_t(ko) * p.Cg() * RS + rs : nullptr);
      if (++rs == RS) rs = 0, ++ko;
    }
  }
  LOOM_HD const T* base() const { return gout; }
  LOOM_HD OCtx o_ctx(int m, int g) const {
    OCtx c{};
    c.valid = m < M;
    if (!c.valid) return c;
    const int HW = int(p.H * p.W), n = m / HW, hw = m - n * HW;
    c.ptr = gin + (int64_t(n) * p.C + int64_t(g) * p.Cg()) * HW + hw;
    return c;
  }
  LOOM_HD void store(const OCtx& c, int n, int, T v, bool) const {
    if (c.valid && n < N) c.ptr[int64_t(n) * p.H * p.W] = v;
  }
};

template <typename T>
struct WgradProblem {
  const T* gout;
  const T* in;
  T* gw;
  ConvParams p;
  int M, N, K;
  bool vec_b;
  // Deterministic split-K: split s writes its partial tile at gw + s * split_stride
  // (a workspace), summed in order afterwards; 0 = every split into gw.
  int64_t split_stride;

  LOOM_HD void select_split(int split) { gw += split * split_stride; }

  using ACtx = Span<const T*>;
  struct BCtx {
    const T* ptr;
    int roff, soff;
    bool valid;
  };
  using OCtx = Span<T*>;

  LOOM_HD ACtx a_ctx(int m, int g) const {
    ACtx c{};
    c.valid = m < M;
    c.ptr = gout + (int64_t(g) * p.Kg() + m) * p.OH * p.OW;
    return c;
  }
  template <int L, typename F>
  LOOM_HD void addr_a(const ACtx& c, int k0, int kend, F&& f) const {
    const int OHW = int(p.OH * p.OW);
    int n = k0 / OHW, ohw = k0 - n * OHW;
#pragma unroll
    for (int i = 0; i < L; ++i) {
      f(i, (c.valid && k0 + i < kend) ? c.ptr + int64_t(n) * p.K * OHW + ohw : nullptr);
      if (++ohw == OHW) ohw = 0, ++n;
    }
  }
  LOOM_HD BCtx b_ctx(int n, int g) const {
    BCtx c{};
    c.valid = n < N;
    if (!c.valid) return c;
    const int RS = int(p.R * p.S), ci = n / RS, rs = n - ci * RS, r = rs / int(p.S), s = rs - r * int(p.S);
    c.ptr = in + (int64_t(g) * p.Cg() + ci) * p.H * p.W;
    c.roff = r * int(p.dil_h) - int(p.pad_h);
    c.soff = s * int(p.dil_w) - int(p.pad_w);
    return c;
  }
  template <int L>
  LOOM_HD bool load_b_vec(const BCtx&, int, int, T (&)[L]) const {
    return false;
  }
  template <int L, typename F>
  LOOM_HD void addr_b(const BCtx& c, int k0, int kend, F&& f) const {
    walk3<L>(k0, int(p.OH), int(p.OW), [&](int i, int n, int oh, int ow) {
      const int ih = oh * int(p.stride_h) + c.roff, iw = ow * int(p.stride_w) + c.soff;
      const bool in = c.valid && k0 + i < kend && ih >= 0 && ih < int(p.H) && iw >= 0 && iw < int(p.W);
      f(i, in ? c.ptr + (int64_t(n) * p.C * p.H + ih) * p.W + iw : nullptr);
    });
  }
  LOOM_HD const T* base() const { return gout; }
  LOOM_HD OCtx o_ctx(int m, int g) const {
    OCtx c{};
    c.valid = m < M;
    c.ptr = gw + (int64_t(g) * p.Kg() + m) * N;
    return c;
  }
  LOOM_HD void store(const OCtx& c, int n, int, T v, bool atomic) const {
    if (!c.valid || n >= N) return;
#if defined(__CUDA_ARCH__) || defined(LOOM_CUDA_EMU)
    if (atomic) atomicAdd(c.ptr + n, v);
    else c.ptr[n] = v;
#else
    c.ptr[n] = atomic ? c.ptr[n] + v : v;
#endif
  }
};

}  // namespace
}  // namespace loom::kernels::cuda
