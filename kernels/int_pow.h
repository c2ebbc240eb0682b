// Integer powers shared by the CPU and CUDA pointwise kernels (kernels/cpu/pointwise.cpp,
// kernels/cuda/pointwise_math.cu), so the two devices agree bit for bit.
#pragma once
#include <type_traits>

#if defined(__CUDACC__)
#define LOOM_INT_POW_HD __host__ __device__ __forceinline__
#else
#define LOOM_INT_POW_HD inline
#endif

namespace loom::kernels {

// base^e for a signed integer T by repeated squaring in the unsigned type (wrapping on overflow, as
// PyTorch's); a negative e gives the truncated 1 / base^|e|: 0 unless base is +-1.
template <typename T>
LOOM_INT_POW_HD T int_pow(T base, T e) {
  if (e < 0) return base == 1 ? T(1) : base == -1 ? ((e & 1) ? T(-1) : T(1)) : T(0);
  using U = std::make_unsigned_t<T>;
  U r = 1, b = U(base);
  for (; e; e >>= 1, b *= b)
    if (e & 1) r *= b;
  return T(r);
}

}  // namespace loom::kernels
