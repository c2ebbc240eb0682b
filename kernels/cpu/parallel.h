// Helpers shared by the CPU kernel files (not part of the kernel API):
// splitting a range over the pool's threads (kernels/cpu/thread_pool.h), and walking an N-d iteration space
// as runs of its innermost dim so that kernels keep a tight inner loop.
#pragma once
#include <algorithm>
#include <cstdint>
#include "kernels/cpu/thread_pool.h"
#include "kernels/loops.h"

namespace loom::kernels::cpu::detail {

// Below this many elements of work, threads cost more than they save.
constexpr int64_t kParallelMin = 32768;

// How many chunks to split n items into: one per thread when the total work
// is large, one (run inline) otherwise or when already inside a parallel region.
inline int num_chunks(int64_t n, int64_t work) {
  if (work < kParallelMin || n < 2 || in_parallel_region()) return 1;
  return static_cast<int>(std::min<int64_t>(n, pool_threads()));
}

// f(chunk, begin, end) over [0, n) cut into `nchunks` contiguous pieces.
// Kernels validate before they get here; an exception thrown by f anyway is
// rethrown on the calling thread once every chunk has finished.
template <typename F>
void parallel_chunks(int64_t n, int nchunks, F&& f) {
  if (n <= 0) return;
  if (nchunks <= 1) {
    f(0, int64_t(0), n);
    return;
  }
  parallel_run(nchunks, [&](int c) {
    int64_t b = n / nchunks * c + std::min<int64_t>(c, n % nchunks);
    int64_t e = b + n / nchunks + (c < n % nchunks ? 1 : 0);
    if (b < e) f(c, b, e);
  });
}

template <typename F>
void parallel_range(int64_t n, int64_t work, F&& f) {
  parallel_chunks(n, num_chunks(n, work), [&](int, int64_t b, int64_t e) { f(b, e); });
}

// Calls row(off, n, pos) for the runs of the innermost dim that cover the
// linear (row-major) positions [begin, end) of an iteration space; off[k] is
// operand k's element offset at the start of the run and pos its position.
template <int NOPS, typename Row>
void walk(int ndim, const int64_t* sizes, const int64_t (*strides)[kMaxDims], int64_t begin, int64_t end, Row&& row) {
  if (begin >= end) return;
  const int last = ndim - 1;
  int64_t idx[kMaxDims];
  int64_t off[NOPS > 0 ? NOPS : 1] = {0};
  int64_t rem = begin;
  for (int d = last; d >= 0; --d) {
    idx[d] = rem % sizes[d];
    rem /= sizes[d];
    for (int k = 0; k < NOPS; ++k) off[k] += idx[d] * strides[k][d];
  }
  const int64_t inner = sizes[last];
  for (int64_t pos = begin; pos < end;) {
    const int64_t n = std::min(inner - idx[last], end - pos);
    row(static_cast<const int64_t*>(off), n, pos);
    pos += n;
    if (pos >= end) break;
    // The run ended at the end of the innermost dim: carry into outer dims.
    for (int k = 0; k < NOPS; ++k) off[k] -= idx[last] * strides[k][last];
    idx[last] = 0;
    for (int d = last - 1; d >= 0; --d) {
      for (int k = 0; k < NOPS; ++k) off[k] += strides[k][d];
      if (++idx[d] < sizes[d]) break;
      for (int k = 0; k < NOPS; ++k) off[k] -= sizes[d] * strides[k][d];
      idx[d] = 0;
    }
  }
}

// walk over every element of an ElementwiseLoop, in parallel chunks when large.
template <int NOPS, typename Row>
void for_each_row(const ElementwiseLoop& L, Row&& row) {
  parallel_range(L.numel, L.numel, [&](int64_t b, int64_t e) { walk<NOPS>(L.ndim, L.sizes, L.strides, b, e, row); });
}

}  // namespace loom::kernels::cpu::detail
