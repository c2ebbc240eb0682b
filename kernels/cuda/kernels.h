// CUDA kernels: the same meaning as kernels/cpu/kernels.h, plus the stream
// they are enqueued on. No launch synchronizes with the host. Index errors are
// recorded in a per-device flag (see core/cuda.h check_async_errors) instead of
// trapping, so bad input is reported as an exception at the next sync point.
#pragma once
#include <cstdint>
#include <cuda_runtime_api.h>
#include "core/dtype.h"
#include "kernels/loops.h"

namespace loom::kernels::cuda {

// ---- elementwise.cu ----
void unary(UnaryOp op, DType dt, void* out, const void* in, const ElementwiseLoop& loop, cudaStream_t stream);
void binary(BinaryOp op, DType dt, void* out, const void* a, const void* b, const ElementwiseLoop& loop,
            cudaStream_t stream);
void binary_scalar(BinaryOp op, DType dt, void* out, const void* a, double s, const ElementwiseLoop& loop,
                   cudaStream_t stream);
void where(DType dt, void* out, const bool* cond, const void* a, const void* b, const ElementwiseLoop& loop,
           cudaStream_t stream);
void clamp(DType dt, void* out, const void* in, bool has_lo, double lo, bool has_hi, double hi,
           const ElementwiseLoop& loop, cudaStream_t stream);
void masked_fill(DType dt, void* out, const bool* mask, double value, const ElementwiseLoop& loop, cudaStream_t stream);
void copy(DType dst_dt, void* dst, DType src_dt, const void* src, const ElementwiseLoop& loop, cudaStream_t stream);
void fill(DType dt, void* out, double value, const ElementwiseLoop& loop, cudaStream_t stream);
void arange(DType dt, void* out, int64_t n, double start, double step, cudaStream_t stream);
void linspace(DType dt, void* out, int64_t n, double start, double end, cudaStream_t stream);

// ---- reduce.cu ----
void reduce(ReduceOp op, DType dt, void* out, const void* in, const ReduceLoop& loop, double p, cudaStream_t stream);
void arg_reduce(ReduceOp op, DType dt, void* values, int64_t* indices, const void* in, const ReduceLoop& loop,
                cudaStream_t stream);
void var_mean(DType dt, void* var, void* mean, const void* in, const ReduceLoop& loop, int64_t correction,
              cudaStream_t stream);

// ---- softmax.cu ----
void softmax(DType dt, void* out, const void* in, int64_t outer, int64_t dim, int64_t inner, bool log,
             cudaStream_t stream);
void softmax_backward(DType dt, void* grad_in, const void* grad_out, const void* out, int64_t outer, int64_t dim,
                      int64_t inner, bool log, cudaStream_t stream);

// ---- matmul.cu ---- (cuBLAS; TF32 math only when allow_tf32)
void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
          int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
          int64_t ldc, int64_t stride_c, int64_t batch, bool allow_tf32, cudaStream_t stream);

// ---- index.cu ----
// A bad index sets *error_flag (device memory) to 1 and the element is skipped
// (outputs get 0); the caller raises IndexError at its next sync point.
void index_select(DType dt, void* out, const void* in, const int64_t* index, int64_t n_index, int64_t outer,
                  int64_t in_dim, int64_t inner, int* error_flag, cudaStream_t stream);
void gather(DType dt, void* out, const void* in, const int64_t* index, const ElementwiseLoop& loop,
            int64_t in_dim_stride, int64_t in_dim_size, int* error_flag, cudaStream_t stream);
void scatter_add(DType dt, void* self, const void* src, const int64_t* index, const ElementwiseLoop& loop,
                 int64_t self_dim_stride, int64_t self_dim_size, int* error_flag, cudaStream_t stream);

// ---- random.cu ----
void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi, cudaStream_t stream);
void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std,
            cudaStream_t stream);
void randint(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high,
             cudaStream_t stream);

}  // namespace loom::kernels::cuda
