// Elementwise CPU kernels that select or combine three operands: where, clamp, the ternary ops (lerp,
// addcmul, addcdiv) and tril / triu, on the loop drivers of kernels/cpu/elementwise.h (the unary and
// binary math is in kernels/cpu/pointwise.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/error.h"
#include "kernels/cpu/branchless.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/parallel.h"
#include "kernels/pointwise.h"
#include "kernels/special_math.h"

namespace loom::kernels::cpu {

using detail::convert;
using detail::map1;
using detail::map2;
using detail::map3;
using detail::mask_bytes;
using detail::select_bits;
using detail::wadd;
using detail::wmul;

void where(DType dt, void* out, const bool* cond, const void* a, const void* b, const ElementwiseLoop& loop) {
  LOOM_DISPATCH_ALL(dt, "where", [&] {
    using T = scalar_t;
    map3(loop, static_cast<T*>(out), mask_bytes(cond), static_cast<const T*>(a), static_cast<const T*>(b),
         [](uint8_t c, T x, T y) { return select_bits(c, x, y); });
  });
}

static const char* ternary_name(TernaryOp op) {
  return op == TernaryOp::Lerp ? "lerp" : op == TernaryOp::Addcmul ? "addcmul" : "addcdiv";
}

void ternary(TernaryOp op, DType dt, void* out, const void* a, const void* b, const void* c, double s,
             const ElementwiseLoop& loop) {
  LOOM_CHECK_TYPE(op == TernaryOp::Addcmul ? dt != DType::Bool : is_floating(dt), ternary_name(op), ": expected a ",
                  op == TernaryOp::Addcmul ? "numeric" : "floating", " dtype, got ", dtype_name(dt));
  LOOM_DISPATCH_NUMERIC(dt, ternary_name(op), [&] {
    using T = scalar_t;
    T* o = static_cast<T*>(out);
    const T *x = static_cast<const T*>(a), *y = static_cast<const T*>(b), *z = static_cast<const T*>(c);
    const T v = convert<T>(s);
    if constexpr (std::is_floating_point_v<T>) {
      if (op == TernaryOp::Lerp) {
        if (z) return map3(loop, o, x, y, z, [](T p, T q, T w) { return lerp_t(p, q, w); });
        // lerp_t's choice of formula made once for a number weight (the same values, a plain vector loop).
        if (v < T(0.5) && v > T(-0.5)) return map2(loop, o, x, y, [v](T p, T q) { return p + v * (q - p); });
        return map2(loop, o, x, y, [v](T p, T q) { return q - (q - p) * (T(1) - v); });
      }
      if (op == TernaryOp::Addcdiv) return map3(loop, o, x, y, z, [v](T p, T q, T r) { return p + v * (q / r); });
    }
    if (op == TernaryOp::Addcmul) map3(loop, o, x, y, z, [v](T p, T q, T r) { return wadd(p, wmul(wmul(v, q), r)); });
  });
}

void tri(DType dt, void* out, const void* in, int64_t B, int64_t M, int64_t N, int64_t k, bool lower) {
  LOOM_DISPATCH_ALL(dt, lower ? "tril" : "triu", [&] {
    using T = scalar_t;
    T* o = static_cast<T*>(out);
    const T* x = static_cast<const T*>(in);
    // Per row i: the kept columns are [0, i + k] (lower) or [i + k, N) (upper): one copy and one fill.
    detail::parallel_range(B * M, B * M * N, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t i = r % M, edge = i + k;
        const int64_t lo = lower ? 0 : std::clamp<int64_t>(edge, 0, N);
        const int64_t hi = lower ? std::clamp<int64_t>(edge + 1, 0, N) : N;
        T* orow = o + r * N;
        const T* xrow = x + r * N;
        std::fill(orow, orow + lo, T(0));
        if (orow != xrow) std::copy(xrow + lo, xrow + hi, orow + lo);
        std::fill(orow + hi, orow + N, T(0));
      }
    });
  });
}

void clamp(DType dt, void* out, const void* in, bool has_lo, double lo, bool has_hi, double hi,
           const ElementwiseLoop& loop) {
  LOOM_DISPATCH_NUMERIC(dt, "clamp", [&] {
    using T = scalar_t;
    T l, h;
    if constexpr (std::is_floating_point_v<T>) {
      l = has_lo ? T(lo) : -std::numeric_limits<T>::infinity();
      h = has_hi ? T(hi) : std::numeric_limits<T>::infinity();
    } else {
      // The integers within [lo, hi].
      l = has_lo ? convert<T>(std::ceil(lo)) : std::numeric_limits<T>::min();
      h = has_hi ? convert<T>(std::floor(hi)) : std::numeric_limits<T>::max();
    }
    // min(max(x, lo), hi) as PyTorch (lo > hi gives hi); a NaN x passes through, a NaN bound gives NaN.
    const bool nan_bound = l != l || h != h;  // floating bounds only
    map1(loop, static_cast<T*>(out), static_cast<const T*>(in), [l, h, nan_bound](T v) {
      T t = v < l ? l : v;
      t = t > h ? h : t;
      return nan_bound ? std::numeric_limits<T>::quiet_NaN() : t;
    });
  });
}

}  // namespace loom::kernels::cpu
