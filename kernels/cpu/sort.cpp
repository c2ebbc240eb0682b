// CPU scans and sorts (kernels/sort.h), the twins of kernels/cuda/sort.cu.
// Scans walk each line in order. With inner > 1 they keep a row of running
// values for a block of columns, so the loop over columns is the inner one
// (contiguous, vectorized for Sum and Prod); float32 sums and products run
// in double. Sorts turn values into order-preserving unsigned keys and sort
// (key, index) items: a stable byte-wise radix sort for lines longer than 64,
// std::sort with the index as tie-break below (the same order), partial_sort
// for a topk of few; lines are split over the pool's threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>
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

// a + b and a * b; integers wrap (two's complement) instead of overflowing.
template <bool kProd, typename A>
A combine(A a, A b) {
  if constexpr (std::is_integral_v<A>) {
    using U = std::make_unsigned_t<A>;
    return static_cast<A>(kProd ? static_cast<U>(a) * static_cast<U>(b) : static_cast<U>(a) + static_cast<U>(b));
  } else {
    return kProd ? a * b : a + b;
  }
}

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

// Lines of inner == 1: one running value per line, lines split over the pool.
template <typename F>
void for_lines(Lines s, F&& line) {
  detail::parallel_range(s.outer, s.numel(), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) line(o * s.n);
  });
}

// log(exp(a) + exp(b)) without overflow: -inf is the identity, +inf absorbs, NaN propagates.
template <typename A>
A log_add_exp(A a, A b) {
  if (a != a || b != b) return a + b;
  const A m = a > b ? a : b, d = a > b ? b - a : a - b;  // d <= 0
  if (std::isinf(m)) return m;
  return m + std::log1p(std::exp(d));
}

// The running value acc = comb(acc, x[k]) from `init` along every line
// (from its end when reverse), accumulated in acc_t<T>.
template <typename T, typename Comb>
void running_scan(T* out, const T* in, Lines s, bool reverse, acc_t<T> init, Comb comb) {
  using A = acc_t<T>;
  const int64_t n = s.n, inner = s.inner;
  if (inner == 1) {
    for_lines(s, [&](int64_t base) {
      A acc = init;
      for (int64_t step = 0; step < n; ++step) {
        const int64_t k = base + (reverse ? n - 1 - step : step);
        acc = comb(acc, A(in[k]));
        out[k] = static_cast<T>(acc);
      }
    });
    return;
  }
  for_column_blocks(s, [&](int64_t o, int64_t i0, int64_t i1) {
    A acc[kColumns];
    const int64_t w = i1 - i0;
    for (int64_t i = 0; i < w; ++i) acc[i] = init;
    for (int64_t step = 0; step < n; ++step) {
      const int64_t k = reverse ? n - 1 - step : step;
      const T* x = in + (o * n + k) * inner + i0;
      T* y = out + (o * n + k) * inner + i0;
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) {
        acc[i] = comb(acc[i], A(x[i]));
        y[i] = static_cast<T>(acc[i]);
      }
    }
  });
}

template <typename T, bool kProd>
void sum_prod(T* out, const T* in, Lines s, bool reverse) {
  using A = acc_t<T>;
  running_scan(out, in, s, reverse, kProd ? A(1) : A(0), [](A a, A b) { return combine<kProd>(a, b); });
}

template <typename T, bool kMax>
void running_extreme(T* out, int64_t* indices, const T* in, Lines s) {
  const int64_t n = s.n, inner = s.inner;
  if (inner == 1) {
    for_lines(s, [&](int64_t base) {
      T best = in[base];
      int64_t where = 0;
      for (int64_t k = 0; k < n; ++k) {
        const T v = in[base + k];
        if (is_nan(v) || (!is_nan(best) && (kMax ? v >= best : v <= best))) {
          best = v;
          where = k;
        }
        out[base + k] = best;
        indices[base + k] = where;
      }
    });
    return;
  }
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

// Order-preserving unsigned keys: the sort order is the keys' ascending
// order (NaN after +inf, -0 equal to +0); descending flips every bit (NaN
// first). Ties between equal keys are broken by the index.
template <typename T>
using key_t = std::conditional_t<(sizeof(T) <= 4), uint32_t, uint64_t>;

template <typename T>
key_t<T> sort_key(T v, bool descending) {
  using K = key_t<T>;
  constexpr K top = K(1) << (8 * sizeof(K) - 1);
  K u;
  if constexpr (std::is_same_v<T, bool>) {
    u = v ? 1 : 0;
  } else if constexpr (std::is_integral_v<T>) {
    u = static_cast<K>(static_cast<std::make_unsigned_t<T>>(v)) ^ (K(1) << (8 * sizeof(T) - 1));
  } else if (std::isnan(v)) {
    u = ~K(0);
  } else {
    if (v == 0) v = 0;  // -0 sorts as +0
    std::memcpy(&u, &v, sizeof(u));
    u = (u & top) ? ~u : (u | top);
  }
  return descending ? ~u : u;
}

template <typename K>
struct Item {
  K key;
  int64_t index;
};

template <typename K>
bool item_before(const Item<K>& a, const Item<K>& b) {
  return a.key < b.key || (a.key == b.key && a.index < b.index);
}

// Stable LSD radix sort of items by key, one byte per pass (passes whose
// byte is the same in every key are skipped); tmp has items.size() slots.
template <typename K>
void radix_sort(std::vector<Item<K>>& items, std::vector<Item<K>>& tmp) {
  const size_t n = items.size();
  Item<K>* src = items.data();
  Item<K>* dst = tmp.data();
  for (unsigned shift = 0; shift < 8 * sizeof(K); shift += 8) {
    size_t count[257] = {0};
    for (size_t i = 0; i < n; ++i) ++count[((src[i].key >> shift) & 0xff) + 1];
    if (count[((src[0].key >> shift) & 0xff) + 1] == n) continue;  // one bucket: nothing moves
    for (int b = 0; b < 256; ++b) count[b + 1] += count[b];
    for (size_t i = 0; i < n; ++i) dst[count[(src[i].key >> shift) & 0xff]++] = src[i];
    std::swap(src, dst);
  }
  if (src != items.data()) std::copy(src, src + n, items.data());
}

// Sorts each line's first k positions (k == n: all of it) and writes them:
// short lines with std::sort, long ones by radix, a few of many by partial_sort.
template <typename T>
void sort_lines(T* values, int64_t* indices, const T* in, Lines s, int64_t k, bool descending) {
  using K = key_t<T>;
  const int64_t n = s.n;
  detail::parallel_range(s.outer, s.outer * n * 8, [&](int64_t b, int64_t e) {
    std::vector<Item<K>> line(static_cast<size_t>(n)), tmp;
    for (int64_t o = b; o < e; ++o) {
      const T* x = in + o * n;
      for (int64_t j = 0; j < n; ++j) line[j] = {sort_key(x[j], descending), j};
      if (k * 16 <= n) {
        std::partial_sort(line.begin(), line.begin() + k, line.end(), item_before<K>);
      } else if (n <= 64) {
        std::sort(line.begin(), line.end(), item_before<K>);
      } else {
        tmp.resize(static_cast<size_t>(n));
        radix_sort(line, tmp);
      }
      for (int64_t j = 0; j < k; ++j) {
        values[o * k + j] = x[line[j].index];
        indices[o * k + j] = line[j].index;
      }
    }
  });
}

// The insertion point of v in b[0, n) is the number of leading boundaries that v goes past (b[i] >= v false;
// right: b[i] > v false), found by a branch-free binary search that halves the candidate range
// [base, base + len] each step; the CUDA twin runs the same steps for one value per thread.
// That search for cnt <= 16 values at once against one row: the steps depend only on n, so the values
// advance together and their loads overlap instead of each search waiting on its own chain of loads.
template <typename T, bool kRight>
inline void search_block(int64_t* out, const T* b, int64_t n, const T* v, int cnt) {
  int64_t off[16] = {};
  int64_t len = n;
  while (len > 1) {
    const int64_t half = len / 2;
    for (int j = 0; j < cnt; ++j) {
      const T x = b[off[j] + half - 1];
      off[j] += (kRight ? !(x > v[j]) : !(x >= v[j])) ? half : 0;
    }
    len -= half;
  }
  for (int j = 0; j < cnt; ++j) {
    const T x = b[off[j]];
    out[j] = off[j] + ((kRight ? !(x > v[j]) : !(x >= v[j])) ? 1 : 0);
  }
}

template <typename T, bool kRight>
void search_rows(int64_t* out, const T* b, const T* v, int64_t rows, int64_t n, int64_t m, bool shared) {
  int64_t depth = 1;
  while ((int64_t(1) << depth) <= n) ++depth;
  detail::parallel_range(rows * m, rows * m * depth, [&](int64_t s, int64_t e) {
    if (n == 0) {
      std::fill(out + s, out + e, int64_t(0));
      return;
    }
    for (int64_t k = s; k < e;) {
      const int64_t r = k / m, stop = std::min(e, (r + 1) * m);  // the values of this row in the chunk
      const T* row = shared ? b : b + r * n;
      for (; k < stop; k += 16) {
        const int cnt = static_cast<int>(std::min<int64_t>(16, stop - k));
        search_block<T, kRight>(out + k, row, n, v + k, cnt);
      }
      k = stop;
    }
  });
}

}  // namespace

void scan(ScanOp op, DType dt, void* out, int64_t* indices, const void* in, Lines s, bool reverse) {
  if (s.numel() == 0) return;
  LOOM_CHECK(!reverse || op == ScanOp::Sum || op == ScanOp::LogSumExp,
             "scan: reverse is only implemented for Sum and LogSumExp");
  switch (op) {
    case ScanOp::LogSumExp:
      LOOM_DISPATCH_FLOAT(dt, "scan", [&] {
        using A = acc_t<scalar_t>;
        running_scan(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), s, reverse,
                     -std::numeric_limits<A>::infinity(), [](A a, A b) { return log_add_exp(a, b); });
      });
      break;
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

void searchsorted(DType dt, int64_t* out, const void* boundaries, const void* values, int64_t rows, int64_t n,
                  int64_t m, bool shared, bool right) {
  if (rows == 0 || m == 0) return;
  LOOM_DISPATCH_NUMERIC(dt, "searchsorted", [&] {
    const auto* b = static_cast<const scalar_t*>(boundaries);
    const auto* v = static_cast<const scalar_t*>(values);
    if (right) search_rows<scalar_t, true>(out, b, v, rows, n, m, shared);
    else search_rows<scalar_t, false>(out, b, v, rows, n, m, shared);
  });
}

}  // namespace loom::kernels::cpu
