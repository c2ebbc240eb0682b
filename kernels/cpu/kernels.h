// CPU kernels: the reference twins of the CUDA kernels and the CPU path.
// All pointers already include storage offsets; strides are in elements.
// Multithreaded with OpenMP over independent outputs; inner loops are written
// so that the compiler vectorizes them on contiguous data.
#pragma once
#include <cstdint>
#include "core/dtype.h"
#include "kernels/loops.h"

namespace loom::kernels::cpu {

// ---- elementwise.cpp ----
// out and in have dtype dt (LogicalNot writes bool). loop operands: 0 out, 1 in.
void unary(UnaryOp op, DType dt, void* out, const void* in, const ElementwiseLoop& loop);
// a, b have dtype dt; out has dt, or bool for comparisons. operands: 0 out, 1 a, 2 b.
void binary(BinaryOp op, DType dt, void* out, const void* a, const void* b, const ElementwiseLoop& loop);
// out = a op s. operands: 0 out, 1 a.
void binary_scalar(BinaryOp op, DType dt, void* out, const void* a, double s, const ElementwiseLoop& loop);
// out = cond ? a : b. operands: 0 out, 1 cond (bool), 2 a, 3 b.
void where(DType dt, void* out, const bool* cond, const void* a, const void* b, const ElementwiseLoop& loop);
// operands: 0 out, 1 in. A missing bound is +-infinity.
void clamp(DType dt, void* out, const void* in, bool has_lo, double lo, bool has_hi, double hi,
           const ElementwiseLoop& loop);
// out[i] = value where mask. operands: 0 out (read-write), 1 mask (bool).
void masked_fill(DType dt, void* out, const bool* mask, double value, const ElementwiseLoop& loop);
// Strided copy with dtype conversion. operands: 0 dst, 1 src.
void copy(DType dst_dt, void* dst, DType src_dt, const void* src, const ElementwiseLoop& loop);
// operands: 0 out.
void fill(DType dt, void* out, double value, const ElementwiseLoop& loop);
// Contiguous out[i] = start + i * step.
void arange(DType dt, void* out, int64_t n, double start, double step);
// Contiguous out[i] = start + i * (end - start) / (n - 1), the last value exactly end.
void linspace(DType dt, void* out, int64_t n, double start, double end);

// ---- reduce.cpp ----
// out and in have dtype dt. Mean divides by red_numel; Norm uses `p`
// (p = inf is max |x|, p = 0 counts non-zeros). Empty reductions give the
// identity (0 for sum, 1 for prod); front ends reject empty max/min.
void reduce(ReduceOp op, DType dt, void* out, const void* in, const ReduceLoop& loop, double p = 0);
// Max or Min with the index (int64, position within the flattened reduced
// dims, first occurrence; NaN wins). values may be null.
void arg_reduce(ReduceOp op, DType dt, void* values, int64_t* indices, const void* in, const ReduceLoop& loop);
// Variance (divided by red_numel - correction) and mean, Welford; mean may be null.
void var_mean(DType dt, void* var, void* mean, const void* in, const ReduceLoop& loop, int64_t correction);
// out[c] = sum over n < N, s < S of x[(n*C + c)*S + s] (float32 / float64, a
// contiguous [N, C, S]; each plane a simd sum, planes added in double): the
// conv bias gradient, and the twin of kernels/cuda/channel_reduce.h.
void channel_sum(DType dt, void* out, const void* x, int64_t N, int64_t C, int64_t S);

// ---- softmax.cpp ----
// Contiguous [outer, dim, inner]; log selects log_softmax.
void softmax(DType dt, void* out, const void* in, int64_t outer, int64_t dim, int64_t inner, bool log);
// grad_in = y * (g - sum(g*y)) for softmax, g - exp(y) * sum(g) for log_softmax.
void softmax_backward(DType dt, void* grad_in, const void* grad_out, const void* out, int64_t outer, int64_t dim,
                      int64_t inner, bool log);

// ---- matmul.cpp ----
// Row-major C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], op = transpose
// when trans_*; lda/ldb/ldc are row strides, stride_* batch strides (elements).
// Float types use OpenBLAS; integer types a plain loop.
void gemm(DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
          int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
          int64_t ldc, int64_t stride_c, int64_t batch);

// ---- index.cpp ----
// Contiguous in [outer, in_dim, inner] -> out [outer, n_index, inner].
// Returns -1, or the position of the first index outside [0, in_dim)
// (PyTorch rejects negative indices here); nothing is written then.
int64_t index_select(DType dt, void* out, const void* in, const int64_t* index, int64_t n_index, int64_t outer,
                     int64_t in_dim, int64_t inner);
// out[p] = in[p with dim coordinate replaced by index[p]]. operands over the
// index shape: 0 out, 1 in (stride along `dim` set to 0), 2 index (int64).
// Returns -1 or the flat position of the first bad index.
int64_t gather(DType dt, void* out, const void* in, const int64_t* index, const ElementwiseLoop& loop,
               int64_t in_dim_stride, int64_t in_dim_size);
// self[p with dim coordinate index[p]] += src[p]. operands over the index
// shape: 0 self (stride along dim set to 0), 1 src, 2 index.
int64_t scatter_add(DType dt, void* self, const void* src, const int64_t* index, const ElementwiseLoop& loop,
                    int64_t self_dim_stride, int64_t self_dim_size);
// Contiguous bool mask of n elements -> writes the flat positions of true
// elements into out (capacity n) and returns how many.
int64_t nonzero_flat(const bool* mask, int64_t n, int64_t* out);

// ---- random.cpp ---- (counter-based Philox, see core/philox.h)
// Element i of a call draws from counter (offset + i / 4), lane i % 4 (uniform,
// randint) or from the Box-Muller pair in lanes (0,1) / (2,3) (normal).
// Values: uniform fma(u, hi - lo, lo) in double with u = to_unit_float (float32)
// or to_unit_double (float64), rounded to dt and kept below hi; normal
// fma(normal_at(...), std, mean) in double, rounded; randint low + lane % (high -
// low), high - low <= 2^32. The explicit fma keeps CPU and CUDA bit-identical.
void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi);
void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std);
void randint(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, int64_t high);

}  // namespace loom::kernels::cpu
