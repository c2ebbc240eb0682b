// The dtype conversion shared by the CPU and CUDA elementwise kernels (copy,
// fill, the scalar operands): saturating for floating -> integer (NaN gives
// 0, values past the range give its ends), x != 0 for bool, a static_cast
// otherwise; the identity between equal types. Not part of the kernel API.
#pragma once
#include <limits>
#include <type_traits>

#if defined(__CUDACC__)
#define LOOM_CONVERT_HD __host__ __device__ __forceinline__
#else
#define LOOM_CONVERT_HD inline
#endif

namespace loom::kernels {

template <typename T>
constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

template <typename D, typename S>
LOOM_CONVERT_HD D convert(S x) {
  if constexpr (std::is_same_v<D, bool>) {
    return x != S(0);
  } else if constexpr (is_int_v<D> && std::is_floating_point_v<S>) {
    constexpr S lo = static_cast<S>(std::numeric_limits<D>::min());  // -2^31 / -2^63, exact
    return x != x     ? D(0)
           : x <= lo  ? std::numeric_limits<D>::min()
           : x >= -lo ? std::numeric_limits<D>::max()
                      : static_cast<D>(x);
  } else {
    return static_cast<D>(x);
  }
}

}  // namespace loom::kernels
