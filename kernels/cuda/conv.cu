// Convolution on CUDA: loom's own implicit-GEMM kernels (no im2col buffer in
// device memory). Math and layouts: kernels/cpu/conv.h. Each pass is a GEMM
// C[M, N] = sum_k A[m, k] B[k, n] whose operands are gathered on the fly:
//   forward       M = N*OH*OW pixels, N = Kg channels,  k = (c, r, s)      A = input,    B = weight
//   backward-data M = N*H*W pixels,   N = Cg channels,  k = (kout, r, s)   A = grad_out, B = weight
//   backward-wgt  M = Kg,             N = Cg*R*S,       k = (n, oh, ow)    A = grad_out, B = input
// (per group: blockIdx.z). A block computes a BM x BN tile with 256 threads;
// every k-tile of BK = 8 is gathered into registers (each thread: one fixed
// row and a run of consecutive k, decoded once; the weight rows of the forward
// pass load as float4), stored into double-buffered shared memory (one
// __syncthreads per k-tile: the next tile is fetched while this one computes),
// then
//   FP32: each thread accumulates a TM x TN register block, reading float4 from
//         shared memory (rows padded by 8 floats: no bank conflicts);
//   TF32: (float, allow_tf32) 8 warps in 2 x 4, each issuing
//         mma.sync.m16n8k8 tf32 on its (BM/2) x (BN/4) warp tile; values are
//         rounded to tf32 (cvt.rna) when stored into shared memory.
// The weight gradient reduces over N*OH*OW: the k range is split over
// blockIdx.z (split-K) and partial tiles are atomically added into the zeroed
// gradient (not bitwise deterministic). The bias gradient is a block reduction
// per channel.
// Few input channels (the RGB first layer, C <= 4), forward and backward to
// the input: direct kernels with the whole weight in shared memory and one
// pixel per thread (32 output channels or the C input channels in registers),
// coalesced along ow; the implicit GEMM would waste most of its tile on
// C*R*S = 27 or on Cg = 3 columns.
// Tiles of 128 or 64 rows and 128 or 64 columns, by the GEMM dims (>= 96 -> 128).
#include <algorithm>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv.h"

namespace loom::kernels::cuda {
namespace {

constexpr int kBK = 8;
constexpr int kPad = 8;
constexpr int kConvThreads = 256;

// The TF32 tensor-core path exists on sm_80+ and in the CUDA emulator
// (tests/emu), which runs the same fragment layout on the host.
#if (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800) || defined(LOOM_CUDA_EMU)
#define LOOM_CONV_MMA 1
#endif

// Round to nearest (ties away from zero) to TF32: 10 mantissa bits.
__device__ __forceinline__ float tf32_round(float x) {
#ifdef LOOM_CUDA_EMU
  uint32_t u = __float_as_uint(x);
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;  // inf/nan unchanged
  return __uint_as_float(u);
#else
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return __uint_as_float(r);
#endif
}

#ifdef LOOM_CONV_MMA
// d += A (16x8, tf32) x B (8x8, tf32), one warp; fragments as in the PTX ISA.
__device__ __forceinline__ void mma_tf32_m16n8k8(float* d, const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#ifdef LOOM_CUDA_EMU
  float c[4] = {d[0], d[1], d[2], d[3]}, r[4];
  ::emu::mma_m16n8k8_tf32(r, a, b, c);
  for (int i = 0; i < 4; ++i) d[i] = r[i];
#else
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}
#endif

// Host-and-device, so the index math can also be checked by a host emulation.
#define LOOM_HD __host__ __device__

// ---- the three GEMM views of a convolution ----
// Each gives: the A row context of pixel/row m and load_a(ctx, k0, kend, v)
// (L consecutive k from k0; zero past kend or outside the image), the same for
// B columns, and the output context of row m with store(ctx, n, v).

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
  template <int L>
  LOOM_HD void load_a(const ACtx& c, int k0, int kend, T (&v)[L]) const {
    walk3<L>(k0, int(p.R), int(p.S), [&](int i, int ci, int r, int s) {
      const int ih = c.h + r * int(p.dil_h), iw = c.w + s * int(p.dil_w);
      const bool in = c.valid && k0 + i < kend && ih >= 0 && ih < int(p.H) && iw >= 0 && iw < int(p.W);
      v[i] = in ? c.ptr[(int64_t(ci) * p.H + ih) * p.W + iw] : T(0);
    });
  }
  LOOM_HD BCtx b_ctx(int n, int g) const {
    BCtx c{};
    c.valid = n < N;
    c.ptr = w + (int64_t(g) * p.Kg() + n) * K;
    return c;
  }
  template <int L>
  LOOM_HD void load_b(const BCtx& c, int k0, int kend, T (&v)[L]) const {
    if constexpr (L == 4 && std::is_same<T, float>::value) {
      if (vec_b && c.valid && k0 + 3 < kend) {
        const float4 q = *reinterpret_cast<const float4*>(c.ptr + k0);
        v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
        return;
      }
    }
#pragma unroll
    for (int i = 0; i < L; ++i) v[i] = (c.valid && k0 + i < kend) ? c.ptr[k0 + i] : T(0);
  }
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
  template <int L>
  LOOM_HD void load_a(const ACtx& c, int k0, int kend, T (&v)[L]) const {
    walk3<L>(k0, int(p.R), int(p.S), [&](int i, int ko, int r, int s) {
      T x = T(0);
      const int th = c.h - r * int(p.dil_h), tw = c.w - s * int(p.dil_w);
      if (c.valid && k0 + i < kend && th >= 0 && tw >= 0) {
        const int oh = th / int(p.stride_h), ow = tw / int(p.stride_w);
        if (oh * int(p.stride_h) == th && ow * int(p.stride_w) == tw && oh < int(p.OH) && ow < int(p.OW))
          x = c.ptr[(int64_t(ko) * p.OH + oh) * p.OW + ow];
      }
      v[i] = x;
    });
  }
  LOOM_HD BCtx b_ctx(int n, int g) const {
    BCtx c{};
    c.valid = n < N;
    c.ptr = w + int64_t(g) * p.Kg() * p.Cg() * p.R * p.S + int64_t(n) * p.R * p.S;
    return c;
  }
  template <int L>
  LOOM_HD void load_b(const BCtx& c, int k0, int kend, T (&v)[L]) const {
    const int RS = int(p.R * p.S);
    int ko = k0 / RS, rs = k0 - ko * RS;
#pragma unroll
    for (int i = 0; i < L; ++i) {
      v[i] = (c.valid && k0 + i < kend) ? c.ptr[int64_t(ko) * p.Cg() * RS + rs] : T(0);
      if (++rs == RS) rs = 0, ++ko;
    }
  }
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
  template <int L>
  LOOM_HD void load_a(const ACtx& c, int k0, int kend, T (&v)[L]) const {
    const int OHW = int(p.OH * p.OW);
    int n = k0 / OHW, ohw = k0 - n * OHW;
#pragma unroll
    for (int i = 0; i < L; ++i) {
      v[i] = (c.valid && k0 + i < kend) ? c.ptr[int64_t(n) * p.K * OHW + ohw] : T(0);
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
  LOOM_HD void load_b(const BCtx& c, int k0, int kend, T (&v)[L]) const {
    walk3<L>(k0, int(p.OH), int(p.OW), [&](int i, int n, int oh, int ow) {
      const int ih = oh * int(p.stride_h) + c.roff, iw = ow * int(p.stride_w) + c.soff;
      const bool in = c.valid && k0 + i < kend && ih >= 0 && ih < int(p.H) && iw >= 0 && iw < int(p.W);
      v[i] = in ? c.ptr[(int64_t(n) * p.C * p.H + ih) * p.W + iw] : T(0);
    });
  }
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

// ---- the tiled implicit-GEMM kernel ----

template <typename T, int BM, int BN, bool kMma, class Problem>
__global__ void __launch_bounds__(kConvThreads) conv_igemm_kernel(Problem prob, int splits, int k_per_split) {
  constexpr int LA = BM * kBK / kConvThreads, LB = BN * kBK / kConvThreads;  // k run per thread
  static_assert(LA >= 1 && LB >= 1 && kBK % LA == 0 && kBK % LB == 0, "tile shape");
  __shared__ __align__(16) T As[2][kBK][BM + kPad];
  __shared__ __align__(16) T Bs[2][kBK][BN + kPad];

  const int tid = threadIdx.x;
  const int g = blockIdx.z / splits, split = blockIdx.z % splits;
  const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
  const int kbeg = split * k_per_split, kend = min(prob.K, kbeg + k_per_split);
  const bool atomic = splits > 1;

  // This thread's loader row/column and its k offset inside a tile.
  const int a_row = tid % BM, a_k = (tid / BM) * LA;
  const int b_col = tid % BN, b_k = (tid / BN) * LB;
  const auto actx = prob.a_ctx(m0 + a_row, g);
  const auto bctx = prob.b_ctx(n0 + b_col, g);
  T ra[LA], rb[LB];

  auto fetch = [&](int kt) {
    prob.template load_a<LA>(actx, kt + a_k, kend, ra);
    prob.template load_b<LB>(bctx, kt + b_k, kend, rb);
  };
  auto stash = [&](int buf) {
#pragma unroll
    for (int i = 0; i < LA; ++i) {
      T x = ra[i];
      if constexpr (kMma) x = tf32_round(x);
      As[buf][a_k + i][a_row] = x;
    }
#pragma unroll
    for (int i = 0; i < LB; ++i) {
      T x = rb[i];
      if constexpr (kMma) x = tf32_round(x);
      Bs[buf][b_k + i][b_col] = x;
    }
  };

  // FP32 register block: rows (j*64 + tx*4 + i), cols (j*64 + ty*4 + i): the 16 lanes that differ
  // in tx hold 64 consecutive rows (output pixels), so epilogue stores cover whole sectors.
  constexpr int TM = BM / 16, TN = BN / 16;
  // TF32 warp tiles: 2 x 4 warps, MT x NT mma tiles of 16 x 8 each.
  constexpr int MT = BM / 32, NT = BN / 32;
  constexpr int ACC = kMma ? MT * NT * 4 : TM * TN;
  T acc[ACC];
#pragma unroll
  for (int i = 0; i < ACC; ++i) acc[i] = T(0);
  const int tx = tid % 16, ty = tid / 16;
  const int lane = tid % 32, warp = tid / 32, wm = warp / 4, wn = warp % 4, gid = lane / 4, tig = lane % 4;

  if (kbeg < kend) {
    fetch(kbeg);
    stash(0);
  }
  __syncthreads();
  int buf = 0;
  for (int kt = kbeg; kt < kend; kt += kBK) {
    const bool more = kt + kBK < kend;
    if (more) fetch(kt + kBK);
    if constexpr (!kMma) {
#pragma unroll
      for (int k = 0; k < kBK; ++k) {
        T a[TM], b[TN];
#pragma unroll
        for (int j = 0; j < TM / 4; ++j)
#pragma unroll
          for (int i = 0; i < 4; ++i) a[j * 4 + i] = As[buf][k][j * 64 + tx * 4 + i];
#pragma unroll
        for (int j = 0; j < TN / 4; ++j)
#pragma unroll
          for (int i = 0; i < 4; ++i) b[j * 4 + i] = Bs[buf][k][j * 64 + ty * 4 + i];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i * TN + j] += a[i] * b[j];
      }
    } else {
#ifdef LOOM_CONV_MMA
      if constexpr (std::is_same<T, float>::value) {
        uint32_t af[MT][4], bf[NT][2];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          const int r = wm * (BM / 2) + mt * 16 + gid;
          af[mt][0] = __float_as_uint(As[buf][tig][r]);
          af[mt][1] = __float_as_uint(As[buf][tig][r + 8]);
          af[mt][2] = __float_as_uint(As[buf][tig + 4][r]);
          af[mt][3] = __float_as_uint(As[buf][tig + 4][r + 8]);
        }
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
          const int c = wn * (BN / 4) + nt * 8 + gid;
          bf[nt][0] = __float_as_uint(Bs[buf][tig][c]);
          bf[nt][1] = __float_as_uint(Bs[buf][tig + 4][c]);
        }
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int nt = 0; nt < NT; ++nt) mma_tf32_m16n8k8(&acc[(mt * NT + nt) * 4], af[mt], bf[nt]);
      }
#endif
    }
    if (more) stash(buf ^ 1);
    __syncthreads();
    buf ^= 1;
  }

  if constexpr (!kMma) {
#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int m = m0 + (i / 4) * 64 + tx * 4 + (i % 4);
      const auto o = prob.o_ctx(m, g);
#pragma unroll
      for (int j = 0; j < TN; ++j) prob.store(o, n0 + (j / 4) * 64 + ty * 4 + (j % 4), g, acc[i * TN + j], atomic);
    }
  } else {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int m = m0 + wm * (BM / 2) + mt * 16 + gid + h * 8;
        const auto o = prob.o_ctx(m, g);
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
          const int n = n0 + wn * (BN / 4) + nt * 8 + tig * 2;
          prob.store(o, n, g, acc[(mt * NT + nt) * 4 + h * 2], atomic);
          prob.store(o, n + 1, g, acc[(mt * NT + nt) * 4 + h * 2 + 1], atomic);
        }
      }
  }
}

// ---- few input channels: direct convolution ----
// The whole weight sits in shared memory; one thread per pixel. Forward: an
// output pixel, 32 output channels at a time in registers, weight read as
// [crs][K] broadcasts. Backward to the input: an input pixel, its C <= 4
// channels in registers, looping over the (kout, r, s) taps that reach it.
// The per-pixel bodies are host+device so they can be emulated on the host.

constexpr int kFewK = 32;       // output channels per pass, in registers
constexpr int kFewThreads = 128;
constexpr int kFewMaxC = 4;
constexpr int kFewSmem = 48 * 1024;

// ws: the weight as [C*R*S][K]. m: output pixel (n, oh, ow).
template <typename T>
LOOM_HD void few_channels_forward_pixel(T* out, const T* in, const T* ws, const T* bias, const ConvParams& p,
                                        int64_t m) {
  const int K = int(p.K), OHW = int(p.OH * p.OW);
  const int n = int(m / OHW), ohw = int(m - int64_t(n) * OHW), oh = ohw / int(p.OW), ow = ohw - oh * int(p.OW);
  const int ih0 = oh * int(p.stride_h) - int(p.pad_h), iw0 = ow * int(p.stride_w) - int(p.pad_w);
  const T* x = in + int64_t(n) * p.C * p.H * p.W;
  T* y = out + int64_t(n) * K * OHW + ohw;
  for (int k0 = 0; k0 < K; k0 += kFewK) {
    T acc[kFewK];
#pragma unroll
    for (int j = 0; j < kFewK; ++j) acc[j] = (bias && k0 + j < K) ? bias[k0 + j] : T(0);
    for (int c = 0; c < int(p.C); ++c)
      for (int r = 0; r < int(p.R); ++r) {
        const int ih = ih0 + r * int(p.dil_h);
        if (ih < 0 || ih >= int(p.H)) continue;
        for (int s = 0; s < int(p.S); ++s) {
          const int iw = iw0 + s * int(p.dil_w);
          if (iw < 0 || iw >= int(p.W)) continue;
          const T v = x[(int64_t(c) * p.H + ih) * p.W + iw];
          const T* wr = ws + ((c * int(p.R) + r) * int(p.S) + s) * K + k0;
#pragma unroll
          for (int j = 0; j < kFewK; ++j)
            if (k0 + j < K) acc[j] += v * wr[j];
        }
      }
#pragma unroll
    for (int j = 0; j < kFewK; ++j)
      if (k0 + j < K) y[int64_t(k0 + j) * OHW] = acc[j];
  }
}

// ws: the weight as stored, [K][C][R][S]. m: input pixel (n, h, w).
template <typename T>
LOOM_HD void few_channels_dgrad_pixel(T* gin, const T* gout, const T* ws, const ConvParams& p, int64_t m) {
  const int HW = int(p.H * p.W), OHW = int(p.OH * p.OW), C = int(p.C), RS = int(p.R * p.S);
  const int n = int(m / HW), hw = int(m - int64_t(n) * HW), h = hw / int(p.W), x = hw - h * int(p.W);
  const T* g = gout + int64_t(n) * p.K * OHW;
  T acc[kFewMaxC];
#pragma unroll
  for (int c = 0; c < kFewMaxC; ++c) acc[c] = T(0);
  for (int r = 0; r < int(p.R); ++r) {
    const int th = h + int(p.pad_h) - r * int(p.dil_h);
    if (th < 0) continue;
    const int oh = th / int(p.stride_h);
    if (oh * int(p.stride_h) != th || oh >= int(p.OH)) continue;
    for (int s = 0; s < int(p.S); ++s) {
      const int tw = x + int(p.pad_w) - s * int(p.dil_w);
      if (tw < 0) continue;
      const int ow = tw / int(p.stride_w);
      if (ow * int(p.stride_w) != tw || ow >= int(p.OW)) continue;
      const T* gk = g + oh * int(p.OW) + ow;
      const T* wk = ws + r * int(p.S) + s;
      for (int k = 0; k < int(p.K); ++k) {
        const T v = gk[int64_t(k) * OHW];
#pragma unroll
        for (int c = 0; c < kFewMaxC; ++c)
          if (c < C) acc[c] += v * wk[(k * C + c) * RS];
      }
    }
  }
#pragma unroll
  for (int c = 0; c < kFewMaxC; ++c)
    if (c < C) gin[(int64_t(n) * C + c) * HW + hw] = acc[c];
}

bool few_channels(const ConvParams& p, size_t elem) {
  return p.groups == 1 && p.C <= kFewMaxC && int64_t(elem) * p.K * p.crs() <= kFewSmem;
}

template <typename T>
__global__ void __launch_bounds__(kFewThreads) conv_few_channels_kernel(T* out, const T* in, const T* w,
                                                                         const T* bias, ConvParams p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* ws = reinterpret_cast<T*>(smem_raw);
  const int K = int(p.K), CRS = int(p.crs());
  for (int i = threadIdx.x; i < K * CRS; i += blockDim.x) {
    const int k = i / CRS, crs = i - k * CRS;
    ws[crs * K + k] = w[i];
  }
  __syncthreads();
  const int64_t m = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (m < p.N * p.OH * p.OW) few_channels_forward_pixel(out, in, ws, bias, p, m);
}

template <typename T>
__global__ void __launch_bounds__(kFewThreads) conv_few_channels_dgrad_kernel(T* gin, const T* gout, const T* w,
                                                                               ConvParams p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* ws = reinterpret_cast<T*>(smem_raw);
  for (int i = threadIdx.x; i < int(p.K * p.crs()); i += blockDim.x) ws[i] = w[i];
  __syncthreads();
  const int64_t m = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (m < p.N * p.H * p.W) few_channels_dgrad_pixel(gin, gout, ws, p, m);
}

template <typename T>
__global__ void conv_bias_grad_kernel(T* gb, const T* gout, ConvParams p) {
  const int k = blockIdx.x;
  const int64_t OHW = p.OH * p.OW, total = p.N * OHW;
  T s = T(0);
  for (int64_t i = threadIdx.x; i < total; i += blockDim.x) {
    const int64_t n = i / OHW;
    s += gout[(n * p.K + k) * OHW + (i - n * OHW)];
  }
  s = block_reduce(s, SumOp{}, T(0));
  if (threadIdx.x == 0) gb[k] = s;
}

// ---- launchers ----

int sm_count() {
  static int count = [] {
    int dev = 0, n = 0;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) !=
                                                  cudaSuccess)
      n = 108;
    return n;
  }();
  return count;
}

void check_sizes(int64_t M, int64_t N, int64_t K) {
  const int64_t lim = INT32_MAX;
  // Rows, columns and k are 32-bit in the kernels; element offsets are 64-bit.
  LOOM_CHECK(M < lim && N < lim && K < lim, "conv2d (CUDA): GEMM sizes M=", M, " N=", N, " K=", K,
             " exceed the 32-bit index range of the kernels");
}

template <typename T, class Problem>
void launch_igemm(const Problem& prob, int groups, int splits, bool tf32, cudaStream_t stream) {
  int k_per_split = (prob.K + splits - 1) / splits;
  k_per_split = (k_per_split + kBK - 1) / kBK * kBK;
  splits = (prob.K + k_per_split - 1) / k_per_split;
  if (splits < 1) splits = 1;
  // 128 rows / columns where the GEMM dim has them (more FMAs per shared-memory read), else 64.
  const bool wide_m = prob.M >= 96, wide_n = prob.N >= 96;
  const int BM = wide_m ? 128 : 64, BN = wide_n ? 128 : 64;
  dim3 grid((prob.M + BM - 1) / BM, (prob.N + BN - 1) / BN, groups * splits);
  LOOM_CHECK(grid.y <= 65535 && grid.z <= 65535, "conv2d (CUDA): grid ", grid.y, " x ", grid.z, " too large");
  const bool mma = tf32 && std::is_same<T, float>::value;
  auto launch = [&](auto bm, auto bn) {
    constexpr int M_ = decltype(bm)::value, N_ = decltype(bn)::value;
    if (mma) conv_igemm_kernel<T, M_, N_, true><<<grid, kConvThreads, 0, stream>>>(prob, splits, k_per_split);
    else conv_igemm_kernel<T, M_, N_, false><<<grid, kConvThreads, 0, stream>>>(prob, splits, k_per_split);
  };
  using I64 = std::integral_constant<int, 64>;
  using I128 = std::integral_constant<int, 128>;
  if (wide_m && wide_n) launch(I128{}, I128{});
  else if (wide_m) launch(I128{}, I64{});
  else if (wide_n) launch(I64{}, I128{});
  else launch(I64{}, I64{});
  LOOM_CUDA_KERNEL_CHECK();
}

template <typename T>
void forward_impl(T* out, const T* in, const T* w, const T* bias, const ConvParams& p, bool tf32,
                  cudaStream_t stream) {
  const int64_t CRS = p.crs();
  if (few_channels(p, sizeof(T))) {
    const int64_t M = p.N * p.OH * p.OW;
    const size_t smem = sizeof(T) * p.K * CRS;
    conv_few_channels_kernel<T><<<unsigned((M + kFewThreads - 1) / kFewThreads), kFewThreads, smem, stream>>>(
        out, in, w, bias, p);
    LOOM_CUDA_KERNEL_CHECK();
    return;
  }
  FwdProblem<T> prob{in, w, bias, out, p, int(p.N * p.OH * p.OW), int(p.Kg()), int(CRS), false};
  check_sizes(p.N * p.OH * p.OW, p.Kg(), CRS);
  prob.vec_b = CRS % 4 == 0 && reinterpret_cast<uintptr_t>(w) % 16 == 0;
  launch_igemm<T>(prob, int(p.groups), 1, tf32, stream);
}

template <typename T>
void backward_input_impl(T* gin, const T* gout, const T* w, const ConvParams& p, bool tf32, cudaStream_t stream) {
  const int64_t M = p.N * p.H * p.W, K = p.Kg() * p.R * p.S;
  if (few_channels(p, sizeof(T))) {
    conv_few_channels_dgrad_kernel<T><<<unsigned((M + kFewThreads - 1) / kFewThreads), kFewThreads,
                                        sizeof(T) * p.K * p.crs(), stream>>>(gin, gout, w, p);
    LOOM_CUDA_KERNEL_CHECK();
    return;
  }
  check_sizes(M, p.Cg(), K);
  DgradProblem<T> prob{gout, w, gin, p, int(M), int(p.Cg()), int(K), false};
  launch_igemm<T>(prob, int(p.groups), 1, tf32, stream);
}

template <typename T>
void backward_weight_impl(T* gw, T* gb, const T* gout, const T* in, const ConvParams& p, bool tf32,
                          cudaStream_t stream) {
  const int64_t K = p.N * p.OH * p.OW, CRS = p.crs();
  check_sizes(p.Kg(), CRS, K);
  // Enough k-splits to fill the GPU about 4 times over, each at least 32 k-tiles long.
  const int64_t tiles = ((p.Kg() + 63) / 64) * ((CRS + 63) / 64) * p.groups;
  int64_t splits = std::max<int64_t>(1, 4 * sm_count() / std::max<int64_t>(tiles, 1));
  splits = std::min<int64_t>(splits, std::max<int64_t>(1, K / (32 * kBK)));
  splits = std::min<int64_t>(splits, 65535 / p.groups);
  if (splits > 1) LOOM_CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(T) * p.K * CRS, stream));
  WgradProblem<T> prob{gout, in, gw, p, int(p.Kg()), int(CRS), int(K), false};
  launch_igemm<T>(prob, int(p.groups), int(splits), tf32, stream);
  if (gb) {
    conv_bias_grad_kernel<T><<<unsigned(p.K), kThreads, 0, stream>>>(gb, gout, p);
    LOOM_CUDA_KERNEL_CHECK();
  }
}

}  // namespace

void conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p,
                    bool allow_tf32, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d", [&] {
    forward_impl(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), static_cast<const scalar_t*>(weight),
                 static_cast<const scalar_t*>(bias), p, allow_tf32, stream);
  });
}

void conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p,
                           bool allow_tf32, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_input", [&] {
    backward_input_impl(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out),
                        static_cast<const scalar_t*>(weight), p, allow_tf32, stream);
  });
}

void conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                            const ConvParams& p, bool allow_tf32, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_weight", [&] {
    backward_weight_impl(static_cast<scalar_t*>(grad_weight), static_cast<scalar_t*>(grad_bias),
                         static_cast<const scalar_t*>(grad_out), static_cast<const scalar_t*>(in), p, allow_tf32,
                         stream);
  });
}

}  // namespace loom::kernels::cuda
