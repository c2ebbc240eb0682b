// CUDA embedding backward and dropout (kernels/cuda/embedding_dropout.cu),
// twins of kernels/cpu/loss.h (embedding_backward) and kernels/cpu/norm.h
// (dropout), with the same arguments plus the stream.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"

namespace loom::kernels::cuda {

// dweight [V, D] (zeroed by the caller) += grad[i] at row index[i], except
// padding_idx (-1: none). Atomic adds: the summation order is not fixed.
// Indices outside [0, V) are skipped (the forward lookup already reported them).
void embedding_backward(DType dt, void* dweight, const void* grad, const int64_t* index, int64_t n, int64_t num_weights,
                        int64_t D, int64_t padding_idx, cudaStream_t stream);

// out[i] = keep(i) ? in[i] / (1 - p) : 0, keep(i) = to_unit_float(Philox lane) >= p,
// bit-identical masks with the CPU twin.
void dropout(DType dt, void* out, const void* in, int64_t n, double p, uint64_t seed, uint64_t offset,
             cudaStream_t stream);

}  // namespace loom::kernels::cuda
