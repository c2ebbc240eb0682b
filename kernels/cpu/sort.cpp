// CPU scans and sorts (kernels/sort.h), the twins of kernels/cuda/sort.cu.
// Scans walk each line in order. With inner > 1 they keep a row of running
// values for a block of columns, so the loop over columns is the inner one
// (contiguous, vectorized for Sum and Prod); float32 sums and products run
// in double. Sorts order (value, index) pairs with std::sort: the index
// breaks ties, which makes the result that of a stable sort. Lines are split
// over the pool's threads.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/parallel.h"
#include "kernels/sort.h"

namespace loom::kernels::cpu {
namespace {

constexpr int64_t kColumns = 256;  // columns of one scan task (a row of accumulators on the stack)

template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

template <typename T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, T>;

// Runs task(o, i0, i1) over every line and block of columns, in parallel.
template <typename F>
void for_column_blocks(Lines s, F&& task) {
  const int64_t blocks = (s.inner + kColumns - 1) / kColumns;
  detail::parallel_range(s.outer * blocks, s.numel(), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / blocks, i0 = (t % blocks) * kColumns;
      task(o, i0, std::min(s.inner, i0 + kColumns));
    }
  });
}

template <typename T, bool kProd>
void sum_prod(T* out, const T* in, Lines s, bool reverse) {
  using A = acc_t<T>;
  const int64_t n = s.n, inner = s.inner;
  for_column_blocks(s, [&](int64_t o, int64_t i0, int64_t i1) {
    A acc[kColumns];
    const int64_t w = i1 - i0;
    for (int64_t i = 0; i < w; ++i) acc[i] = kProd ? A(1) : A(0);
    for (int64_t step = 0; step < n; ++step) {
      const int64_t k = reverse ? n - 1 - step : step;
      const T* x = in + (o * n + k) * inner + i0;
      T* y = out + (o * n + k) * inner + i0;
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) {
        acc[i] = kProd ? acc[i] * A(x[i]) : acc[i] + A(x[i]);
        y[i] = static_cast<T>(acc[i]);
      }
    }
  });
}

template <typename T, bool kMax>
void running_extreme(T* out, int64_t* indices, const T* in, Lines s) {
  const int64_t n = s.n, inner = s.inner;
  for_column_blocks(s, [&](int64_t o, int64_t i0, int64_t i1) {
    T best[kColumns];
    int64_t where[kColumns];
    const int64_t w = i1 - i0;
    for (int64_t k = 0; k < n; ++k) {
      const T* x = in + (o * n + k) * inner + i0;
      T* y = out + (o * n + k) * inner + i0;
      int64_t* yi = indices + (o * n + k) * inner + i0;
      for (int64_t i = 0; i < w; ++i) {
        const T v = x[i];
        if (k == 0 || is_nan(v) || (!is_nan(best[i]) && (kMax ? v >= best[i] : v <= best[i]))) {
          best[i] = v;
          where[i] = k;
        }
        y[i] = best[i];
        yi[i] = where[i];
      }
    }
  });
}

template <typename T>
void cumprod_grad(T* gx, const T* g, const T* x, Lines s) {
  using A = acc_t<T>;
  const int64_t n = s.n, inner = s.inner;
  for_column_blocks(s, [&](int64_t o, int64_t i0, int64_t i1) {
    A row[kColumns];
    const int64_t w = i1 - i0;
    const int64_t base = o * n * inner + i0;
    // Pass 1: the exclusive products, written into gx.
    for (int64_t i = 0; i < w; ++i) row[i] = A(1);
    for (int64_t k = 0; k < n; ++k) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) {
        gx[base + k * inner + i] = static_cast<T>(row[i]);
        row[i] *= A(x[base + k * inner + i]);
      }
    }
    // Pass 2: S[k] = g[k] + x[k + 1] * S[k + 1], from the end.
    for (int64_t i = 0; i < w; ++i) row[i] = A(0);
    for (int64_t k = n - 1; k >= 0; --k) {
      const int64_t at = base + k * inner;
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) {
        const A next = k + 1 < n ? A(x[at + inner + i]) : A(0);
        row[i] = A(g[at + i]) + next * row[i];
        gx[at + i] = static_cast<T>(A(gx[at + i]) * row[i]);
      }
    }
  });
}

// a strictly before b in an ascending (NaN last) or descending (NaN first) order.
template <typename T>
struct Before {
  bool descending;
  bool operator()(const std::pair<T, int64_t>& a, const std::pair<T, int64_t>& b) const {
    const bool an = is_nan(a.first), bn = is_nan(b.first);
    if (an || bn) {
      if (an && bn) return a.second < b.second;
      return descending ? an : bn;
    }
    if (a.first != b.first) return descending ? a.first > b.first : a.first < b.first;
    return a.second < b.second;
  }
};

// Sorts each line's first k positions (k == n: all of it) and writes them.
template <typename T>
void sort_lines(T* values, int64_t* indices, const T* in, Lines s, int64_t k, bool descending) {
  const int64_t n = s.n;
  detail::parallel_range(s.outer, s.outer * n * 8, [&](int64_t b, int64_t e) {
    std::vector<std::pair<T, int64_t>> line(static_cast<size_t>(n));
    const Before<T> before{descending};
    for (int64_t o = b; o < e; ++o) {
      const T* x = in + o * n;
      for (int64_t j = 0; j < n; ++j) line[j] = {x[j], j};
      if (k == n) std::sort(line.begin(), line.end(), before);
      else std::partial_sort(line.begin(), line.begin() + k, line.end(), before);
      for (int64_t j = 0; j < k; ++j) {
        values[o * k + j] = line[j].first;
        indices[o * k + j] = line[j].second;
      }
    }
  });
}

}  // namespace

void scan(ScanOp op, DType dt, void* out, int64_t* indices, const void* in, Lines s, bool reverse) {
  if (s.numel() == 0) return;
  LOOM_CHECK(!reverse || op == ScanOp::Sum, "scan: reverse is only implemented for Sum");
  switch (op) {
    case ScanOp::Sum:
    case ScanOp::Prod:
      LOOM_CHECK_TYPE(dt == DType::Int64 || is_floating(dt), "scan: Sum and Prod take int64 or floating, got ",
                      dtype_name(dt));
      LOOM_DISPATCH_NUMERIC(dt, "scan", [&] {
        auto* y = static_cast<scalar_t*>(out);
        const auto* x = static_cast<const scalar_t*>(in);
        if (op == ScanOp::Sum) sum_prod<scalar_t, false>(y, x, s, reverse);
        else sum_prod<scalar_t, true>(y, x, s, reverse);
      });
      break;
    case ScanOp::Max:
    case ScanOp::Min:
      LOOM_DISPATCH_NUMERIC(dt, "scan", [&] {
        auto* y = static_cast<scalar_t*>(out);
        const auto* x = static_cast<const scalar_t*>(in);
        if (op == ScanOp::Max) running_extreme<scalar_t, true>(y, indices, x, s);
        else running_extreme<scalar_t, false>(y, indices, x, s);
      });
      break;
  }
}

void cumprod_backward(DType dt, void* gx, const void* g, const void* x, Lines s) {
  if (s.numel() == 0) return;
  LOOM_DISPATCH_FLOAT(dt, "cumprod_backward", [&] {
    cumprod_grad(static_cast<scalar_t*>(gx), static_cast<const scalar_t*>(g), static_cast<const scalar_t*>(x), s);
  });
}

void sort(DType dt, void* values, int64_t* indices, const void* in, Lines s, bool descending) {
  if (s.numel() == 0) return;
  LOOM_CHECK(s.inner == 1, "sort: the kernel sorts lines of inner size 1, got inner ", s.inner);
  LOOM_DISPATCH_ALL(dt, "sort", [&] {
    sort_lines(static_cast<scalar_t*>(values), indices, static_cast<const scalar_t*>(in), s, s.n, descending);
  });
}

void topk(DType dt, void* values, int64_t* indices, const void* in, Lines s, int64_t k, bool largest) {
  if (s.outer == 0 || k == 0) return;
  LOOM_CHECK(s.inner == 1 && k >= 0 && k <= s.n, "topk: k ", k, " out of range for lines of ", s.n, " (inner ", s.inner,
             ")");
  LOOM_DISPATCH_ALL(dt, "topk", [&] {
    sort_lines(static_cast<scalar_t*>(values), indices, static_cast<const scalar_t*>(in), s, k, largest);
  });
}

}  // namespace loom::kernels::cpu
