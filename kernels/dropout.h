// Dropout kernels: the contract of kernels/cpu/dropout.cpp and
// kernels/cuda/dropout.cu (see kernels/contract.h).
//
// Dropout on n contiguous elements: out[i] = keep(i) ? in[i] / (1 - p) : 0 with
// keep(i) = to_unit_float(lane i % 4 of Philox block offset + i / 4) >= p
// (core/philox.h), so both devices make bit-identical masks. The same call on
// the output gradient is the backward (the mask is regenerated, not saved).
// float32 / float64.
#pragma once
#include "kernels/contract.h"

namespace loom::kernels {

namespace cpu {
void dropout(DType dt, void* out, const void* in, int64_t n, double p, uint64_t seed, uint64_t offset);
}  // namespace cpu

namespace cuda {
void dropout(DType dt, void* out, const void* in, int64_t n, double p, uint64_t seed, uint64_t offset,
             cudaStream_t stream);
}  // namespace cuda

}  // namespace loom::kernels
