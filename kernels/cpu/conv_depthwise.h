// Depthwise 2-D convolution on the CPU (one input channel per group, any channel multiplier), called by
// kernels/cpu/conv.cpp, and the zero-padded plane copy both files use; not part of the kernel API.
#pragma once
#include <algorithm>
#include <cstring>

#include "kernels/conv.h"

namespace loom::kernels::cpu::detail {

// One H x W plane into dst, zero-padded by ph rows and pw columns on each side (row stride W + 2 pw).
template <typename T>
void pad_plane(const T* src, int64_t H, int64_t W, int64_t ph, int64_t pw, T* dst) {
  const int64_t Wp = W + 2 * pw, Hp = H + 2 * ph;
  std::fill(dst, dst + ph * Wp, T(0));
  for (int64_t h = 0; h < H; ++h) {
    T* row = dst + (ph + h) * Wp;
    std::fill(row, row + pw, T(0));
    std::memcpy(row + pw, src + h * W, size_t(W) * sizeof(T));
    std::fill(row + pw + W, row + Wp, T(0));
  }
  std::fill(dst + (ph + H) * Wp, dst + Hp * Wp, T(0));
}

// Whether the direct depthwise kernels take the pass: 2-D, one input channel per group, stride 1 or 2, at
// most 64 taps; the input gradient at stride 1 only with pad <= dil (k - 1), at stride 2 with any padding.
bool depthwise_applies(const ConvParams& p, bool grad_input);
// float32 / float64, the layouts of kernels/conv.h. bias may be null.
void depthwise_forward(DType dt, void* out, const void* in, const void* weight, const void* bias, const ConvParams& p);
void depthwise_backward_input(DType dt, void* grad_in, const void* grad_out, const void* weight, const ConvParams& p);
// grad_weight only (overwritten); the caller sums the bias gradient.
void depthwise_backward_weight(DType dt, void* grad_weight, const void* grad_out, const void* in, const ConvParams& p);

}  // namespace loom::kernels::cpu::detail
