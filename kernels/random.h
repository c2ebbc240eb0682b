// Random-number kernels (counter-based Philox, core/philox.h): the contract of
// kernels/cpu/random.cpp and kernels/cuda/random.cu (see kernels/contract.h).
// Both devices draw bit-identical values for the same (seed, offset).
#pragma once
#include "kernels/contract.h"

namespace loom::kernels {

namespace cpu {

// Element i of a call draws from counter (offset + i / 4), lane i % 4 (uniform,
// randint) or from the Box-Muller pair in lanes (0,1) / (2,3) (normal).
// Values: uniform fma(u, hi - lo, lo) in double with u = to_unit_float (float32)
// or to_unit_double (float64), rounded to dt and kept below hi; normal
// fma(normal_at(...), std, mean) in double, rounded; randint low + lane % (high -
// low), high - low <= 2^32. The explicit fma, and the Box-Muller's own log, sin and
// cos (core/philox.h, no libm), keep CPU and CUDA bit-identical.
void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi);
void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std);
void randint(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high);

}  // namespace cpu

namespace cuda {

void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi, cudaStream_t stream);
void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
            cudaStream_t stream);
void randint(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high,
             cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
