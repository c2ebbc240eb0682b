// The loop drivers shared by the elementwise CPU kernels
// (kernels/cpu/pointwise.cpp, kernels/cpu/copy.cpp), and the dtype conversion
// of kernels/convert.h under detail::; not part of the kernel API.
// map1/map2/map3 apply a functor over an ElementwiseLoop: unit strides in the
// innermost dim compile to simd loops, a broadcast operand (stride 0) is
// hoisted out of the run, other strides take a plain loop; large loops are
// split over the pool (detail::for_each_row).
#pragma once
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/convert.h"
#include "kernels/cpu/parallel.h"
#include "kernels/loops.h"

namespace loom::kernels::cpu::detail {

// out[i] = f(a[i]).
template <typename O, typename A, typename F>
void map1(const ElementwiseLoop& L, O* out, const A* a, F f_ref) {
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sa = L.strides[1][d];
  for_each_row<2>(L, [&](const int64_t* off, int64_t n, int64_t) {
    const F f = f_ref;  // a local copy: its captures cannot alias the output, so they stay in registers
    O* o = out + off[0];
    const A* x = a + off[1];
    if (so == 1 && sa == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
    } else if (sa == 0) {
      const O v = f(x[0]);
      for (int64_t i = 0; i < n; ++i) o[i * so] = v;
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * so] = f(x[i * sa]);
    }
  });
}

// out[i] = f(a[i], b[i]).
template <typename O, typename A, typename B, typename F>
void map2(const ElementwiseLoop& L, O* out, const A* a, const B* b, F f_ref) {
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sa = L.strides[1][d], sb = L.strides[2][d];
  for_each_row<3>(L, [&](const int64_t* off, int64_t n, int64_t) {
    const F f = f_ref;  // a local copy, as in map1
    O* o = out + off[0];
    const A* x = a + off[1];
    const B* y = b + off[2];
    if (so == 1 && sa == 1 && sb == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (so == 1 && sa == 1 && sb == 0) {
      const B v = y[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], v);
    } else if (so == 1 && sa == 0 && sb == 1) {
      const A v = x[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(v, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * so] = f(x[i * sa], y[i * sb]);
    }
  });
}

// out[i] = f(a[i], b[i], c[i]).
template <typename O, typename A, typename B, typename C, typename F>
void map3(const ElementwiseLoop& L, O* out, const A* a, const B* b, const C* c, F f_ref) {
  const int d = L.ndim - 1;
  const int64_t so = L.strides[0][d], sa = L.strides[1][d], sb = L.strides[2][d], sc = L.strides[3][d];
  for_each_row<4>(L, [&](const int64_t* off, int64_t n, int64_t) {
    const F f = f_ref;  // a local copy, as in map1
    O* o = out + off[0];
    const A* x = a + off[1];
    const B* y = b + off[2];
    const C* z = c + off[3];
    if (so == 1 && sa == 1 && sb == 1 && sc == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i], z[i]);
    } else if (so == 1 && sa == 1 && sb == 1 && sc == 0) {  // a broadcast last operand (lerp's 0-d weight)
      const C v = z[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i], v);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * so] = f(x[i * sa], y[i * sb], z[i * sc]);
    }
  });
}

using ::loom::kernels::convert;
using ::loom::kernels::is_int_v;

// Two's complement arithmetic on integers without signed-overflow UB (floating types: the plain operations).
template <typename T>
inline T wadd(T a, T b) {
  if constexpr (is_int_v<T>) return T(std::make_unsigned_t<T>(a) + std::make_unsigned_t<T>(b));
  else return a + b;
}
template <typename T>
inline T wsub(T a, T b) {
  if constexpr (is_int_v<T>) return T(std::make_unsigned_t<T>(a) - std::make_unsigned_t<T>(b));
  else return a - b;
}
template <typename T>
inline T wmul(T a, T b) {
  if constexpr (is_int_v<T>) return T(std::make_unsigned_t<T>(a) * std::make_unsigned_t<T>(b));
  else return a * b;
}
template <typename T>
inline T wneg(T a) {
  return wsub(T(0), a);
}

}  // namespace loom::kernels::cpu::detail
