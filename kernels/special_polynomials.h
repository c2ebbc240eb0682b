// The classical orthogonal polynomials of torch.special, p_n(x) for a degree n given as a floating value
// (truncated toward zero), shared by the CPU and CUDA pointwise kernels (included by
// kernels/special_math.h). Unlike the other special functions they are computed in the input's own type,
// with PyTorch 2.15's choices, so that float32 results overflow, and turn to NaN, where PyTorch's do:
//   - a negative n gives 0; so do NaN, +-inf and degrees beyond int64 (x86 converts them to INT64_MIN);
//   - the Chebyshev polynomials of the four kinds (and the shifted ones, in y = 2x - 1) take their closed
//     values at y = +-1; for |y| < 1 above a small degree (T: n > 6, U and V: n > 8, W: n > 8; the shifted
//     T, U, V: n > 6, W: n > 4) the trigonometric forms with theta = acos(y): T = cos(n theta),
//     U = sin((n + 1) theta) / sin(theta), V = cos((n + 1/2) theta) / cos(theta / 2),
//     W = sin((n + 1/2) theta) / sin(theta / 2); otherwise the three-term recurrence p_k+1 = 2y p_k - p_k-1,
//     which stops once a value is NaN (an overflow to inf turns into NaN two steps later);
//   - Hermite H_n, He_n: the recurrences H_k+1 = 2x H_k - 2k H_k-1 and He_k+1 = x He_k - k He_k-1; NaN
//     above degree 128 (float) or 512 (double);
//   - Laguerre L_n: 1 at x = 0, (k + 1) L_k+1 = (2k + 1 - x) L_k - k L_k-1;
//   - Legendre P_n: +-1 at x = +-1, (k + 1) P_k+1 = (2k + 1) x P_k - k P_k-1.
// The recurrences take n steps per element (PyTorch's too: a degree of 1e16 would run for years); above
// kMaxRecurrenceDegree = 2^24 (about 0.1 s per element) a value that needs the recurrence is NaN instead.
// The closed forms (the end points, x = 0 for Laguerre, the trigonometric Chebyshev forms) hold at any n.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/loops.h"

namespace loom::kernels {

// The degree as PyTorch reads it: truncated, and -1 (giving 0) where the conversion to int64 overflows.
template <typename T>
LOOM_SPECIAL_HD int64_t polynomial_degree(T n) {
  return n > T(-9.2e18) && n < T(9.2e18) ? static_cast<int64_t>(n) : int64_t(-1);
}

constexpr int64_t kMaxRecurrenceDegree = int64_t(1) << 24;

enum class ChebyshevKind : int8_t { T, U, V, W };

// The Chebyshev polynomial of `kind` at y, degree n; `at_one` / `at_minus_one`: whether the argument is
// the end point (x = +-1, or x = 1, 0 for the shifted ones, whose y = 2x - 1 may round to -1 before x is 0);
// `trig_above`: the degree above which |y| < 1 takes the trigonometric form.
template <typename T>
LOOM_SPECIAL_HD T chebyshev_polynomial(ChebyshevKind kind, T y, int64_t n, bool at_one, bool at_minus_one,
                                       int64_t trig_above, bool shifted) {
  if (n < 0) return T(0);
  const T sign = n % 2 == 0 ? T(1) : T(-1);
  const T odd = static_cast<T>(n + n + 1);
  if (at_one) return kind == ChebyshevKind::U ? static_cast<T>(n + 1) : kind == ChebyshevKind::W ? odd : T(1);
  if (at_minus_one) {
    if (kind == ChebyshevKind::U) return sign * static_cast<T>(n + 1);
    return kind == ChebyshevKind::V ? sign * odd : sign;
  }
  if (n > trig_above && std::fabs(y) < T(1)) {
    const T theta = std::acos(y);
    switch (kind) {
      case ChebyshevKind::T: return std::cos(static_cast<T>(n) * theta);
      case ChebyshevKind::U:
        if (std::sin(theta) != T(0)) return std::sin(static_cast<T>(n + 1) * theta) / std::sin(theta);
        return static_cast<T>(n + 1) * std::cos(static_cast<T>(n + 1) * theta) / y;
      case ChebyshevKind::V:
        if (std::sin(theta / T(2)) != T(1))
          return std::cos((static_cast<T>(n) + T(0.5)) * theta) / std::cos(theta / T(2));
        return sign * odd;
      case ChebyshevKind::W:
        if (std::cos(theta / T(2)) != T(1))
          return std::sin((static_cast<T>(n) + T(0.5)) * theta) / std::sin(theta / T(2));
        return !shifted && y > T(0) ? odd : sign;  // PyTorch's shifted W gives the sign here
    }
  }
  if (n > kMaxRecurrenceDegree) return NAN;
  const T two_y = y + y;
  T prev = T(1);
  T cur = kind == ChebyshevKind::T   ? y
          : kind == ChebyshevKind::U ? two_y
          : kind == ChebyshevKind::V ? two_y - T(1)
                                     : two_y + T(1);
  for (int64_t k = 2; k <= n && !(cur != cur); ++k) {
    const T next = two_y * cur - prev;
    prev = cur;
    cur = next;
  }
  return n == 0 ? T(1) : cur;
}

template <typename T>
LOOM_SPECIAL_HD T chebyshev_polynomial_d(ChebyshevKind kind, T x, T n) {
  const int64_t trig_above = kind == ChebyshevKind::T ? 6 : 8;
  return chebyshev_polynomial(kind, x, polynomial_degree(n), x == T(1), x == T(-1), trig_above, false);
}

template <typename T>
LOOM_SPECIAL_HD T shifted_chebyshev_polynomial_d(ChebyshevKind kind, T x, T n) {
  const int64_t trig_above = kind == ChebyshevKind::W ? 4 : 6;
  return chebyshev_polynomial(kind, x + x - T(1), polynomial_degree(n), x == T(1), x == T(0), trig_above, true);
}

// Physicists' Hermite polynomial H_n(x) (`physicists`), else the probabilists' He_n(x).
template <typename T>
LOOM_SPECIAL_HD T hermite_polynomial_d(T x, T n_value, bool physicists) {
  const int64_t n = polynomial_degree(n_value);
  if (n < 0) return T(0);
  if (n == 0) return T(1);
  const T a = physicists ? x + x : x;  // H_k+1 = a H_k - (2k or k) H_k-1
  if (n == 1) return a;
  if (n > (sizeof(T) == 4 ? 128 : 512)) return NAN;
  T prev = T(1), cur = a;
  for (int64_t k = 1; k < n; ++k) {
    const T next = a * cur - static_cast<T>(physicists ? k + k : k) * prev;
    prev = cur;
    cur = next;
  }
  return cur;
}

template <typename T>
LOOM_SPECIAL_HD T laguerre_polynomial_l_d(T x, T n_value) {
  const int64_t n = polynomial_degree(n_value);
  if (n < 0) return T(0);
  if (n == 0 || x == T(0)) return T(1);
  if (n > kMaxRecurrenceDegree) return NAN;
  T prev = T(1), cur = T(1) - x;
  for (int64_t k = 1; k < n && !(cur != cur); ++k) {
    const T next = ((static_cast<T>(k + k) + (T(1) - x)) * cur - static_cast<T>(k) * prev) / static_cast<T>(k + 1);
    prev = cur;
    cur = next;
  }
  return cur;
}

template <typename T>
LOOM_SPECIAL_HD T legendre_polynomial_p_d(T x, T n_value) {
  const int64_t n = polynomial_degree(n_value);
  if (n < 0) return T(0);
  if (std::fabs(x) == T(1)) return x > T(0) || n % 2 == 0 ? T(1) : T(-1);
  if (n == 0) return T(1);
  if (n > kMaxRecurrenceDegree) return NAN;
  T prev = T(1), cur = x;
  for (int64_t k = 1; k < n && !(cur != cur); ++k) {
    const T next = (static_cast<T>(k + k + 1) * x * cur - static_cast<T>(k) * prev) / static_cast<T>(k + 1);
    prev = cur;
    cur = next;
  }
  return cur;
}

// The polynomial of a BinaryOp (is_polynomial(op)) at x, degree n.
template <typename T>
LOOM_SPECIAL_HD T polynomial_d(BinaryOp op, T x, T n) {
  switch (op) {
    case BinaryOp::ChebyshevT: return chebyshev_polynomial_d(ChebyshevKind::T, x, n);
    case BinaryOp::ChebyshevU: return chebyshev_polynomial_d(ChebyshevKind::U, x, n);
    case BinaryOp::ChebyshevV: return chebyshev_polynomial_d(ChebyshevKind::V, x, n);
    case BinaryOp::ChebyshevW: return chebyshev_polynomial_d(ChebyshevKind::W, x, n);
    case BinaryOp::ShiftedChebyshevT: return shifted_chebyshev_polynomial_d(ChebyshevKind::T, x, n);
    case BinaryOp::ShiftedChebyshevU: return shifted_chebyshev_polynomial_d(ChebyshevKind::U, x, n);
    case BinaryOp::ShiftedChebyshevV: return shifted_chebyshev_polynomial_d(ChebyshevKind::V, x, n);
    case BinaryOp::ShiftedChebyshevW: return shifted_chebyshev_polynomial_d(ChebyshevKind::W, x, n);
    case BinaryOp::HermiteH: return hermite_polynomial_d(x, n, true);
    case BinaryOp::HermiteHe: return hermite_polynomial_d(x, n, false);
    case BinaryOp::LaguerreL: return laguerre_polynomial_l_d(x, n);
    case BinaryOp::LegendreP: return legendre_polynomial_p_d(x, n);
    default: return NAN;
  }
}

}  // namespace loom::kernels
