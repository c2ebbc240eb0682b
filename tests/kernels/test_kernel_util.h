// Iteration spaces of the kernel tests: ElementwiseLoop / ReduceLoop built
// from shapes and strides (no coalescing, so the strided paths run), the
// contiguous and strided spaces every CUDA elementwise kernel is checked on,
// host buffers of any element type, and the random inputs and tolerances of
// the CUDA-against-CPU comparisons. General tolerances, random data and the
// GPU skip: tests/test_util.h; device buffers: tests/test_cuda_util.h.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <type_traits>
#include <vector>

#include "kernels/loops.h"
#include "test_util.h"

namespace loom::test {

using kernels::ElementwiseLoop;
using kernels::ReduceLoop;

// std::vector<bool> has no data(): bool buffers are stored as bytes.
template <typename T>
using store_t = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;
template <typename T>
using Vec = std::vector<store_t<T>>;
template <typename T>
T* ptr(Vec<T>& v) {
  return reinterpret_cast<T*>(v.data());
}
template <typename T>
const T* ptr(const Vec<T>& v) {
  return reinterpret_cast<const T*>(v.data());
}

template <typename T>
Vec<T> cast_vec(const std::vector<double>& v) {
  Vec<T> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<store_t<T>>(static_cast<T>(v[i]));
  return out;
}

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (auto x : s) n *= x;
  return n;
}

inline Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int i = static_cast<int>(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

// Strides of a tensor of `shape` stored as the transpose of its stored
// layout over dims (a, b) (a non-contiguous view with a unit stride elsewhere).
inline Shape transposed_strides(const Shape& shape, int a, int b) {
  Shape stored = shape;
  std::swap(stored[a], stored[b]);
  Shape st = contiguous_strides(stored);
  std::swap(st[a], st[b]);
  return st;
}

inline ElementwiseLoop make_loop(const Shape& sizes, const std::vector<Shape>& strides) {
  ElementwiseLoop L;
  L.ndim = static_cast<int>(sizes.size());
  L.noperands = static_cast<int>(strides.size());
  L.numel = numel(sizes);
  for (int d = 0; d < L.ndim; ++d) L.sizes[d] = sizes[d];
  for (int k = 0; k < L.noperands; ++k)
    for (int d = 0; d < L.ndim; ++d) L.strides[k][d] = strides[k][d];
  return L;
}

// f(i, offsets) for each position i (row-major over sizes).
inline void for_each_index(const Shape& sizes, const std::vector<Shape>& strides,
                           const std::function<void(int64_t, const std::vector<int64_t>&)>& f) {
  const int64_t n = numel(sizes);
  std::vector<int64_t> off(strides.size());
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i;
    std::fill(off.begin(), off.end(), 0);
    for (int d = static_cast<int>(sizes.size()) - 1; d >= 0; --d) {
      const int64_t c = rem % sizes[d];
      rem /= sizes[d];
      for (size_t k = 0; k < strides.size(); ++k) off[k] += c * strides[k][d];
    }
    f(i, off);
  }
}

// Reduce input of `sizes`/`in_strides` over the dims flagged in `reduced`
// into a contiguous output of the kept dims.
struct ReduceCase {
  ReduceLoop loop;
  Shape out_shape;
};
inline ReduceCase make_reduce(const Shape& sizes, const Shape& in_strides, const std::vector<bool>& reduced) {
  ReduceCase c;
  ReduceLoop& L = c.loop;
  L.out_ndim = 0;
  L.red_ndim = 0;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (reduced[d]) {
      L.red_sizes[L.red_ndim] = sizes[d];
      L.red_strides[L.red_ndim++] = in_strides[d];
    } else {
      c.out_shape.push_back(sizes[d]);
      L.out_sizes[L.out_ndim] = sizes[d];
      L.in_out_strides[L.out_ndim++] = in_strides[d];
    }
  }
  Shape os = contiguous_strides(c.out_shape);
  for (int d = 0; d < L.out_ndim; ++d) L.out_strides[d] = os[d];
  L.out_numel = numel(c.out_shape);
  L.red_numel = 1;
  for (int d = 0; d < L.red_ndim; ++d) L.red_numel *= L.red_sizes[d];
  if (L.out_ndim == 0) {  // full reduction: one output, as a front end would pass it
    L.out_ndim = 1;
    L.out_sizes[0] = 1;
    L.out_strides[0] = L.in_out_strides[0] = 0;
  }
  return c;
}

inline ElementwiseLoop contiguous_loop(int64_t n, int nops) {
  ElementwiseLoop L;
  L.ndim = 1;
  L.noperands = nops;
  L.numel = n;
  L.sizes[0] = n;
  for (int op = 0; op < nops; ++op) L.strides[op][0] = 1;
  return L;
}

// [37, 129, 5]: operand 0 (output) contiguous, operand 1 a transposed view of a
// [5, 129, 37] buffer, operand 2 broadcast from [1, 129, 1], operand 3 contiguous.
constexpr int64_t D0 = 37, D1 = 129, D2 = 5, N3 = D0 * D1 * D2;
inline ElementwiseLoop strided_loop(int nops) {
  ElementwiseLoop L;
  L.ndim = 3;
  L.noperands = nops;
  L.numel = N3;
  L.sizes[0] = D0, L.sizes[1] = D1, L.sizes[2] = D2;
  const int64_t contig[3] = {D1 * D2, D2, 1}, transposed[3] = {1, D0, D0 * D1}, bcast[3] = {0, 1, 0};
  for (int d = 0; d < 3; ++d) {
    L.strides[0][d] = contig[d];
    if (nops > 1) L.strides[1][d] = transposed[d];
    if (nops > 2) L.strides[2][d] = bcast[d];
    if (nops > 3) L.strides[3][d] = contig[d];
  }
  return L;
}

// n values of T uniform in [lo, hi) from rng: integers rounded down, bools
// true for positive draws (what the CUDA kernels are compared on).
template <typename T>
std::vector<store_t<T>> random_vec(size_t n, std::mt19937& rng, double lo = -2, double hi = 2) {
  std::vector<store_t<T>> v(n);
  std::uniform_real_distribution<double> d(lo, hi);
  for (auto& x : v) {
    double r = d(rng);
    if constexpr (std::is_same_v<T, bool>) x = r > 0;
    else if constexpr (std::is_integral_v<T>) x = static_cast<T>(std::floor(r));
    else x = static_cast<T>(r);
  }
  return v;
}

// atol and rtol of a CUDA kernel against its CPU twin: exact for integers.
template <typename T>
double twin_tol() {
  return std::is_same_v<T, float> ? 1e-5 : std::is_same_v<T, double> ? 1e-12 : 0;
}

}  // namespace loom::test
