// Convolution on the CPU: im2col + OpenBLAS GEMM, col2im for the input
// gradient. Layouts and math: kernels/conv.h. Two schedules:
//
// Row slabs (the common case: at least 2 tasks per pool thread). Each
// (sample, group) is cut into slabs of output rows whose column block
// [Cg*R*S, rows*OW] fits a core's L2 (kSlabElems); one pool task unrolls a
// slab and multiplies it at once on one thread (float32 with AVX-512: loom's
// register tiles, kernels/cpu/packed_gemm.cpp; otherwise OpenBLAS), so the
// columns never travel to DRAM:
//   forward   out rows [Kg, rows*OW] = w_g @ col_slab (+ bias, while in cache)
//   grad in   col_slab = w_gᵀ @ grad_out rows, col2im into the input planes; one
//             (sample, group) per task, its slabs in order (they overlap in rows)
//   grad w    each chunk of tasks adds grad_out rows @ col_slabᵀ into its own
//             partial [K, Cg*R*S]; the partials are summed at the end (on the
//             tiles: transposed, over blocks of about 512 positions that may
//             span samples, backward_weight_tiles)
// Whole samples (few tasks: small batch and small images). The column matrix
// of a chunk of samples (at most kColBudget elements) is built in parallel
// over (sample, channel), then one batched gemm call (kernels/cpu/matmul.cpp)
// runs the per-sample products with OpenBLAS threading each; grad w sums over
// samples with beta = 1.
// 1x1 / stride 1 / no padding skips im2col: the input is the column matrix.
// Column buffers are per thread and kept between calls (no page faults on
// each call). The bias gradient is channel_sum (reduce.cpp).
#include "kernels/conv.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/pointwise.h"
#include "kernels/matmul.h"
#include "kernels/reduce.h"
#include "kernels/cpu/conv_depthwise.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"

namespace loom::kernels::cpu {
namespace {

constexpr int64_t kColBudget = int64_t(1) << 23;  // elements (32 MiB of float)
constexpr int64_t kSlabElems = int64_t(1) << 17;  // a forward column slab (512 KiB of float): fits L2
constexpr int64_t kSlabCols = 128;                // the fewest columns of a slab

template <typename T>
T* col_buffer(size_t n) {
  static thread_local std::vector<T> buf;
  if (buf.size() < n) {
    buf.clear();
    buf.shrink_to_fit();
    buf.resize(n);
  }
  return buf.data();
}

// The ow range whose input column ow*sw + off lies inside [0, W).
inline void valid_range(int64_t off, int64_t stride, int64_t W, int64_t OW, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  hi = (W - 1 - off) < 0 ? 0 : (W - 1 - off) / stride + 1;
  lo = std::min(lo, OW);
  hi = std::max(std::min(hi, OW), lo);
}

// The input row (depth id, height ih) that output row q (od, oh: q = od*OH + oh)
// reads at kernel tap (t, r); false where it lies in the padding.
inline bool input_row(const ConvParams& p, int64_t q, int64_t t, int64_t r, int64_t& row) {
  const int64_t od = q / p.OH, oh = q - od * p.OH;
  const int64_t id = od * p.stride_d - p.pad_d + t * p.dil_d, ih = oh * p.stride_h - p.pad_h + r * p.dil_h;
  row = id * p.H + ih;
  return id >= 0 && id < p.D && ih >= 0 && ih < p.H;
}

// d[ow] = src[ow * sw] for ow in [lo, hi): a strided convolution's column row, in the clones (AVX-512 /
// AVX2 permutes and gathers instead of baseline x86-64's scalar loads).
template <typename T>
LOOM_CPU_CLONES void gather_strided(T* d, const T* src, int64_t lo, int64_t hi, int64_t sw) {
#pragma omp simd
  for (int64_t ow = lo; ow < hi; ++ow) d[ow] = src[ow * sw];
}

// Rows (t, r, s) of one input channel [D, H, W], output rows [q0, q1) (of
// the OD*OH, depth-major), into col [KD*R*S, (q1 - q0)*OW].
// col's rows are ld apart (default: the slab's length).
template <typename T>
void im2col_plane(const T* in, T* col, const ConvParams& p, int64_t q0, int64_t q1, int64_t ld = -1) {
  const int64_t L = ld >= 0 ? ld : (q1 - q0) * p.OW;
  for (int64_t t = 0; t < p.KD; ++t)
    for (int64_t r = 0; r < p.R; ++r)
      for (int64_t s = 0; s < p.S; ++s) {
        T* dst = col + ((t * p.R + r) * p.S + s) * L;
        const int64_t off_w = s * p.dil_w - p.pad_w;
        int64_t lo, hi;
        valid_range(off_w, p.stride_w, p.W, p.OW, lo, hi);
        for (int64_t q = q0; q < q1; ++q) {
          T* d = dst + (q - q0) * p.OW;
          int64_t row;
          if (!input_row(p, q, t, r, row)) {
            std::fill(d, d + p.OW, T(0));
            continue;
          }
          const T* src = in + row * p.W + off_w;
          std::fill(d, d + lo, T(0));
          if (p.stride_w == 1) {
            std::memcpy(d + lo, src + lo, (hi - lo) * sizeof(T));
          } else {
            gather_strided(d, src, lo, hi, p.stride_w);
          }
          std::fill(d + hi, d + p.OW, T(0));
        }
      }
}

// Adds col [KD*R*S, (q1 - q0)*OW] (output rows [q0, q1)) into one input channel [D, H, W].
template <typename T>
void col2im_plane(const T* col, T* in, const ConvParams& p, int64_t q0, int64_t q1) {
  const int64_t L = (q1 - q0) * p.OW;
  for (int64_t t = 0; t < p.KD; ++t)
    for (int64_t r = 0; r < p.R; ++r)
      for (int64_t s = 0; s < p.S; ++s) {
        const T* src = col + ((t * p.R + r) * p.S + s) * L;
        const int64_t off_w = s * p.dil_w - p.pad_w;
        int64_t lo, hi;
        valid_range(off_w, p.stride_w, p.W, p.OW, lo, hi);
        for (int64_t q = q0; q < q1; ++q) {
          int64_t row;
          if (!input_row(p, q, t, r, row)) continue;
          T* d = in + row * p.W + off_w;
          const T* c = src + (q - q0) * p.OW;
          const int64_t sw = p.stride_w;
#pragma omp simd
          for (int64_t ow = lo; ow < hi; ++ow) d[ow * sw] += c[ow];
        }
      }
}

// im2col of samples [n0, n0 + nb), group g, into col [nb][Cg*KD*R*S][OD*OH*OW].
template <typename T>
void im2col_chunk(const T* in, T* col, const ConvParams& p, int64_t n0, int64_t nb, int64_t g) {
  const int64_t Cg = p.Cg(), HW = p.in_plane(), plane = p.taps() * p.out_plane();
  detail::parallel_range(nb * Cg, nb * Cg * plane, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t i = t / Cg, c = t % Cg;
      im2col_plane(in + ((n0 + i) * p.C + g * Cg + c) * HW, col + t * plane, p, 0, p.out_rows());
    }
  });
}

template <typename T>
void blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T beta,
          T* c, int64_t ldc) {
  const CBLAS_TRANSPOSE A = ta ? CblasTrans : CblasNoTrans, B = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) cblas_sgemm(CblasRowMajor, A, B, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
  else cblas_dgemm(CblasRowMajor, A, B, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

// Forward by slabs of output rows: each task unrolls the rows [oh0, oh1) of
// one (sample, group) into a column block small enough to stay in the core's
// L2 and multiplies it at once with single-threaded OpenBLAS, writing the
// NCHW output rows and adding the bias while they are in cache.
int64_t slab_rows(const ConvParams& p) {
  // As many rows as fit kSlabElems, but at least kSlabCols columns: the products' tiles run short below
  // that (a 3x3x3 layer of 64 channels, C·KD·R·S = 1728, fitted 2 rows of 28: 56 columns; with 140, its
  // forward went from 35.7 to 31.5 ms at [4, 64, 8, 28, 28]).
  const int64_t fit = kSlabElems / std::max<int64_t>(p.crs() * p.OW, 1);
  const int64_t least = (kSlabCols + p.OW - 1) / std::max<int64_t>(p.OW, 1);
  return std::max<int64_t>(1, std::min<int64_t>(p.out_rows(), std::max(fit, least)));
}
int64_t slab_tasks(const ConvParams& p) { return p.N * p.groups * ((p.out_rows() + slab_rows(p) - 1) / slab_rows(p)); }

// Whether the slab products run on loom's register tiles (kernels/matmul.h):
// float32 on AVX-512, and a reduction long enough for them (the 3-channel
// first layer of an image encoder, C·R·S = 27, stays with OpenBLAS). The tiles
// read the column slab in place, where OpenBLAS packs it on every slab: the
// CLIP encoder's 3x3 layers at batch 32 went from 7.1-8.9 to 6.5-6.9 ms
// forward on 2 cores; the weight gradient (backward_weight_tiles, which takes any
// C·R·S with Kg >= 16) from 141-166 to 160-183 GFLOP/s; the input gradient
// (gemm_interleaved on w_gᵀ) gained 1-5 %.
template <typename T>
bool use_tiles(const ConvParams& p) {
  return std::is_same_v<T, float> && p.crs() >= 64 && packed_gemm_supported();
}

// The weight in gemm_interleaved's 8-row tiles, one block per group, in a
// buffer of the calling thread kept between calls (the pool's threads read it
// during the call); nullptr where the tiles are not used.
template <typename T>
const float* interleaved_weight(const T* w, const ConvParams& p) {
  if constexpr (std::is_same_v<T, float>) {
    if (!use_tiles<T>(p)) return nullptr;
    static thread_local std::vector<float> wt;
    const int64_t Kg = p.Kg(), CRS = p.crs(), per = interleaved_size(Kg, CRS);
    if (wt.size() < size_t(per * p.groups)) wt.resize(size_t(per * p.groups));
    for (int64_t g = 0; g < p.groups; ++g) interleave_rows(wt.data() + g * per, w + g * Kg * CRS, CRS, Kg, CRS);
    return wt.data();
  } else {
    return nullptr;
  }
}

template <typename T>
void forward_slabs(T* out, const T* in, const T* w, const T* bias, const ConvParams& p) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), CRS = p.crs(), OHW = p.out_plane(), HW = p.in_plane(), RS = p.taps();
  const int64_t rows = slab_rows(p), nslab = (p.out_rows() + rows - 1) / rows, ntask = p.N * p.groups * nslab;
  const float* wt = interleaved_weight(w, p);
  detail::parallel_range(ntask, ntask * Kg * CRS * rows * p.OW, [&](int64_t b, int64_t e) {
    T* col = col_buffer<T>(size_t(CRS * rows * p.OW));
    for (int64_t t = b; t < e; ++t) {
      const int64_t sl = t % nslab, g = (t / nslab) % p.groups, n = t / (nslab * p.groups);
      const int64_t oh0 = sl * rows, oh1 = std::min(p.out_rows(), oh0 + rows), L = (oh1 - oh0) * p.OW;
      for (int64_t c = 0; c < Cg; ++c) im2col_plane(in + (n * p.C + g * Cg + c) * HW, col + c * RS * L, p, oh0, oh1);
      T* o = out + (n * p.K + g * Kg) * OHW + oh0 * p.OW;
      bool done = false;
      if constexpr (std::is_same_v<T, float>) {
        if (wt) {
          gemm_interleaved(wt + g * interleaved_size(Kg, CRS), Kg, CRS, col, L, L, o, OHW, false);
          done = true;
        }
      }
      if (!done) blas<T>(false, false, Kg, L, CRS, w + g * Kg * CRS, CRS, col, L, T(0), o, OHW);
      if (bias)
        for (int64_t k = 0; k < Kg; ++k) {
          const T v = bias[g * Kg + k];
          T* ok = o + k * OHW;
#pragma omp simd
          for (int64_t i = 0; i < L; ++i) ok[i] += v;
        }
    }
  });
}

// Backward to the input, one (sample, group) per task: for each slab of output
// rows, col = w_gᵀ @ grad_out rows, then col2im into the input planes. Slabs of
// one sample overlap in input rows, so they run in order inside the task.
template <typename T>
void backward_input_slabs(T* gin, const T* gout, const T* w, const ConvParams& p) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), CRS = p.crs(), OHW = p.out_plane(), HW = p.in_plane(), RS = p.taps();
  const int64_t rows = slab_rows(p), ntask = p.N * p.groups;
  const float* wt = nullptr;  // w_gᵀ [CRS, Kg] in gemm_interleaved's tiles
  if constexpr (std::is_same_v<T, float>) {
    if (use_tiles<T>(p)) {
      static thread_local std::vector<float> wtb, tr;
      const int64_t per = interleaved_size(CRS, Kg);
      wtb.resize(size_t(per * p.groups));
      tr.resize(size_t(CRS * Kg));
      for (int64_t g = 0; g < p.groups; ++g) {
        const float* wg = w + g * Kg * CRS;
        for (int64_t k = 0; k < Kg; ++k)
          for (int64_t j = 0; j < CRS; ++j) tr[size_t(j * Kg + k)] = wg[k * CRS + j];
        interleave_rows(wtb.data() + g * per, tr.data(), Kg, CRS, Kg);
      }
      wt = wtb.data();
    }
  }
  detail::parallel_range(ntask, ntask * Kg * CRS * OHW, [&](int64_t b, int64_t e) {
    T* col = col_buffer<T>(size_t(CRS * rows * p.OW + Kg * (rows * p.OW + 16)));
    for (int64_t t = b; t < e; ++t) {
      const int64_t g = t % p.groups, n = t / p.groups;
      T* planes = gin + (n * p.C + g * Cg) * HW;
      std::fill(planes, planes + Cg * HW, T(0));
      for (int64_t oh0 = 0; oh0 < p.out_rows(); oh0 += rows) {
        const int64_t oh1 = std::min(p.out_rows(), oh0 + rows), L = (oh1 - oh0) * p.OW;
        const T* go = gout + (n * p.K + g * Kg) * OHW + oh0 * p.OW;
        bool done = false;
        if constexpr (std::is_same_v<T, float>) {
          if (wt) {
            // grad_out's rows lie OHW apart, often a multiple of 4 KiB (32 x 32
            // images): the tiles' Kg row reads of one column would share a
            // cache set. They are copied first, a row stride of L (+16 where
            // that too is a multiple of 1024 floats).
            const int64_t ld = L % 1024 == 0 ? L + 16 : L;
            float* gb = col + CRS * L;
            for (int64_t k = 0; k < Kg; ++k) std::memcpy(gb + k * ld, go + k * OHW, size_t(L) * sizeof(float));
            gemm_interleaved(wt + g * interleaved_size(CRS, Kg), CRS, Kg, gb, ld, L, col, L, false);
            done = true;
          }
        }
        if (!done) blas<T>(true, false, CRS, L, Kg, w + g * Kg * CRS, CRS, go, OHW, T(0), col, L);
        for (int64_t c = 0; c < Cg; ++c) col2im_plane(col + c * RS * L, planes + c * HW, p, oh0, oh1);
      }
    }
  });
}

// The weight gradient's products on the register tiles (float32, use_tiles):
// transposed, gw_gᵀ [CRS, Kg] += col [CRS, L] @ grad_outᵀ [L, Kg] over blocks
// of L output positions, so the column block is read in place as the tiles'
// left operand (as in the forward pass) where OpenBLAS would pack it
// transposed on every product; only the grad_out block is copied, transposed,
// into [L, Kp] (Kp: Kg rounded up to the 16-float panels, zero padded). A
// block is a run of whole output rows of the N·OH in order, across samples
// where the images are small: L stays near kWeightCols whatever the image
// size, since each product reads and writes all of the [CRS, Kp] partial (1.2
// MB for 256 x 128·3·3, past L2) and a short L (64 for 8 x 8 images) made
// that traffic, not the arithmetic, the limit. Each chunk of blocks
// accumulates its own [groups][CRS][Kp] partial; the partials are summed and
// transposed into gw at the end.
constexpr int64_t kWeightCols = 512;

void backward_weight_tiles(float* gw, const float* gout, const float* in, const ConvParams& p) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), CRS = p.crs(), OHW = p.out_plane(), HW = p.in_plane(), RS = p.taps();
  const int64_t Kp = (Kg + 15) / 16 * 16, gsize = CRS * Kp, psize = p.groups * gsize;
  const int64_t total = p.N * p.out_rows();  // output rows, all samples
  // Rows per block: about kWeightCols positions (the [L, Kp] block then fits
  // L2), and at least two blocks per thread.
  const int64_t cols = std::max<int64_t>(64, std::min<int64_t>(kWeightCols, (int64_t(1) << 16) / Kp));
  int64_t rows = std::max<int64_t>(1, cols / std::max<int64_t>(p.OW, 1));
  rows = std::max<int64_t>(1, std::min(rows, (total + 2 * pool_threads() - 1) / (2 * pool_threads())));
  const int64_t nblock = (total + rows - 1) / rows, ntask = p.groups * nblock, Lmax = rows * p.OW;
  const int nchunks = detail::num_chunks(ntask, ntask * Kg * CRS * Lmax);
  static thread_local std::vector<float> partial_buf;  // the caller's; the pool's threads use it through `partial`
  partial_buf.assign(size_t(nchunks) * psize, 0.f);
  float* partial = partial_buf.data();
  detail::parallel_chunks(ntask, nchunks, [&](int chunk, int64_t b, int64_t e) {
    float* col = col_buffer<float>(size_t(CRS * Lmax + Lmax * Kp));
    float* bt = col + CRS * Lmax;
    float* acc = partial + chunk * psize;
    for (int64_t t = b; t < e; ++t) {
      const int64_t g = t / nblock, r0 = (t % nblock) * rows, r1 = std::min(total, r0 + rows);
      const int64_t L = (r1 - r0) * p.OW;
      // The block's pieces, one per sample it touches.
      for (int64_t r = r0; r < r1;) {
        const int64_t n = r / p.out_rows(), oh0 = r % p.out_rows(), oh1 = std::min(p.out_rows(), oh0 + (r1 - r)),
                      off = (r - r0) * p.OW;
        for (int64_t c = 0; c < Cg; ++c)
          im2col_plane(in + (n * p.C + g * Cg + c) * HW, col + c * RS * L + off, p, oh0, oh1, L);
        transpose_padded(gout + (n * p.K + g * Kg) * OHW + oh0 * p.OW, OHW, Kg, (oh1 - oh0) * p.OW, bt + off * Kp, Kp);
        r += oh1 - oh0;
      }
      gemm_rows(col, L, CRS, L, bt, Kp, Kp, acc + g * gsize, Kp, true);
    }
  });
  detail::parallel_range(p.K, p.K * CRS * nchunks, [&](int64_t b, int64_t e) {
    for (int64_t kk = b; kk < e; ++kk) {
      const int64_t g = kk / Kg, k = kk % Kg;
      float* dst = gw + kk * CRS;
      for (int64_t j = 0; j < CRS; ++j) {
        float s = 0.f;
        for (int c = 0; c < nchunks; ++c) s += partial[size_t(c * psize + g * gsize + j * Kp + k)];
        dst[j] = s;
      }
    }
  });
}

// Backward to the weight by slabs: each chunk of tasks accumulates
// grad_out rows @ colᵀ into its own partial [K, Cg*R*S]; partials are summed.
template <typename T>
void backward_weight_slabs(T* gw, const T* gout, const T* in, const ConvParams& p) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), CRS = p.crs(), OHW = p.out_plane(), HW = p.in_plane(), RS = p.taps();
  const int64_t rows = slab_rows(p), nslab = (p.out_rows() + rows - 1) / rows, ntask = p.N * p.groups * nslab;
  const int nchunks = detail::num_chunks(ntask, ntask * Kg * CRS * rows * p.OW);
  const int64_t wsize = p.K * CRS;
  if constexpr (std::is_same_v<T, float>) {
    // Any C·R·S (the reduction runs over the positions: the 3-channel first layer too, 4.0 -> 3.0 ms at
    // batch 32); at least 16 output channels per group, as the panels are 16 wide (a depthwise
    // convolution would compute 16 columns for one).
    if (packed_gemm_supported() && p.Kg() >= 16) {
      backward_weight_tiles(gw, gout, in, p);
      return;
    }
  }
  std::vector<T> partial(size_t(nchunks) * wsize, T(0));
  {
    detail::parallel_chunks(ntask, nchunks, [&](int chunk, int64_t b, int64_t e) {
      T* col = col_buffer<T>(size_t(CRS * rows * p.OW));
      T* acc = partial.data() + chunk * wsize;
      for (int64_t t = b; t < e; ++t) {
        const int64_t sl = t % nslab, g = (t / nslab) % p.groups, n = t / (nslab * p.groups);
        const int64_t oh0 = sl * rows, oh1 = std::min(p.out_rows(), oh0 + rows), L = (oh1 - oh0) * p.OW;
        for (int64_t c = 0; c < Cg; ++c) im2col_plane(in + (n * p.C + g * Cg + c) * HW, col + c * RS * L, p, oh0, oh1);
        blas<T>(false, true, Kg, CRS, L, gout + (n * p.K + g * Kg) * OHW + oh0 * p.OW, OHW, col, L, T(1),
                acc + g * Kg * CRS, CRS);
      }
    });
  }
  detail::parallel_range(wsize, wsize * nchunks, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T s = 0;
      for (int c = 0; c < nchunks; ++c) s += partial[size_t(c) * wsize + i];
      gw[i] = s;
    }
  });
}

// ---- stride-1 convolutions without the column matrix (float32 on the register tiles) ----
// For tap (r, s) a stride-1 convolution reads the input shifted by (r dh, s dw). With a sample's input
// planes zero-padded into a buffer of width Wp = W + 2 pw and the output computed at every column of that
// width (the last dw (S - 1) of each row are junk, dropped when the rows are copied out), output position
// oh Wp + ow reads padded position oh Wp + ow + r dh Wp + s dw: each tap is a shifted window of the
// buffer, and gemm_interleaved_taps reads B's rows there in place. The padded copy is 1.3x the input
// where the column matrix is R·S times it (9x for 3x3) and is written again by col2im in the input
// gradient, which here is the same computation on grad_out with the flipped, transposed weight (padding
// dil (k - 1) - pad). One (sample, group) per task; slabs of kTapCols output positions (the A tile and B
// rows in L1 / L2 while the panels stream).
constexpr int64_t kTapCols = 512;

struct TapConv {
  int64_t N, groups;
  int64_t ci, co;          // channels per group, in and out
  int64_t ci_all, co_all;  // channels of the input and output tensors
  int64_t H, W, OH, OW;    // input and output planes
  int64_t R, S, ph, pw, dh, dw;
};

// ci planes of H x W at src, zero-padded by ph rows and pw columns on each side, into dst (ci planes of
// (H + 2 ph) x (W + 2 pw)).
void pad_planes(const float* src, int64_t ci, int64_t H, int64_t W, int64_t ph, int64_t pw, float* dst) {
  const int64_t plane = (H + 2 * ph) * (W + 2 * pw);
  for (int64_t c = 0; c < ci; ++c) detail::pad_plane(src + c * H * W, H, W, ph, pw, dst + c * plane);
}

// out = the convolution of in with the weight wt (per group gemm_interleaved_taps's A: co rows of
// R·S·ci, tap-major), + bias when not null.
void tap_conv(const TapConv& q, const float* in, const float* wt, const float* bias, float* out) {
  const int64_t Hp = q.H + 2 * q.ph, Wp = q.W + 2 * q.pw, plane = Hp * Wp, RS = q.R * q.S, k = RS * q.ci;
  const int64_t per = interleaved_size(q.co, k), slack = q.dw * (q.S - 1) + 16;
  std::vector<int64_t> off(static_cast<size_t>(RS));
  for (int64_t r = 0; r < q.R; ++r)
    for (int64_t s = 0; s < q.S; ++s) off[size_t(r * q.S + s)] = r * q.dh * Wp + s * q.dw;
  const int64_t rows = std::max<int64_t>(1, std::min<int64_t>(q.OH, (kTapCols + Wp - 1) / Wp));
  const int64_t ntask = q.N * q.groups;
  detail::parallel_range(ntask, ntask * q.co * k * q.OH * Wp, [&](int64_t b, int64_t e) {
    thread_local std::vector<float> pad, tmp;
    pad.resize(size_t(q.ci * plane + slack));
    tmp.resize(size_t(q.co * rows * Wp));
    std::fill(pad.begin() + q.ci * plane, pad.end(), 0.f);  // read only by the junk columns
    for (int64_t t = b; t < e; ++t) {
      const int64_t g = t % q.groups, n = t / q.groups;
      pad_planes(in + (n * q.ci_all + g * q.ci) * q.H * q.W, q.ci, q.H, q.W, q.ph, q.pw, pad.data());
      for (int64_t oh0 = 0; oh0 < q.OH; oh0 += rows) {
        const int64_t nr = std::min(rows, q.OH - oh0), npos = nr * Wp;
        gemm_interleaved_taps(wt + g * per, q.co, q.ci, RS, off.data(), pad.data() + oh0 * Wp, plane, npos, tmp.data(),
                              npos);
        for (int64_t o = 0; o < q.co; ++o) {
          const float bv = bias ? bias[g * q.co + o] : 0.f;
          float* dst = out + ((n * q.co_all + g * q.co + o) * q.OH + oh0) * q.OW;
          const float* src = tmp.data() + o * npos;
          for (int64_t h = 0; h < nr; ++h)
#pragma omp simd
            for (int64_t w = 0; w < q.OW; ++w) dst[h * q.OW + w] = src[h * Wp + w] + bv;
        }
      }
    }
  });
}

// Whether the forward pass (input gradient) runs on tap_conv: float32 on the tiles, 2-D, stride 1, at
// least 16 channels per group in the reduction (input channels; for the gradient, output channels), more
// than one tap, and two tasks per thread; the gradient also needs pad <= dil (k - 1).
template <typename T>
bool use_taps(const ConvParams& p, bool grad_input) {
  if (!std::is_same_v<T, float> || !packed_gemm_supported() || !p.is_2d() || p.stride_h != 1 || p.stride_w != 1 ||
      p.taps() < 2 || p.N * p.groups < 2 * pool_threads())
    return false;
  // The junk columns: at most 1/8 of the computed ones (8 x 8 images with a 3x3 kernel compute 10 columns
  // for 8, and ran 10 % slower than on the slabs; 16 x 16 ones 8 % faster).
  if (!grad_input) return p.Cg() >= 16 && p.OW * 8 >= (p.W + 2 * p.pad_w) * 7;
  return p.Kg() >= 16 && p.pad_h <= p.dil_h * (p.R - 1) && p.pad_w <= p.dil_w * (p.S - 1) &&
         p.W * 8 >= (p.OW + 2 * (p.dil_w * (p.S - 1) - p.pad_w)) * 7;
}

void forward_taps(float* out, const float* in, const float* w, const float* bias, const ConvParams& p) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), RS = p.taps(), k = RS * Cg, per = interleaved_size(Kg, k);
  static thread_local std::vector<float> wt, tr;
  wt.resize(size_t(per * p.groups));
  tr.resize(size_t(Kg * k));
  for (int64_t g = 0; g < p.groups; ++g) {  // A[o][t Cg + c] = w[o][c][t]
    for (int64_t o = 0; o < Kg; ++o)
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t t = 0; t < RS; ++t) tr[size_t(o * k + t * Cg + c)] = w[((g * Kg + o) * Cg + c) * RS + t];
    interleave_rows(wt.data() + g * per, tr.data(), k, Kg, k);
  }
  tap_conv({p.N, p.groups, Cg, Kg, p.C, p.K, p.H, p.W, p.OH, p.OW, p.R, p.S, p.pad_h, p.pad_w, p.dil_h, p.dil_w}, in,
           wt.data(), bias, out);
}

void backward_input_taps(float* gin, const float* gout, const float* w, const ConvParams& p) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), RS = p.taps(), k = RS * Kg, per = interleaved_size(Cg, k);
  static thread_local std::vector<float> wt, tr;
  wt.resize(size_t(per * p.groups));
  tr.resize(size_t(Cg * k));
  for (int64_t g = 0; g < p.groups; ++g) {  // A[c][t' Kg + o] = w[o][c][flipped t']
    for (int64_t c = 0; c < Cg; ++c)
      for (int64_t o = 0; o < Kg; ++o)
        for (int64_t t = 0; t < RS; ++t)
          tr[size_t(c * k + (RS - 1 - t) * Kg + o)] = w[((g * Kg + o) * Cg + c) * RS + t];
    interleave_rows(wt.data() + g * per, tr.data(), k, Cg, k);
  }
  tap_conv({p.N, p.groups, Kg, Cg, p.K, p.C, p.OH, p.OW, p.H, p.W, p.R, p.S, p.dil_h * (p.R - 1) - p.pad_h,
            p.dil_w * (p.S - 1) - p.pad_w, p.dil_h, p.dil_w},
           gout, wt.data(), nullptr, gin);
}

// The weight gradient on the same windows: for each tap t, gw_tᵀ [Cg, Kg] += window_t [Cg, positions] @
// grad_outᵀ [positions, Kp], the window read in place from the padded input as gemm_rows's left operand
// and grad_out's rows transposed once per slab into [positions, Kp] with zero rows at the junk columns (so
// they add nothing). Each chunk of tasks accumulates its own tap-major partial [groups][R·S·Cg][Kp];
// the partials are summed and reordered into gw at the end. Only for a finite input: a junk column reads a
// real input value (the first columns of the next row), and inf · 0 would put a NaN where the sum has none.
bool all_finite(const float* x, int64_t n) {
  float acc = 0.f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += x[i] * 0.f;  // NaN for an inf or a NaN
  return acc == 0.f;
}

void backward_weight_taps(float* gw, const float* gout, const float* in, const ConvParams& p) {
  const int64_t Kg = p.Kg(), Cg = p.Cg(), RS = p.taps(), OHW = p.out_plane();
  const int64_t Kp = (Kg + 15) / 16 * 16, gsize = RS * Cg * Kp, psize = p.groups * gsize;
  const int64_t Wp = p.W + 2 * p.pad_w, plane = (p.H + 2 * p.pad_h) * Wp, slack = p.dil_w * (p.S - 1) + 16;
  std::vector<int64_t> off(static_cast<size_t>(RS));
  for (int64_t r = 0; r < p.R; ++r)
    for (int64_t s = 0; s < p.S; ++s) off[size_t(r * p.S + s)] = r * p.dil_h * Wp + s * p.dil_w;
  const int64_t rows = std::max<int64_t>(1, std::min<int64_t>(p.OH, (kWeightCols + Wp - 1) / Wp));
  const int64_t ntask = p.N * p.groups;
  const int nchunks = detail::num_chunks(ntask, ntask * Kg * Cg * RS * p.OH * Wp);
  static thread_local std::vector<float> partial_buf;  // the caller's; the pool's threads use it through `partial`
  partial_buf.assign(size_t(nchunks) * psize, 0.f);
  float* partial = partial_buf.data();
  detail::parallel_chunks(ntask, nchunks, [&](int chunk, int64_t b, int64_t e) {
    thread_local std::vector<float> pad, got;
    pad.resize(size_t(Cg * plane + slack));
    got.resize(size_t(rows * Wp * Kp));
    std::fill(pad.begin() + Cg * plane, pad.end(), 0.f);
    float* acc = partial + chunk * psize;
    for (int64_t t = b; t < e; ++t) {
      const int64_t g = t % p.groups, n = t / p.groups;
      pad_planes(in + (n * p.C + g * Cg) * p.H * p.W, Cg, p.H, p.W, p.pad_h, p.pad_w, pad.data());
      for (int64_t oh0 = 0; oh0 < p.OH; oh0 += rows) {
        const int64_t nr = std::min(rows, p.OH - oh0), npos = nr * Wp;
        for (int64_t h = 0; h < nr; ++h) {
          float* dst = got.data() + h * Wp * Kp;
          transpose_padded(gout + (n * p.K + g * Kg) * OHW + (oh0 + h) * p.OW, OHW, Kg, p.OW, dst, Kp);
          std::fill(dst + p.OW * Kp, dst + Wp * Kp, 0.f);
        }
        for (int64_t tap = 0; tap < RS; ++tap)
          gemm_rows(pad.data() + oh0 * Wp + off[size_t(tap)], plane, Cg, npos, got.data(), Kp, Kp,
                    acc + g * gsize + tap * Cg * Kp, Kp, true);
      }
    }
  });
  detail::parallel_range(p.K, p.K * Cg * RS * nchunks, [&](int64_t b, int64_t e) {
    for (int64_t kk = b; kk < e; ++kk) {
      const int64_t g = kk / Kg, k = kk % Kg;
      float* dst = gw + kk * Cg * RS;  // gw[kk][c][tap]
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t tap = 0; tap < RS; ++tap) {
          float sum = 0.f;
          for (int ch = 0; ch < nchunks; ++ch) sum += partial[size_t(ch * psize + g * gsize + (tap * Cg + c) * Kp + k)];
          dst[c * RS + tap] = sum;
        }
    }
  });
}

int64_t chunk_samples(const ConvParams& p) {
  const int64_t per = std::max<int64_t>(p.crs() * p.out_plane(), 1);
  return std::max<int64_t>(1, std::min<int64_t>(p.N, kColBudget / per));
}

template <typename T>
void forward_impl(T* out, const T* in, const T* w, const T* bias, const ConvParams& p) {
  const DType dt = dtype_of<T>::value;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), CRS = p.crs(), OHW = p.out_plane(), HW = p.in_plane();
  const bool direct = p.is_pointwise();
  if (!direct && detail::depthwise_applies(p, false)) {  // kernels/cpu/conv_depthwise.cpp
    detail::depthwise_forward(dt, out, in, w, bias, p);
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (use_taps<T>(p, false)) {
      forward_taps(out, in, w, bias, p);
      return;
    }
  }
  if (!direct && slab_tasks(p) >= 2 * pool_threads()) {
    forward_slabs(out, in, w, bias, p);
    return;
  }
  // Few tasks (small batch, small images): whole samples, each product cut over the pool (gemm).
  const int64_t nchunk = chunk_samples(p);
  T* col = direct ? nullptr : col_buffer<T>(size_t(std::min(nchunk, p.N)) * CRS * OHW);
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t n0 = 0; n0 < p.N; n0 += nchunk) {
      const int64_t nb = std::min(nchunk, p.N - n0);
      const T* B = in + n0 * p.C * HW + g * Cg * HW;
      int64_t ldb = HW, stride_b = p.C * HW;
      if (!direct) {
        im2col_chunk(in, col, p, n0, nb, g);
        B = col, ldb = OHW, stride_b = CRS * OHW;
      }
      gemm(dt, false, false, Kg, OHW, CRS, 1.0, w + g * Kg * CRS, CRS, 0, B, ldb, stride_b, 0.0,
           out + n0 * p.K * OHW + g * Kg * OHW, OHW, p.K * OHW, nb);
    }
  if (bias) {
    detail::parallel_range(p.N * p.K, p.N * p.K * OHW, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        T* o = out + t * OHW;
        const T v = bias[t % p.K];
#pragma omp simd
        for (int64_t i = 0; i < OHW; ++i) o[i] += v;
      }
    });
  }
}

template <typename T>
void backward_input_impl(T* gin, const T* gout, const T* w, const ConvParams& p) {
  const DType dt = dtype_of<T>::value;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), CRS = p.crs(), OHW = p.out_plane(), HW = p.in_plane();
  const int64_t nchunk = chunk_samples(p);
  const bool direct = p.is_pointwise();
  if (!direct && detail::depthwise_applies(p, true)) {
    detail::depthwise_backward_input(dt, gin, gout, w, p);
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (use_taps<T>(p, true)) {
      backward_input_taps(gin, gout, w, p);
      return;
    }
  }
  if (!direct && p.N * p.groups >= 2 * pool_threads()) {
    backward_input_slabs(gin, gout, w, p);
    return;
  }
  T* col = direct ? nullptr : col_buffer<T>(size_t(std::min(nchunk, p.N)) * CRS * OHW);
  const int64_t plane = p.taps() * OHW;
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t n0 = 0; n0 < p.N; n0 += nchunk) {
      const int64_t nb = std::min(nchunk, p.N - n0);
      const T* A = w + g * Kg * CRS;
      const T* B = gout + n0 * p.K * OHW + g * Kg * OHW;
      if (direct) {
        gemm(dt, true, false, CRS, OHW, Kg, 1.0, A, CRS, 0, B, OHW, p.K * OHW, 0.0, gin + n0 * p.C * HW + g * Cg * HW,
             HW, p.C * HW, nb);
        continue;
      }
      gemm(dt, true, false, CRS, OHW, Kg, 1.0, A, CRS, 0, B, OHW, p.K * OHW, 0.0, col, OHW, CRS * OHW, nb);
      detail::parallel_range(nb * Cg, nb * Cg * plane, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
          const int64_t i = t / Cg, c = t % Cg;
          T* plane_in = gin + ((n0 + i) * p.C + g * Cg + c) * HW;
          std::fill(plane_in, plane_in + HW, T(0));
          col2im_plane(col + t * plane, plane_in, p, 0, p.out_rows());
        }
      });
    }
}

template <typename T>
void backward_weight_impl(T* gw, T* gb, const T* gout, const T* in, const ConvParams& p) {
  const DType dt = dtype_of<T>::value;
  const int64_t Kg = p.Kg(), Cg = p.Cg(), CRS = p.crs(), OHW = p.out_plane(), HW = p.in_plane();
  const int64_t nchunk = chunk_samples(p);
  const bool direct = p.is_pointwise();
  if (!direct && detail::depthwise_applies(p, false)) {
    detail::depthwise_backward_weight(dt, gw, gout, in, p);
    if (gb) channel_sum(dt, gb, gout, p.N, p.K, OHW);
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (use_taps<T>(p, false) && p.Kg() >= 16 && all_finite(in, p.N * p.C * HW)) {
      backward_weight_taps(gw, gout, in, p);
      if (gb) channel_sum(dt, gb, gout, p.N, p.K, OHW);
      return;
    }
  }
  const bool slabs = !direct && slab_tasks(p) >= 2 * pool_threads();
  T* col = direct || slabs ? nullptr : col_buffer<T>(size_t(std::min(nchunk, p.N)) * CRS * OHW);
  if (p.N == 0 || OHW == 0) std::fill(gw, gw + p.K * CRS, T(0));
  if (slabs) backward_weight_slabs(gw, gout, in, p);
  for (int64_t g = 0; g < p.groups && !slabs; ++g)
    for (int64_t n0 = 0; n0 < p.N; n0 += nchunk) {
      const int64_t nb = std::min(nchunk, p.N - n0);
      if (!direct) im2col_chunk(in, col, p, n0, nb, g);
      for (int64_t i = 0; i < nb; ++i) {
        const T* B = direct ? in + (n0 + i) * p.C * HW + g * Cg * HW : col + i * CRS * OHW;
        gemm(dt, false, true, Kg, CRS, OHW, 1.0, gout + (n0 + i) * p.K * OHW + g * Kg * OHW, OHW, 0, B, OHW, 0,
             n0 + i == 0 ? 0.0 : 1.0, gw + g * Kg * CRS, CRS, 0, 1);
      }
    }
  if (gb) channel_sum(dt, gb, gout, p.N, p.K, OHW);
}

}  // namespace

void conv2d_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d", [&] {
    forward_impl(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), static_cast<const scalar_t*>(weight),
                 static_cast<const scalar_t*>(bias), p);
  });
}

void conv2d_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_input", [&] {
    backward_input_impl(static_cast<scalar_t*>(grad_in), static_cast<const scalar_t*>(grad_out),
                        static_cast<const scalar_t*>(weight), p);
  });
}

void conv2d_backward_weight(DType dt, void* grad_weight, void* grad_bias, const void* grad_out, const void* in,
                            const ConvParams& p) {
  LOOM_DISPATCH_FLOAT(dt, "conv2d_backward_weight", [&] {
    backward_weight_impl(static_cast<scalar_t*>(grad_weight), static_cast<scalar_t*>(grad_bias),
                         static_cast<const scalar_t*>(grad_out), static_cast<const scalar_t*>(in), p);
  });
}

}  // namespace loom::kernels::cpu
