// Indexing kernels: index_select, gather, scatter_add, scatter_reduce, nonzero_flat, and the row writes
// index_add / index_copy / index_fill.
//   index_select: out[o, j, i] = in[o, index[j], i] on contiguous
//                 [outer, in_dim, inner] -> [outer, n_index, inner]
//   index_add:    self[o, index[j], i] += alpha * src[o, j, i] (index_copy: =, index_fill: = value)
//   gather:       out[p] = in[p with its dim coordinate replaced by index[p]]
//   scatter_add:  self[p with its dim coordinate replaced by index[p]] += src[p]
//   scatter_reduce: the same with sum, prod, mean (sum and count), amax or amin
// A valid index lies in [0, size) (PyTorch rejects negative indices for these
// ops). Kernels do not throw on a bad index: they return the first bad
// position (>= 0) and the front end raises IndexError. index_select and
// scatter_add validate first and then write nothing on a bad index, so an
// in-place scatter_add_ leaves self untouched; gather writes 0 where the index
// is bad (as the CUDA kernel does) and reports the first such position.
// scatter_add and scatter_reduce: several positions may hit the same element,
// so each target's updates run in order (race-free, deterministic); the
// positions are split over the threads where no two can name one element
// (scatter_parts), giving the serial result.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <cstring>
#include <type_traits>
#include <vector>
#include "core/error.h"
#include "kernels/index.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/thread_pool.h"

namespace loom::kernels::cpu {
namespace {

inline bool bad(int64_t i, int64_t size) { return i < 0 || i >= size; }

template <typename T>
int64_t gather_impl(T* out, const T* in, const int64_t* index, const ElementwiseLoop& L, int64_t dim_stride,
                    int64_t dim_size) {
  const int nchunks = detail::num_chunks(L.numel, L.numel);
  std::vector<int64_t> first_bad(std::max(nchunks, 1), -1);
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], si = L.strides[1][d], sx = L.strides[2][d];
  detail::parallel_chunks(L.numel, nchunks, [&](int c, int64_t b, int64_t e) {
    detail::walk<3>(L.ndim, L.sizes, L.strides, b, e, [&](const int64_t* off, int64_t n, int64_t pos) {
      T* o = out + off[0];
      const T* x = in + off[1];
      const int64_t* ix = index + off[2];
      for (int64_t i = 0; i < n; ++i) {
        const int64_t j = ix[i * sx];
        if (bad(j, dim_size)) {
          o[i * so] = T(0);
          if (first_bad[c] < 0) first_bad[c] = pos + i;
        } else {
          o[i * so] = x[i * si + j * dim_stride];
        }
      }
    });
  });
  for (int64_t p : first_bad)
    if (p >= 0) return p;  // chunks are in order: the first one found is the first overall
  return -1;
}

// Splits a scatter over the threads where no two of them can name one
// element of operand 0 (self: stride 0 along dim, otherwise not overlapping
// itself). When the loop's innermost runs go along dim (self's innermost
// stride is 0), different runs never share a target: whole runs go to the
// threads. Otherwise each position of a run names a different target from
// every other position of the run, in every run: each thread takes a range
// of run positions, over all runs. part(each) runs on each thread; each(row)
// calls row(off, i0, i1) for the thread's elements [i0, i1) of its runs (off:
// the operands' offsets at a run's start), in order, so each target's
// updates keep their serial order.
template <typename Part>
void scatter_parts(const ElementwiseLoop& L, Part&& part) {
  const int last = L.ndim - 1;
  const int64_t inner = L.sizes[last];
  if (L.strides[0][last] == 0) {
    detail::parallel_range(L.numel / inner, L.numel, [&](int64_t b, int64_t e) {
      part([&](auto&& row) {
        detail::walk<3>(L.ndim, L.sizes, L.strides, b * inner, e * inner,
                        [&](const int64_t* off, int64_t n, int64_t) { row(off, int64_t(0), n); });
      });
    });
  } else {
    detail::parallel_range(inner, L.numel, [&](int64_t i0, int64_t i1) {
      part([&](auto&& row) {
        detail::walk<3>(L.ndim, L.sizes, L.strides, 0, L.numel,
                        [&](const int64_t* off, int64_t, int64_t) { row(off, i0, i1); });
      });
    });
  }
}

// The first position whose index lies outside [0, dim_size), or -1.
int64_t first_bad_index(const int64_t* index, const ElementwiseLoop& L, int64_t dim_size) {
  const int64_t sx = L.strides[2][L.ndim - 1];
  int64_t first_bad = -1;
  detail::walk<3>(L.ndim, L.sizes, L.strides, 0, L.numel, [&](const int64_t* off, int64_t n, int64_t pos) {
    const int64_t* ix = index + off[2];
    for (int64_t i = 0; i < n && first_bad < 0; ++i)
      if (bad(ix[i * sx], dim_size)) first_bad = pos + i;
  });
  return first_bad;
}

template <typename T>
int64_t scatter_add_impl(T* self, const T* src, const int64_t* index, const ElementwiseLoop& L, int64_t dim_stride,
                         int64_t dim_size) {
  const int d = L.ndim - 1;
  const int64_t ss = L.strides[0][d], sr = L.strides[1][d], sx = L.strides[2][d];
  const int64_t first_bad = first_bad_index(index, L, dim_size);
  if (first_bad >= 0) return first_bad;
  scatter_parts(L, [&](auto&& each) {
    each([&](const int64_t* off, int64_t i0, int64_t i1) {
      T* s = self + off[0];
      const T* r = src + off[1];
      const int64_t* ix = index + off[2];
      for (int64_t i = i0; i < i1; ++i) {
        T& dst = s[i * ss + ix[i * sx] * dim_stride];
        if constexpr (std::is_same_v<T, bool>) dst = dst || r[i * sr];
        else dst += r[i * sr];
      }
    });
  });
  return -1;
}

// op(dst, v) for the reductions; bool: sum or, prod and; max or, min and.
template <typename T, ScatterReduce op>
inline T reduce_step(T dst, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return op == ScatterReduce::Prod || op == ScatterReduce::Amin ? (dst && v) : (dst || v);
  } else if constexpr (op == ScatterReduce::Sum || op == ScatterReduce::Mean) {
    return dst + v;
  } else if constexpr (op == ScatterReduce::Prod) {
    return dst * v;
  } else {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(v)) return v;
    // A NaN already in dst stays: both comparisons are false for it.
    if constexpr (op == ScatterReduce::Amax) return dst < v ? v : dst;
    else return v < dst ? v : dst;
  }
}

template <typename T, ScatterReduce op>
void scatter_reduce_impl(T* self, T* count, const T* src, const int64_t* index, const ElementwiseLoop& L,
                         int64_t dim_stride, bool include_self) {
  const int d = L.ndim - 1;
  const int64_t ss = L.strides[0][d], sr = L.strides[1][d], sx = L.strides[2][d];
  // Each thread first resets, then reduces, the elements only its share names.
  scatter_parts(L, [&](auto&& each) {
    if (!include_self) {
      const T init = scatter_identity<T>(op);
      each([&](const int64_t* off, int64_t i0, int64_t i1) {
        T* s = self + off[0];
        const int64_t* ix = index + off[2];
        for (int64_t i = i0; i < i1; ++i) s[i * ss + ix[i * sx] * dim_stride] = init;
      });
    }
    each([&](const int64_t* off, int64_t i0, int64_t i1) {
      const int64_t base = off[0];
      const T* r = src + off[1];
      const int64_t* ix = index + off[2];
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t at = base + i * ss + ix[i * sx] * dim_stride;
        self[at] = reduce_step<T, op>(self[at], r[i * sr]);
        if constexpr (op == ScatterReduce::Mean) count[at] += T(1);
      }
    });
  });
}

// index_select's rows of at most 8 elements (inner == 1: a gather along the last dim, flip's case) as typed
// copies of U (the element's bytes), the positions walked without a division per row.
template <typename U>
void select_short_rows(U* dst, const U* src, const int64_t* index, int64_t n_index, int64_t outer, int64_t in_dim,
                       int64_t inner) {
  detail::parallel_range(outer * n_index, outer * n_index * inner, [&](int64_t b, int64_t e) {
    int64_t o = b / n_index, j = b % n_index;
    for (int64_t r = b; r < e;) {
      const int64_t j1 = std::min(n_index, j + (e - r));
      const U* s = src + o * in_dim * inner;
      U* d = dst + r * inner;
      if (inner == 1) {
        for (int64_t k = j; k < j1; ++k) d[k - j] = s[index[k]];
      } else {
        for (int64_t k = j; k < j1; ++k)
          for (int64_t i = 0; i < inner; ++i) d[(k - j) * inner + i] = s[index[k] * inner + i];
      }
      r += j1 - j;
      j = 0;
      ++o;
    }
  });
}

// The row writes: self [outer, self_dim, inner] gets source rows [outer, n_index, inner] (or a value) at
// index. Work is split over (outer slice, target range) units: a thread owns the rows [lo, hi) of one
// outer slice and walks the whole index, writing the rows that fall in its range, so every row's updates
// run in j order on one thread (the serial result, no atomics) and each thread writes whole rows. With
// fewer outer slices than threads the target rows are cut into ranges (splitting a row's columns between
// two threads instead ran slower than one thread: both write into the same lines' neighbourhood).
enum class RowOp { Add, Copy, Fill };

template <typename T>
inline T add_scaled(T s, T r, T a) {
  if constexpr (std::is_same_v<T, bool>) return s || (r && a);
  else return static_cast<T>(s + a * r);
}

// s[i] += a * r[i] over a float row, compiled for AVX-512, AVX2 and baseline x86-64; without FMA
// contraction, so every clone rounds as the serial definition does.
LOOM_CPU_CLONES __attribute__((optimize("fp-contract=off"))) void add_row_f32(float* __restrict s,
                                                                              const float* __restrict r, float a,
                                                                              int64_t n) {
  for (int64_t i = 0; i < n; ++i) s[i] = s[i] + a * r[i];
}

template <typename T, RowOp op>
void put_rows(T* self, const T* src, const int64_t* index, int64_t n_index, int64_t outer, int64_t self_dim,
              int64_t inner, T a) {
  const int64_t work = outer * n_index * inner;
  const int64_t threads = pool_threads();
  // Short rows stay on one thread: walking the whole index per thread (a mispredicted range test per
  // index when the targets are random) would cost more than the rows' work.
  const int64_t nparts = outer < threads && work >= detail::kParallelMin && inner >= 64
                             ? std::max<int64_t>(1, std::min(threads, self_dim))
                             : 1;
  detail::parallel_range(outer * nparts, work, [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t o = u / nparts, p = u % nparts;
      const int64_t lo = self_dim * p / nparts, hi = self_dim * (p + 1) / nparts;
      T* s0 = self + o * self_dim * inner;
      if (inner == 1) {  // one element per row (along the last dim): no inner loop
        const T* r0 = src ? src + o * n_index : nullptr;
        for (int64_t j = 0; j < n_index; ++j) {
          const int64_t k = index[j] < 0 ? index[j] + self_dim : index[j];
          if (nparts > 1 && (k < lo || k >= hi)) continue;
          if constexpr (op == RowOp::Fill) s0[k] = a;
          else if constexpr (op == RowOp::Copy) s0[k] = r0[j];
          else s0[k] = add_scaled(s0[k], r0[j], a);
        }
        continue;
      }
      for (int64_t j = 0; j < n_index; ++j) {
        const int64_t k = index[j] < 0 ? index[j] + self_dim : index[j];
        if (nparts > 1 && (k < lo || k >= hi)) continue;
        T* __restrict s = s0 + k * inner;
        if constexpr (op == RowOp::Fill) {
          for (int64_t i = 0; i < inner; ++i) s[i] = a;
        } else {
          const T* __restrict r = src + (o * n_index + j) * inner;
          if constexpr (op == RowOp::Copy) {
            for (int64_t i = 0; i < inner; ++i) s[i] = r[i];
          } else {
            if constexpr (std::is_same_v<T, float>) add_row_f32(s, r, a, inner);
            else
              for (int64_t i = 0; i < inner; ++i) s[i] = add_scaled(s[i], r[i], a);
          }
        }
      }
    }
  });
}

// The first index outside [lo, self_dim), or -1.
int64_t first_bad_row(const int64_t* index, int64_t n_index, int64_t lo, int64_t self_dim) {
  for (int64_t j = 0; j < n_index; ++j)
    if (index[j] < lo || index[j] >= self_dim) return j;
  return -1;
}

template <RowOp op>
int64_t put_rows_dispatch(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
                          int64_t self_dim, int64_t inner, const void* scalar, const char* name) {
  const int64_t bad = first_bad_row(index, n_index, op == RowOp::Fill ? -self_dim : 0, self_dim);
  if (bad >= 0) return bad;
  if (n_index == 0 || outer * inner == 0) return -1;
  if constexpr (op == RowOp::Copy) {  // the bytes of the element: one instantiation per width
    auto rows_as = [&](auto tag) {
      using U = decltype(tag);
      put_rows<U, RowOp::Copy>(static_cast<U*>(self), static_cast<const U*>(src), index, n_index, outer, self_dim,
                               inner, U{});
      return int64_t(-1);
    };
    switch (itemsize(dt)) {
      case 1: return rows_as(uint8_t{});
      case 4: return rows_as(uint32_t{});
      case 8: return rows_as(uint64_t{});
      default: break;
    }
  }
  LOOM_DISPATCH_ALL(dt, name, [&] {
    put_rows<scalar_t, op>(static_cast<scalar_t*>(self), static_cast<const scalar_t*>(src), index, n_index, outer,
                           self_dim, inner, scalar ? *static_cast<const scalar_t*>(scalar) : scalar_t{});
  });
  return -1;
}

}  // namespace

int64_t index_select(DType dt, void* out, const void* in, const int64_t* index, int64_t n_index, int64_t outer,
                     int64_t in_dim, int64_t inner) {
  for (int64_t j = 0; j < n_index; ++j)
    if (bad(index[j], in_dim)) return j;
  if (inner <= 8) {  // short rows: typed copies (of the element's bytes), not a memcpy call per row
    auto rows_as = [&](auto tag) {
      using U = decltype(tag);
      select_short_rows(static_cast<U*>(out), static_cast<const U*>(in), index, n_index, outer, in_dim, inner);
      return int64_t(-1);
    };
    switch (itemsize(dt)) {
      case 1: return rows_as(uint8_t{});
      case 2: return rows_as(uint16_t{});
      case 4: return rows_as(uint32_t{});
      case 8: return rows_as(uint64_t{});
      default: break;
    }
  }
  const size_t row = static_cast<size_t>(inner) * itemsize(dt);
  const char* src = static_cast<const char*>(in);
  char* dst = static_cast<char*>(out);
  detail::parallel_range(outer * n_index, outer * n_index * inner, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t o = r / n_index, j = r % n_index;
      std::memcpy(dst + r * row, src + (o * in_dim + index[j]) * row, row);
    }
  });
  return -1;
}

int64_t gather(DType dt, void* out, const void* in, const int64_t* index, const ElementwiseLoop& loop,
               int64_t in_dim_stride, int64_t in_dim_size) {
  int64_t r = -1;
  LOOM_DISPATCH_ALL(dt, "gather", [&] {
    r = gather_impl(static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), index, loop, in_dim_stride,
                    in_dim_size);
  });
  return r;
}

int64_t scatter_add(DType dt, void* self, const void* src, const int64_t* index, const ElementwiseLoop& loop,
                    int64_t self_dim_stride, int64_t self_dim_size) {
  int64_t r = -1;
  LOOM_DISPATCH_ALL(dt, "scatter_add", [&] {
    r = scatter_add_impl(static_cast<scalar_t*>(self), static_cast<const scalar_t*>(src), index, loop, self_dim_stride,
                         self_dim_size);
  });
  return r;
}

int64_t scatter_reduce(DType dt, ScatterReduce op, bool include_self, void* self, void* count, const void* src,
                       const int64_t* index, const ElementwiseLoop& loop, int64_t self_dim_stride,
                       int64_t self_dim_size) {
  LOOM_CHECK(op != ScatterReduce::Mean || (count != nullptr && dt != DType::Bool),
             "scatter_reduce: mean needs a count and a numeric dtype");
  const int64_t first_bad = first_bad_index(index, loop, self_dim_size);
  if (first_bad >= 0) return first_bad;
  LOOM_DISPATCH_ALL(dt, "scatter_reduce", [&] {
    auto* s = static_cast<scalar_t*>(self);
    auto* c = static_cast<scalar_t*>(count);
    const auto* r = static_cast<const scalar_t*>(src);
    switch (op) {
      case ScatterReduce::Sum:
        scatter_reduce_impl<scalar_t, ScatterReduce::Sum>(s, c, r, index, loop, self_dim_stride, include_self);
        break;
      case ScatterReduce::Prod:
        scatter_reduce_impl<scalar_t, ScatterReduce::Prod>(s, c, r, index, loop, self_dim_stride, include_self);
        break;
      case ScatterReduce::Mean:
        scatter_reduce_impl<scalar_t, ScatterReduce::Mean>(s, c, r, index, loop, self_dim_stride, include_self);
        break;
      case ScatterReduce::Amax:
        scatter_reduce_impl<scalar_t, ScatterReduce::Amax>(s, c, r, index, loop, self_dim_stride, include_self);
        break;
      case ScatterReduce::Amin:
        scatter_reduce_impl<scalar_t, ScatterReduce::Amin>(s, c, r, index, loop, self_dim_stride, include_self);
        break;
    }
  });
  return -1;
}

int64_t index_add(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
                  int64_t self_dim, int64_t inner, const void* alpha) {
  return put_rows_dispatch<RowOp::Add>(dt, self, src, index, n_index, outer, self_dim, inner, alpha, "index_add");
}

int64_t index_copy(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
                   int64_t self_dim, int64_t inner) {
  return put_rows_dispatch<RowOp::Copy>(dt, self, src, index, n_index, outer, self_dim, inner, nullptr, "index_copy");
}

int64_t index_fill(DType dt, void* self, const int64_t* index, int64_t n_index, int64_t outer, int64_t self_dim,
                   int64_t inner, const void* value) {
  return put_rows_dispatch<RowOp::Fill>(dt, self, nullptr, index, n_index, outer, self_dim, inner, value, "index_fill");
}

// Large masks: count per chunk, then each chunk writes at its prefix offset.
int64_t nonzero_flat(const bool* mask, int64_t n, int64_t* out) {
  // Branch-free compaction (a random mask would mispredict on half the elements):
  // every position is written and the cursor advances by the mask, about one
  // cycle per element, so one thread is enough (and the out buffer has room for
  // the write past the last nonzero, since it holds n slots).
  const auto* m = reinterpret_cast<const uint8_t*>(mask);  // 0 or 1
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    out[k] = i;
    k += m[i];
  }
  return k;
}

}  // namespace loom::kernels::cpu
