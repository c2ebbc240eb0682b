// Pointwise kernels: the contract of kernels/cpu/pointwise.cpp and
// kernels/cuda/pointwise.cu (see kernels/contract.h). Operands are walked by
// an ElementwiseLoop (kernels/loops.h); the CPU loops run the innermost dim as
// a loop the compiler vectorizes and split large loops over loom's threads.
// Also lerp / addcmul / addcdiv (ternary), tril / triu (tri), the fills and the factories' arange / linspace.
#pragma once
#include "kernels/contract.h"
#include "kernels/loops.h"

namespace loom::kernels {

namespace cpu {

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
// out = op(a, b, c; s) (kernels/loops.h, TernaryOp). operands: 0 out, 1 a, 2 b, 3 c; c null (Lerp only):
// the weight is s, and the loop has 3 operands.
void ternary(TernaryOp op, DType dt, void* out, const void* a, const void* b, const void* c, double s,
             const ElementwiseLoop& loop);
// tril / triu of B contiguous [M, N] matrices: out[b, i, j] = in[b, i, j] where j - i <= k (lower) or
// j - i >= k (upper), else 0. in may be out (the kept part is then left as it is).
void tri(DType dt, void* out, const void* in, int64_t B, int64_t M, int64_t N, int64_t k, bool lower);
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

}  // namespace cpu

namespace cuda {

void unary(UnaryOp op, DType dt, void* out, const void* in, const ElementwiseLoop& loop, cudaStream_t stream);
void binary(BinaryOp op, DType dt, void* out, const void* a, const void* b, const ElementwiseLoop& loop,
            cudaStream_t stream);
void binary_scalar(BinaryOp op, DType dt, void* out, const void* a, double s, const ElementwiseLoop& loop,
                   cudaStream_t stream);
void where(DType dt, void* out, const bool* cond, const void* a, const void* b, const ElementwiseLoop& loop,
           cudaStream_t stream);
void clamp(DType dt, void* out, const void* in, bool has_lo, double lo, bool has_hi, double hi,
           const ElementwiseLoop& loop, cudaStream_t stream);
// One element per thread (kernels/cuda/pointwise_math.cu).
void ternary(TernaryOp op, DType dt, void* out, const void* a, const void* b, const void* c, double s,
             const ElementwiseLoop& loop, cudaStream_t stream);
void tri(DType dt, void* out, const void* in, int64_t B, int64_t M, int64_t N, int64_t k, bool lower,
         cudaStream_t stream);
void masked_fill(DType dt, void* out, const bool* mask, double value, const ElementwiseLoop& loop, cudaStream_t stream);
void copy(DType dst_dt, void* dst, DType src_dt, const void* src, const ElementwiseLoop& loop, cudaStream_t stream);
void fill(DType dt, void* out, double value, const ElementwiseLoop& loop, cudaStream_t stream);
void arange(DType dt, void* out, int64_t n, double start, double step, cudaStream_t stream);
void linspace(DType dt, void* out, int64_t n, double start, double end, cudaStream_t stream);
// The ops unary(), binary() and binary_scalar() do not vectorize (kernels/cuda/pointwise_math.cu: the
// less common math, the special functions, the rounded divisions, bitwise ops and shifts), one element per
// thread; those three call these. binary_math takes the tensor b, or the scalar s when b is null.
void unary_math(UnaryOp op, DType dt, void* out, const void* in, const ElementwiseLoop& loop, cudaStream_t stream);
void binary_math(BinaryOp op, DType dt, void* out, const void* a, const void* b, double s, const ElementwiseLoop& loop,
                 cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
