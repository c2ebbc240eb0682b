// Convolution on CUDA: loom's own implicit-GEMM kernels (no im2col buffer in
// device memory). Math and layouts: kernels/conv.h. Each pass is a GEMM
// C[M, N] = sum_k A[m, k] B[k, n] whose operands are gathered on the fly:
//   forward       M = N*OH*OW pixels, N = Kg channels,  k = (c, r, s)      A = input,    B = weight
//   backward-data M = N*H*W pixels,   N = Cg channels,  k = (kout, r, s)   A = grad_out, B = weight
//   backward-wgt  M = Kg,             N = Cg*R*S,       k = (n, oh, ow)    A = grad_out, B = input
// (per group: blockIdx.z). A block computes a BM x BN tile with 256 threads;
// each thread gathers, for every k-tile of BK = 8, one fixed row and a run of
// consecutive k (decoded once) either
//   into registers, stored into double-buffered shared memory (one
//   __syncthreads per k-tile: the next tile is fetched while this one
//   computes; the weight rows of the forward pass load as float4), or
//   (float, sm_80+, "_p4" configurations) straight into a ring of four shared
//   buffers with cp.async (zero-filling what lies outside the image), three
//   tiles ahead of the one computing;
// then
//   FP32: each thread accumulates a TM x TN register block, reading float4 from
//         shared memory (rows padded by 8 floats: no bank conflicts);
//   TF32: (float, allow_tf32) 8 warps in 2 x 4, each issuing
//         mma.sync.m16n8k8 tf32 on its (BM/2) x (BN/4) warp tile; values are
//         rounded to tf32 (cvt.rna) when stored into shared memory.
// Tiles (ConvConfig): 128x128, 256x64, 128x64, 64x128, 64x64; float kernels
// are bounded to 128 registers so that two blocks fit on an SM. conv2d_configs
// lists those that fit a problem, the heuristic's first; the autotuner picks.
// The weight gradient reduces over N*OH*OW: its k range is split over
// blockIdx.z (split-K; by default enough splits for two waves of the GPU).
// The partial tiles are atomically added into the zeroed gradient, or, when
// deterministic, written to a workspace and summed in a fixed order by a
// second kernel. The bias gradient is channel_sum (reduce_channel.cu): a
// deterministic per-channel reduction spread over the whole GPU.
// 1x1 stride-1 convolutions also run as cuBLAS GEMMs batched over the images
// (config "gemm"; its weight gradient sums per-image partials in order).
// The three GEMM views (index math of each pass): conv_views.cuh.
// Few input channels (C <= 4): direct kernels in conv_direct.cu; depthwise
// (groups == C, up to 25 taps): conv_depthwise.cu.
#include <algorithm>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/conv.h"
#include "kernels/reduce.h"
#include "kernels/cuda/conv_internal.h"
#include "kernels/cuda/conv_views.cuh"
#include "kernels/matmul.h"

namespace loom::kernels::cuda {
namespace {

constexpr int kBK = 8;
constexpr int kPad = 8;
constexpr int kConvThreads = 256;
constexpr int kPipeStages = 4;  // the cp.async configurations' ring of k-tiles

// The TF32 tensor-core path exists on sm_80+ and in the CUDA emulator
// (emu/), which runs the same fragment layout on the host.
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

// ---- the tiled implicit-GEMM kernel ----

// At most 128 registers for float (two blocks of 256 threads per SM).
template <typename T>
constexpr int kMinBlocks = sizeof(T) == 4 ? 2 : 1;

// The cp.async pipeline (kStages > 0) exists on sm_80+ and in the emulator,
// where a copy completes when issued.
#if (defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800) || defined(LOOM_CUDA_EMU)
#define LOOM_CONV_CP_ASYNC 1
#endif

#ifdef LOOM_CONV_CP_ASYNC
// Copies one element global -> shared without passing through registers;
// src = nullptr writes zero (src-size 0; `any` is then the address given).
template <typename T>
__device__ __forceinline__ void cp_async(T* dst, const T* src, const T* any) {
#ifdef LOOM_CUDA_EMU
  (void)any;
  *dst = src ? *src : T(0);
#else
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  const int n = src ? int(sizeof(T)) : 0;
  if constexpr (sizeof(T) == 4)
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(d), "l"(src ? src : any), "r"(n));
  else asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;\n" ::"r"(d), "l"(src ? src : any), "r"(n));
#endif
}
__device__ __forceinline__ void cp_async_commit() {
#ifndef LOOM_CUDA_EMU
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}
// Waits until at most N of this thread's committed groups are in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
#ifndef LOOM_CUDA_EMU
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
#endif
}
#endif

// kStages = 0: each k-tile is gathered into registers while the previous one
// computes, then stored into the other of two shared buffers (TF32: rounded
// there). kStages >= 2: a ring of kStages shared buffers filled by cp.async,
// kStages - 1 tiles ahead of the one computing (TF32: the tensor cores read
// the top 19 bits, as cuBLAS's TF32 does).
template <typename T, int BM, int BN, bool kMma, int kStages, class Problem>
__global__ void __launch_bounds__(kConvThreads, kMinBlocks<T>)
    conv_igemm_kernel(Problem prob, int splits, int k_per_split, bool atomic) {
  constexpr int LA = BM * kBK / kConvThreads, LB = BN * kBK / kConvThreads;  // k run per thread
  static_assert(LA >= 1 && LB >= 1 && kBK % LA == 0 && kBK % LB == 0, "tile shape");
  constexpr int kBufs = kStages > 0 ? kStages : 2;
  __shared__ __align__(16) T As[kBufs][kBK][BM + kPad];
  __shared__ __align__(16) T Bs[kBufs][kBK][BN + kPad];

  const int tid = threadIdx.x;
  const int g = blockIdx.z / splits, split = blockIdx.z % splits;
  const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
  const int kbeg = split * k_per_split, kend = min(prob.K, kbeg + k_per_split);
  prob.select_split(split);

  // This thread's loader row/column and its k offset inside a tile.
  const int a_row = tid % BM, a_k = (tid / BM) * LA;
  const int b_col = tid % BN, b_k = (tid / BN) * LB;
  const auto actx = prob.a_ctx(m0 + a_row, g);
  const auto bctx = prob.b_ctx(n0 + b_col, g);

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

  // acc += the k-tile in shared buffer `buf`.
  auto compute = [&](int buf) {
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
  };

  if constexpr (kStages == 0) {
    T ra[LA], rb[LB];
    auto fetch = [&](int kt) {
      prob.template addr_a<LA>(actx, kt + a_k, kend, [&](int i, const T* q) { ra[i] = q ? *q : T(0); });
      if (!prob.template load_b_vec<LB>(bctx, kt + b_k, kend, rb))
        prob.template addr_b<LB>(bctx, kt + b_k, kend, [&](int i, const T* q) { rb[i] = q ? *q : T(0); });
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
    if (kbeg < kend) {
      fetch(kbeg);
      stash(0);
    }
    __syncthreads();
    int buf = 0;
    for (int kt = kbeg; kt < kend; kt += kBK) {
      const bool more = kt + kBK < kend;
      if (more) fetch(kt + kBK);
      compute(buf);
      if (more) stash(buf ^ 1);
      __syncthreads();
      buf ^= 1;
    }
  } else {
#ifdef LOOM_CONV_CP_ASYNC
    const T* any = prob.base();
    auto issue = [&](int kt, int buf) {
      prob.template addr_a<LA>(actx, kt + a_k, kend,
                               [&](int i, const T* q) { cp_async(&As[buf][a_k + i][a_row], q, any); });
      prob.template addr_b<LB>(bctx, kt + b_k, kend,
                               [&](int i, const T* q) { cp_async(&Bs[buf][b_k + i][b_col], q, any); });
    };
    const int tiles = kend > kbeg ? (kend - kbeg + kBK - 1) / kBK : 0;
    // One commit per tile slot, empty or not, so that wait<kStages - 2> always means "tile t landed".
#pragma unroll
    for (int t = 0; t < kStages - 1; ++t) {
      if (t < tiles) issue(kbeg + t * kBK, t);
      cp_async_commit();
    }
    for (int t = 0; t < tiles; ++t) {
      cp_async_wait<kStages - 2>();
      __syncthreads();  // tile t is visible to all; every thread is done with tile t - 1's buffer
      const int next = t + kStages - 1;
      if (next < tiles) issue(kbeg + next * kBK, next % kStages);
      cp_async_commit();
      compute(t % kStages);
    }
    cp_async_wait<0>();
#endif
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

// out[i] = sum over s < splits of parts[s * n + i], in order: the deterministic
// reduction of split-K partial tiles.
template <typename T>
__global__ void conv_split_sum_kernel(T* out, const T* parts, int64_t n, int splits) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    T s = parts[i];
    for (int k = 1; k < splits; ++k) s += parts[k * n + i];
    out[i] = s;
  }
}

// out[plane][i] += bias[plane % K] over planes of HW elements (the gemm path's bias).
template <typename T>
__global__ void conv_bias_add_kernel(T* out, const T* bias, int64_t planes, int K, int64_t HW) {
  for (int64_t pl = blockIdx.y; pl < planes; pl += gridDim.y) {
    const T b = bias[pl % K];
    T* o = out + pl * HW;
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < HW; i += int64_t(blockDim.x) * gridDim.x)
      o[i] += b;
  }
}

// ---- configurations ----

int sm_count() {
  static int count = [] {
    int dev = 0, n = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess)
      n = 108;
    return n;
  }();
  return count;
}

struct GemmDims {
  int64_t M, N, K;
};

GemmDims gemm_dims(ConvPass pass, const ConvParams& p) {
  switch (pass) {
    case ConvPass::Forward: return {p.N * p.OH * p.OW, p.Kg(), p.crs()};
    case ConvPass::BackwardData: return {p.N * p.H * p.W, p.Cg(), p.Kg() * p.R * p.S};
    default: return {p.Kg(), p.crs(), p.N * p.OH * p.OW};
  }
}

void check_sizes(const GemmDims& d) {
  const int64_t lim = INT32_MAX;
  // Rows, columns and k are 32-bit in the kernels; element offsets are 64-bit.
  LOOM_CHECK(d.M < lim && d.N < lim && d.K < lim, "conv2d (CUDA): GEMM sizes M=", d.M, " N=", d.N, " K=", d.K,
             " exceed the 32-bit index range of the kernels");
}

// k per split, a multiple of the k-tile, and the number of splits that then
// have work (at most `splits`).
std::pair<int, int> split_k(int64_t K, int splits) {
  int64_t per = (K + splits - 1) / splits;
  per = std::max<int64_t>(kBK, (per + kBK - 1) / kBK * kBK);
  return {int(per), int(std::max<int64_t>(1, (K + per - 1) / per))};
}

// The tiles loom has, in the order the heuristic prefers among those that fit.
struct Tile {
  int bm, bn;
};
constexpr Tile kTiles[] = {{128, 128}, {256, 64}, {128, 64}, {64, 128}, {64, 64}};

bool tile_fits(const Tile& t, const GemmDims& d, size_t elem) {
  if (elem == 8 && (t.bm * t.bn > 128 * 64)) return false;  // float64: register block too large
  if (t.bm == 256) return t.bn == 64 && d.M >= 1024 && d.N <= 64;
  return (t.bm == 64 || d.M > 64) && (t.bn == 64 || d.N > 64);
}

// The tile the heuristic picks: 128 rows / columns where the GEMM dim has
// them (more FMAs per shared-memory read), else 64.
Tile heuristic_tile(const GemmDims& d) { return {d.M >= 96 ? 128 : 64, d.N >= 96 ? 128 : 64}; }

// Splits of the weight gradient's k range so that the grid covers at least two
// waves of the GPU (blocks resident per SM by the launch bounds), each split
// at least 16 k-tiles long.
int wgrad_splits(const Tile& t, const GemmDims& d, int64_t groups, size_t elem) {
  const int64_t per_sm = elem == 4 ? 2 : 1;
  const int64_t tiles = ((d.M + t.bm - 1) / t.bm) * ((d.N + t.bn - 1) / t.bn) * groups;
  const int64_t target = 2 * per_sm * sm_count();
  int64_t s = (target + tiles - 1) / tiles;
  s = std::min<int64_t>(s, std::max<int64_t>(1, d.K / (16 * kBK)));
  s = std::min<int64_t>(s, 65535 / groups);
  return int(std::max<int64_t>(s, 1));
}

// ---- launchers ----

template <typename T, class Problem>
void launch_igemm(Problem prob, const ConvConfig& cfg, int groups, bool atomic, bool tf32, cudaStream_t stream) {
  const auto ks = split_k(prob.K, cfg.splits);
  const int k_per_split = ks.first, splits = ks.second;
  dim3 grid((prob.M + cfg.bm - 1) / cfg.bm, (prob.N + cfg.bn - 1) / cfg.bn, groups * splits);
  LOOM_CHECK(grid.y <= 65535 && grid.z <= 65535, "conv2d (CUDA): grid ", grid.y, " x ", grid.z, " too large");
  auto launch = [&](auto bm, auto bn, auto stages) {
    constexpr int M_ = decltype(bm)::value, N_ = decltype(bn)::value, S_ = decltype(stages)::value;
    if constexpr (std::is_same<T, float>::value) {
      if (tf32) {
        conv_igemm_kernel<T, M_, N_, true, S_><<<grid, kConvThreads, 0, stream>>>(prob, splits, k_per_split, atomic);
        return;
      }
      conv_igemm_kernel<T, M_, N_, false, S_><<<grid, kConvThreads, 0, stream>>>(prob, splits, k_per_split, atomic);
    } else if constexpr (S_ == 0 && M_ * N_ <= 128 * 64) {  // float64: register double-buffer, smaller tiles
      conv_igemm_kernel<T, M_, N_, false, 0><<<grid, kConvThreads, 0, stream>>>(prob, splits, k_per_split, atomic);
    }
  };
  auto with_stages = [&](auto bm, auto bn) {
    if (cfg.stages == kPipeStages) launch(bm, bn, std::integral_constant<int, kPipeStages>{});
    else launch(bm, bn, std::integral_constant<int, 0>{});
  };
  using I64 = std::integral_constant<int, 64>;
  using I128 = std::integral_constant<int, 128>;
  using I256 = std::integral_constant<int, 256>;
  const int bm = cfg.bm, bn = cfg.bn;
  if (bm == 128 && bn == 128) with_stages(I128{}, I128{});
  else if (bm == 256 && bn == 64) with_stages(I256{}, I64{});
  else if (bm == 128 && bn == 64) with_stages(I128{}, I64{});
  else if (bm == 64 && bn == 128) with_stages(I64{}, I128{});
  else if (bm == 64 && bn == 64) with_stages(I64{}, I64{});
  else LOOM_THROW(ErrorKind::Value, "conv2d (CUDA): no kernel for the configuration ", cfg.name());
  LOOM_CUDA_KERNEL_CHECK();
}

void check_igemm(const ConvConfig& cfg, const GemmDims& d, size_t elem) {
  LOOM_CHECK_VALUE(cfg.kind == ConvConfig::Kind::Igemm && cfg.splits >= 1 && tile_fits({cfg.bm, cfg.bn}, d, elem) &&
                       (cfg.stages == 0 || (cfg.stages == kPipeStages && elem == 4)),
                   "conv2d (CUDA): the configuration ", cfg.name(), " does not fit the GEMM M=", d.M, " N=", d.N,
                   " K=", d.K);
}

// 1x1, stride 1, no padding: every pass is a GEMM per image and group over
// the H*W pixels, batched over the images (cuBLAS, matmul.cu's gemm):
//   forward  out[n]_g (Kg x HW) = W_g (Kg x Cg) @ in[n]_g (Cg x HW), then + bias
//   bwd_data gin[n]_g (Cg x HW) = W_g^T @ gout[n]_g (Kg x HW)
//   bwd_wgt  part[n]_g (Kg x Cg) = gout[n]_g @ in[n]_g^T, summed over n in order
// (and the input plane is the output plane: not so for a transposed convolution with output_padding)
bool gemm_applies(const ConvParams& p) { return p.is_pointwise(); }

void check_gemm(const ConvConfig& cfg, const ConvParams& p) {
  LOOM_CHECK_VALUE(gemm_applies(p), "conv2d (CUDA): the configuration ", cfg.name(),
                   " needs a 1x1 kernel with stride 1 and no padding, got ", p.R, "x", p.S, " stride ", p.stride_h, ",",
                   p.stride_w, " padding ", p.pad_h, ",", p.pad_w);
}

void check_depthwise(const ConvConfig& cfg, const ConvParams& p) {
  LOOM_CHECK_VALUE(conv_depthwise_applies(p), "conv2d (CUDA): the configuration ", cfg.name(),
                   " needs groups == in_channels and a kernel of at most 25 taps, got groups ", p.groups, " C ", p.C,
                   " kernel ", p.R, "x", p.S);
}

template <typename T>
void gemm_forward(T* out, const T* in, const T* w, const T* bias, const ConvParams& p, bool tf32, cudaStream_t stream) {
  const int64_t HW = p.H * p.W, Kg = p.Kg(), Cg = p.Cg();
  for (int64_t g = 0; g < p.groups; ++g)
    gemm(dtype_of<T>::value, false, false, Kg, HW, Cg, 1.0, w + g * Kg * Cg, Cg, 0, in + g * Cg * HW, HW, p.C * HW, 0.0,
         out + g * Kg * HW, HW, p.K * HW, p.N, tf32, stream);
  if (bias) {
    const int64_t planes = p.N * p.K;
    dim3 grid(unsigned(std::min<int64_t>((HW + kThreads - 1) / kThreads, 64)),
              unsigned(std::min<int64_t>(planes, 65535)));
    conv_bias_add_kernel<T><<<grid, kThreads, 0, stream>>>(out, bias, planes, int(p.K), HW);
    LOOM_CUDA_KERNEL_CHECK();
  }
}

template <typename T>
void gemm_backward_input(T* gin, const T* gout, const T* w, const ConvParams& p, bool tf32, cudaStream_t stream) {
  const int64_t HW = p.H * p.W, Kg = p.Kg(), Cg = p.Cg();
  for (int64_t g = 0; g < p.groups; ++g)
    gemm(dtype_of<T>::value, true, false, Cg, HW, Kg, 1.0, w + g * Kg * Cg, Cg, 0, gout + g * Kg * HW, HW, p.K * HW,
         0.0, gin + g * Cg * HW, HW, p.C * HW, p.N, tf32, stream);
}

// parts: N partial gradients [K][Cg] (or gw itself when N == 1).
template <typename T>
void gemm_backward_weight(T* gw, const T* gout, const T* in, const ConvParams& p, bool tf32, T* parts,
                          cudaStream_t stream) {
  const int64_t HW = p.H * p.W, Kg = p.Kg(), Cg = p.Cg(), numel = p.K * Cg;
  T* dst = p.N == 1 ? gw : parts;
  for (int64_t g = 0; g < p.groups; ++g)
    gemm(dtype_of<T>::value, false, true, Kg, Cg, HW, 1.0, gout + g * Kg * HW, HW, p.K * HW, in + g * Cg * HW, HW,
         p.C * HW, 0.0, dst + g * Kg * Cg, Cg, numel, p.N, tf32, stream);
  if (p.N > 1) {
    conv_split_sum_kernel<T><<<grid_for(numel), kThreads, 0, stream>>>(gw, parts, numel, int(p.N));
    LOOM_CUDA_KERNEL_CHECK();
  }
}

template <typename T>
void forward_impl(T* out, const T* in, const T* w, const T* bias, const ConvParams& p, bool tf32, const ConvConfig& cfg,
                  cudaStream_t stream) {
  if (cfg.kind == ConvConfig::Kind::Few) {
    LOOM_CHECK_VALUE(conv_few_channels(p, sizeof(T)), "conv2d (CUDA): the configuration few needs C <= 4, got C=", p.C);
    conv_few_forward(dtype_of<T>::value, out, in, w, bias, p, stream);
    return;
  }
  if (cfg.kind == ConvConfig::Kind::Gemm) {
    check_gemm(cfg, p);
    gemm_forward(out, in, w, bias, p, tf32, stream);
    return;
  }
  if (cfg.kind == ConvConfig::Kind::Depthwise) {
    check_depthwise(cfg, p);
    conv_depthwise_forward(dtype_of<T>::value, out, in, w, bias, p, stream);
    return;
  }
  const GemmDims d = gemm_dims(ConvPass::Forward, p);
  check_sizes(d);
  check_igemm(cfg, d, sizeof(T));
  FwdProblem<T> prob{in, w, bias, out, p, int(d.M), int(d.N), int(d.K), false};
  prob.vec_b = d.K % 4 == 0 && reinterpret_cast<uintptr_t>(w) % 16 == 0;
  launch_igemm<T>(prob, ConvConfig{cfg.kind, cfg.bm, cfg.bn, 1, cfg.stages}, int(p.groups), false, tf32, stream);
}

template <typename T>
void backward_input_impl(T* gin, const T* gout, const T* w, const ConvParams& p, bool tf32, const ConvConfig& cfg,
                         cudaStream_t stream) {
  if (cfg.kind == ConvConfig::Kind::Few) {
    LOOM_CHECK_VALUE(conv_few_channels(p, sizeof(T)), "conv2d (CUDA): the configuration few needs C <= 4, got C=", p.C);
    conv_few_backward_input(dtype_of<T>::value, gin, gout, w, p, stream);
    return;
  }
  if (cfg.kind == ConvConfig::Kind::Gemm) {
    check_gemm(cfg, p);
    gemm_backward_input(gin, gout, w, p, tf32, stream);
    return;
  }
  if (cfg.kind == ConvConfig::Kind::Depthwise) {
    check_depthwise(cfg, p);
    conv_depthwise_backward_input(dtype_of<T>::value, gin, gout, w, p, stream);
    return;
  }
  const GemmDims d = gemm_dims(ConvPass::BackwardData, p);
  check_sizes(d);
  check_igemm(cfg, d, sizeof(T));
  DgradProblem<T> prob{gout, w, gin, p, int(d.M), int(d.N), int(d.K), false};
  launch_igemm<T>(prob, ConvConfig{cfg.kind, cfg.bm, cfg.bn, 1, cfg.stages}, int(p.groups), false, tf32, stream);
}

size_t align_up(size_t n) { return (n + 255) / 256 * 256; }

// Bytes of the deterministic split-K partials (0 when not needed).
// Bytes of the weight gradient's partials: per split when deterministic
// (igemm), per image (gemm); 0 when written straight into the gradient.
size_t wgrad_partial_bytes(const ConvParams& p, const ConvConfig& cfg, bool deterministic, size_t elem) {
  if (cfg.kind == ConvConfig::Kind::Few) return align_up(conv_few_wgrad_workspace(p, elem, sm_count()));
  if (cfg.kind == ConvConfig::Kind::Depthwise) return align_up(conv_depthwise_wgrad_workspace(p, elem, sm_count()));
  if (cfg.kind == ConvConfig::Kind::Gemm) return p.N > 1 ? align_up(size_t(p.N * p.K * p.Cg()) * elem) : 0;
  if (!deterministic || cfg.kind != ConvConfig::Kind::Igemm) return 0;
  const int splits = split_k(p.N * p.OH * p.OW, cfg.splits).second;
  return splits > 1 ? align_up(size_t(splits) * size_t(p.K * p.crs()) * elem) : 0;
}

template <typename T>
void backward_weight_impl(T* gw, T* gb, const T* gout, const T* in, const ConvParams& p, bool tf32,
                          const ConvConfig& cfg, bool deterministic, void* workspace, cudaStream_t stream) {
  const size_t partial_bytes = wgrad_partial_bytes(p, cfg, deterministic, sizeof(T));
  // The bias gradient's partial sums follow the weight gradient's partials.
  if (gb) {
    const DType dt = dtype_of<T>::value;
    const size_t bias_bytes = channel_sum_workspace_bytes(dt, p.N, p.K, p.OH * p.OW);
    LOOM_CHECK(!bias_bytes || workspace, "conv2d_backward_weight (CUDA): the bias gradient needs a workspace of ",
               bias_bytes, " bytes");
    channel_sum(dt, gb, gout, p.N, p.K, p.OH * p.OW,
                bias_bytes ? static_cast<char*>(workspace) + partial_bytes : nullptr, stream);
  }
  LOOM_CHECK(!partial_bytes || workspace, "conv2d_backward_weight (CUDA): the configuration ", cfg.name(),
             deterministic ? " (deterministic)" : "", " needs a workspace of ", partial_bytes, " bytes");
  if (cfg.kind == ConvConfig::Kind::Few) {
    LOOM_CHECK_VALUE(conv_few_channels(p, sizeof(T)), "conv2d (CUDA): the configuration few needs C <= 4, got C=", p.C);
    conv_few_backward_weight(dtype_of<T>::value, gw, gout, in, p, workspace, sm_count(), stream);
  } else if (cfg.kind == ConvConfig::Kind::Gemm) {
    check_gemm(cfg, p);
    gemm_backward_weight(gw, gout, in, p, tf32, static_cast<T*>(workspace), stream);
  } else if (cfg.kind == ConvConfig::Kind::Depthwise) {
    check_depthwise(cfg, p);
    conv_depthwise_backward_weight(dtype_of<T>::value, gw, gout, in, p, workspace, sm_count(), stream);
  } else {
    const GemmDims d = gemm_dims(ConvPass::BackwardWeight, p);
    check_sizes(d);
    check_igemm(cfg, d, sizeof(T));
    const int splits = split_k(d.K, cfg.splits).second;
    const int64_t numel = p.K * p.crs();
    WgradProblem<T> prob{gout, in, gw, p, int(d.M), int(d.N), int(d.K), false, 0};
    if (partial_bytes) {
      prob.gw = static_cast<T*>(workspace);
      prob.split_stride = numel;
    } else if (splits > 1) {
      LOOM_CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(T) * numel, stream));
    }
    launch_igemm<T>(prob, cfg, int(p.groups), splits > 1 && !partial_bytes, tf32, stream);
    if (partial_bytes) {
      conv_split_sum_kernel<T>
          <<<grid_for(numel), kThreads, 0, stream>>>(gw, static_cast<const T*>(workspace), numel, splits);
      LOOM_CUDA_KERNEL_CHECK();
    }
  }
}

}  // namespace

void conv_split_sum(DType dt, void* out, const void* parts, int64_t n, int splits, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_weight", [&] {
    conv_split_sum_kernel<scalar_t><<<grid_for(n), kThreads, 0, stream>>>(
        static_cast<scalar_t*>(out), static_cast<const scalar_t*>(parts), n, splits);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

const char* conv_pass_name(ConvPass pass) {
  switch (pass) {
    case ConvPass::Forward: return "fwd";
    case ConvPass::BackwardData: return "bwd_data";
    default: return "bwd_weight";
  }
}

std::string ConvConfig::name() const {
  if (kind == Kind::Few) return "few";
  if (kind == Kind::Gemm) return "gemm";
  if (kind == Kind::Depthwise) return "depthwise";
  std::string s = "igemm" + std::to_string(bm) + "x" + std::to_string(bn);
  if (stages > 0) s += "_p" + std::to_string(stages);
  if (splits > 1) s += "_s" + std::to_string(splits);
  return s;
}

std::vector<ConvConfig> conv2d_configs(ConvPass pass, DType dt, const ConvParams& p, bool allow_tf32) {
  const size_t elem = itemsize(dt);
  const GemmDims d = gemm_dims(pass, p);
  std::vector<ConvConfig> out;
  if (conv_depthwise_applies(p)) out.push_back({ConvConfig::Kind::Depthwise, 0, 0, 1});
  if (conv_few_channels(p, elem)) out.push_back({ConvConfig::Kind::Few, 0, 0, 1});
  // The per-image partials of the gemm weight gradient are bounded (256 MiB).
  if (gemm_applies(p) && (pass != ConvPass::BackwardWeight || size_t(p.N * p.K * p.Cg()) * elem <= (size_t(256) << 20)))
    out.push_back({ConvConfig::Kind::Gemm, 0, 0, 1});
  // Each tile with the register double-buffer and (float) the cp.async pipeline.
  auto push = [&](const ConvConfig& c) {
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  };
  auto add = [&](const Tile& t) {
    if (!tile_fits(t, d, elem)) return;
    for (int stages : {0, kPipeStages}) {
      if (stages && elem != 4) continue;
      if (pass != ConvPass::BackwardWeight) {
        push({ConvConfig::Kind::Igemm, t.bm, t.bn, 1, stages});
        continue;
      }
      const int s = wgrad_splits(t, d, p.groups, elem);
      const int most = int(std::max<int64_t>(1, std::min<int64_t>(d.K / (16 * kBK), 65535 / p.groups)));
      push({ConvConfig::Kind::Igemm, t.bm, t.bn, split_k(d.K, s).second, stages});
      if (!stages) push({ConvConfig::Kind::Igemm, t.bm, t.bn, split_k(d.K, std::min(2 * s, most)).second, stages});
    }
  };
  add(heuristic_tile(d));
  for (const Tile& t : kTiles) add(t);
  (void)allow_tf32;
  return out;
}

size_t conv2d_workspace_bytes(ConvPass pass, DType dt, const ConvParams& p, const ConvConfig& cfg, bool deterministic,
                              bool with_bias) {
  if (pass != ConvPass::BackwardWeight) return 0;
  return wgrad_partial_bytes(p, cfg, deterministic, itemsize(dt)) +
         (with_bias ? align_up(channel_sum_workspace_bytes(dt, p.N, p.K, p.OH * p.OW)) : 0);
}

void conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p,
                    bool allow_tf32, const ConvConfig& cfg, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d", [&] {
    forward_impl(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), static_cast<const scalar_t*>(weight),
                 static_cast<const scalar_t*>(bias), p, allow_tf32, cfg, stream);
  });
}

void conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p,
                           bool allow_tf32, const ConvConfig& cfg, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_input", [&] {
    backward_input_impl(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out),
                        static_cast<const scalar_t*>(weight), p, allow_tf32, cfg, stream);
  });
}

void conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                            const ConvParams& p, bool allow_tf32, const ConvConfig& cfg, bool deterministic,
                            void* workspace, cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_weight", [&] {
    backward_weight_impl(static_cast<scalar_t*>(grad_weight), static_cast<scalar_t*>(grad_bias),
                         static_cast<const scalar_t*>(grad_out), static_cast<const scalar_t*>(in), p, allow_tf32, cfg,
                         deterministic, workspace, stream);
  });
}

}  // namespace loom::kernels::cuda
