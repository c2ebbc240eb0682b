// CTC loss (F.ctc_loss) on the GPU; CPU twin in kernels/cpu/ctc.cpp, the
// recursions in kernels/loss.h (CtcParams).
//   alpha   one block per sample: the threads stride over the extended labels
//           and step through time together (a __syncthreads per step), each
//           row of alpha [N, T, W] written to global memory, where backward
//           reads it; the previous row is read back from L1.
//   beta    the same, from the last time step down.
//   grad    one block per (t, n) row of dlog_probs [T, N, C]: the threads zero
//           the row, then each odd extended label that is the first of its
//           class in the target sums alpha + beta over the class's later
//           occurrences (log space) and writes its class; the blank's sum over
//           the even labels is a block reduction. Labels are read through L1:
//           a target is a few hundred bytes.
// A sample with a label outside [0, C) or equal to the blank sets the error
// flag and gets nll 0 and a zero gradient. Log-space sums in the input type.
#include "kernels/cuda/common.cuh"
#include "kernels/loss.h"

namespace loom::kernels::cuda {

namespace {

template <typename T>
__device__ __forceinline__ T log_add(T a, T b) {
  const T m = a > b ? a : b;
  if (m == T(-INFINITY)) return m;
  return m + log1p(exp(-fabs(a - b)));
}

template <typename T>
__device__ __forceinline__ T log_add3(T a, T b, T c) {
  T m = a > b ? a : b;
  m = m > c ? m : c;
  if (m == T(-INFINITY)) return m;
  return m + log(exp(a - m) + exp(b - m) + exp(c - m));
}

// The extended label s of a target tg of L labels.
__device__ __forceinline__ int64_t ext_label(const int64_t* tg, int64_t s, int64_t blank) {
  return (s & 1) ? tg[s >> 1] : blank;
}

// May a path reach extended label s from s - 2?
__device__ __forceinline__ bool ext_skip(const int64_t* tg, int64_t s) {
  return (s & 1) && s >= 3 && tg[s >> 1] != tg[(s >> 1) - 1];
}

// Whether every label of the sample is in [0, C) and not the blank; block-uniform.
__device__ bool labels_ok(const int64_t* tg, int64_t L, const CtcParams& p) {
  int bad = 0;
  for (int64_t k = threadIdx.x; k < L; k += blockDim.x) {
    const int64_t c = tg[k];
    bad |= c < 0 || c >= p.C || c == p.blank;
  }
  return !__syncthreads_or(bad);
}

template <typename T>
__global__ void ctc_alpha_kernel(T* __restrict__ nll, T* __restrict__ log_alpha, const T* __restrict__ lp,
                                 const int64_t* __restrict__ targets, const int64_t* __restrict__ lens, CtcParams p,
                                 int* error_flag) {
  const int64_t n = blockIdx.x, N = p.N, W = 2 * p.S + 1, TNC = p.N * p.C;
  const int64_t Tn = lens[n], L = lens[N + n], Sp = 2 * L + 1;
  const int64_t* tg = targets + lens[2 * N + n];
  if (!labels_ok(tg, L, p)) {
    if (threadIdx.x == 0) {
      atomicExch(error_flag, 1);
      nll[n] = T(0);
    }
    return;
  }
  if (Tn == 0) {
    if (threadIdx.x == 0) nll[n] = L == 0 ? T(0) : T(INFINITY);
    return;
  }
  T* a = log_alpha + n * p.T * W;
  for (int64_t s = threadIdx.x; s < Sp; s += blockDim.x)
    a[s] = s < 2 ? lp[n * p.C + ext_label(tg, s, p.blank)] : T(-INFINITY);
  for (int64_t t = 1; t < Tn; ++t) {
    __syncthreads();
    const T* prev = a + (t - 1) * W;
    T* cur = a + t * W;
    const T* lpt = lp + t * TNC + n * p.C;
    for (int64_t s = threadIdx.x; s < Sp; s += blockDim.x) {
      const T one = s >= 1 ? prev[s - 1] : T(-INFINITY);
      const T two = ext_skip(tg, s) ? prev[s - 2] : T(-INFINITY);
      cur[s] = log_add3(prev[s], one, two) + lpt[ext_label(tg, s, p.blank)];
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    const T* last = a + (Tn - 1) * W;
    nll[n] = -log_add(last[Sp - 1], Sp > 1 ? last[Sp - 2] : T(-INFINITY));
  }
}

template <typename T>
__global__ void ctc_beta_kernel(T* __restrict__ log_beta, const T* __restrict__ lp, const int64_t* __restrict__ targets,
                                const int64_t* __restrict__ lens, const T* __restrict__ nll, CtcParams p) {
  const int64_t n = blockIdx.x, N = p.N, W = 2 * p.S + 1, TNC = p.N * p.C;
  const int64_t Tn = lens[n], L = lens[N + n], Sp = 2 * L + 1;
  const int64_t* tg = targets + lens[2 * N + n];
  if (!labels_ok(tg, L, p) || Tn == 0 || (p.zero_infinity && isinf(nll[n]))) return;
  T* b = log_beta + n * p.T * W;
  {
    T* lastb = b + (Tn - 1) * W;
    const T* lpt = lp + (Tn - 1) * TNC + n * p.C;
    for (int64_t s = threadIdx.x; s < Sp; s += blockDim.x)
      lastb[s] = s >= Sp - 2 ? lpt[ext_label(tg, s, p.blank)] : T(-INFINITY);
  }
  for (int64_t t = Tn - 2; t >= 0; --t) {
    __syncthreads();
    const T* next = b + (t + 1) * W;
    T* cur = b + t * W;
    const T* lpt = lp + t * TNC + n * p.C;
    for (int64_t s = threadIdx.x; s < Sp; s += blockDim.x) {
      const T one = s + 1 < Sp ? next[s + 1] : T(-INFINITY);
      const T two = s + 2 < Sp && ext_skip(tg, s + 2) ? next[s + 2] : T(-INFINITY);
      cur[s] = log_add3(next[s], one, two) + lpt[ext_label(tg, s, p.blank)];
    }
  }
}

template <typename T>
__global__ void ctc_grad_kernel(T* __restrict__ dlp, const T* __restrict__ grad, const T* __restrict__ lp,
                                const int64_t* __restrict__ targets, const int64_t* __restrict__ lens,
                                const T* __restrict__ nll, const T* __restrict__ log_alpha,
                                const T* __restrict__ log_beta, CtcParams p) {
  const int64_t row = blockIdx.x, t = row / p.N, n = row % p.N, N = p.N, W = 2 * p.S + 1;
  const int64_t Tn = lens[n], L = lens[N + n], Sp = 2 * L + 1;
  const int64_t* tg = targets + lens[2 * N + n];
  T* dr = dlp + row * p.C;
  const T* lpr = lp + row * p.C;
  for (int64_t c = threadIdx.x; c < p.C; c += blockDim.x) dr[c] = T(0);
  const T loss = nll[n];
  if (!labels_ok(tg, L, p) || t >= Tn || (p.zero_infinity && isinf(loss))) return;  // synchronizes the zeros
  const T g = grad[n];
  const T* at = log_alpha + (n * p.T + t) * W;
  const T* bt = log_beta + (n * p.T + t) * W;
  // The labels: each class once, at its first occurrence in the target.
  for (int64_t k = threadIdx.x; k < L; k += blockDim.x) {
    const int64_t c = tg[k];
    bool first = true;
    for (int64_t j = 0; j < k && first; ++j) first = tg[j] != c;
    if (!first) continue;
    T v = T(-INFINITY);
    for (int64_t j = k; j < L; ++j)
      if (tg[j] == c) v = log_add(v, at[2 * j + 1] + bt[2 * j + 1]);
    if (v != T(-INFINITY)) dr[c] = -g * exp(v + loss - lpr[c]);
  }
  // The blank: a log-sum-exp over the even extended labels.
  T m = T(-INFINITY);
  for (int64_t s = 2 * threadIdx.x; s < Sp; s += 2 * blockDim.x) m = fmax(m, at[s] + bt[s]);
  m = block_reduce(m, MaxOp(), T(-INFINITY));
  T sum = 0;
  if (m != T(-INFINITY))
    for (int64_t s = 2 * threadIdx.x; s < Sp; s += 2 * blockDim.x) sum += exp(at[s] + bt[s] - m);
  sum = block_reduce(sum, SumOp(), T(0));
  if (threadIdx.x == 0 && m != T(-INFINITY)) dr[p.blank] = -g * exp(m + log(sum) + loss - lpr[p.blank]);
}

// Threads per block of the recursions: the extended labels, rounded up to warps.
int label_threads(int64_t W) {
  const int64_t w = (W + 31) / 32 * 32;
  return static_cast<int>(w < 32 ? 32 : (w > 256 ? 256 : w));
}

}  // namespace

void ctc_loss_forward(DType dt, void* nll, void* log_alpha, const void* log_probs, const int64_t* targets,
                      const int64_t* lens, const CtcParams& p, int* error_flag, cudaStream_t stream) {
  if (p.N <= 0) return;
  LOOM_CHECK(p.N <= INT32_MAX, "ctc_loss: too many samples (", p.N, ")");
  LOOM_DISPATCH_FLOAT(dt, "ctc_loss", [&] {
    using T = scalar_t;
    ctc_alpha_kernel<T><<<static_cast<unsigned>(p.N), label_threads(p.width()), 0, stream>>>(
        static_cast<T*>(nll), static_cast<T*>(log_alpha), static_cast<const T*>(log_probs), targets, lens, p,
        error_flag);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void ctc_loss_backward(DType dt, void* dlog_probs, void* log_beta, const void* grad, const void* log_probs,
                       const int64_t* targets, const int64_t* lens, const void* nll, const void* log_alpha,
                       const CtcParams& p, cudaStream_t stream) {
  if (p.N <= 0 || p.T <= 0 || p.C <= 0) return;
  LOOM_CHECK(p.T * p.N <= INT32_MAX, "ctc_loss_backward: too many rows (", p.T * p.N, ")");
  LOOM_DISPATCH_FLOAT(dt, "ctc_loss_backward", [&] {
    using T = scalar_t;
    ctc_beta_kernel<T><<<static_cast<unsigned>(p.N), label_threads(p.width()), 0, stream>>>(
        static_cast<T*>(log_beta), static_cast<const T*>(log_probs), targets, lens, static_cast<const T*>(nll), p);
    LOOM_CUDA_KERNEL_CHECK();
    const int threads = p.C > 256 || p.width() > 256 ? 256 : 64;
    ctc_grad_kernel<T><<<static_cast<unsigned>(p.T * p.N), threads, 0, stream>>>(
        static_cast<T*>(dlog_probs), static_cast<const T*>(grad), static_cast<const T*>(log_probs), targets, lens,
        static_cast<const T*>(nll), static_cast<const T*>(log_alpha), static_cast<const T*>(log_beta), p);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
