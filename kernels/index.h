// Indexing kernels (index_select, gather, scatter_add, scatter_reduce,
// nonzero, index_add / index_copy / index_fill): the contract
// of kernels/cpu/index.cpp and kernels/cuda/index.cu (see kernels/contract.h).
// The CPU kernels return the first bad index; the CUDA ones set the caller's
// device error flag.
#pragma once
#include <limits>

#include "kernels/contract.h"
#include "kernels/loops.h"

#if defined(__CUDACC__)
#define LOOM_INDEX_HD __host__ __device__ __forceinline__
#else
#define LOOM_INDEX_HD inline
#endif

namespace loom::kernels {

// The reductions of scatter_reduce (torch.Tensor.scatter_reduce's `reduce`).
enum class ScatterReduce : int8_t { Sum, Prod, Mean, Amax, Amin };

// The value a reduction starts from without self: 0, 1, lowest (-inf), highest (inf).
template <typename T>
LOOM_INDEX_HD T scatter_identity(ScatterReduce op) {
  using lim = std::numeric_limits<T>;
  switch (op) {
    case ScatterReduce::Prod: return T(1);
    case ScatterReduce::Amax: return lim::has_infinity ? -lim::infinity() : lim::lowest();
    case ScatterReduce::Amin: return lim::has_infinity ? lim::infinity() : lim::max();
    default: return T(0);
  }
}

namespace cpu {

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
// shape: 0 self (stride along dim set to 0), 1 src, 2 index. self must not
// overlap itself: positions that differ outside dim then never name the same
// element, and the kernel runs them in parallel (each target's additions
// stay in order: the serial result, deterministic).
int64_t scatter_add(DType dt, void* self, const void* src, const int64_t* index, const ElementwiseLoop& loop,
                    int64_t self_dim_stride, int64_t self_dim_size);
// self[p with dim coordinate index[p]] = op(that element, src[p]); operands
// as scatter_add. include_self = false: each element the index names first
// takes op's identity (0, 1, 0, lowest or -inf, highest or inf). Sum and Mean
// add (bool: or), Prod multiplies (bool: and), Amax / Amin keep the larger /
// smaller value, NaN winning. Mean also adds 1 to count (self's dtype, laid out
// like self) per value; the caller divides. Returns -1 or the flat position of
// the first bad index; nothing is written then.
int64_t scatter_reduce(DType dt, ScatterReduce op, bool include_self, void* self, void* count, const void* src,
                       const int64_t* index, const ElementwiseLoop& loop, int64_t self_dim_stride,
                       int64_t self_dim_size);
// The row writes, on a contiguous self [outer, self_dim, inner] with a
// contiguous source [outer, n_index, inner] and index [n_index]:
//   index_add:  self[o, index[j], i] += alpha * src[o, j, i]   (bool: or)
//   index_copy: self[o, index[j], i] = src[o, j, i]             (a repeated
//               index: the last j's row)
//   index_fill: self[o, index[j], i] = value; an index in [-self_dim, 0)
//               counts from the end (as PyTorch's index_fill)
// alpha and value point to one element of self's dtype in host memory (the
// front end converts: int64 values stay exact). Every element's updates run
// in j order (deterministic). Returns -1 or the position of the first bad index
// (outside [0, self_dim)); nothing is written then.
int64_t index_add(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
                  int64_t self_dim, int64_t inner, const void* alpha);
int64_t index_copy(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
                   int64_t self_dim, int64_t inner);
int64_t index_fill(DType dt, void* self, const int64_t* index, int64_t n_index, int64_t outer, int64_t self_dim,
                   int64_t inner, const void* value);
// Contiguous bool mask of n elements -> writes the flat positions of true
// elements into out (capacity n) and returns how many.
int64_t nonzero_flat(const bool* mask, int64_t n, int64_t* out);

}  // namespace cpu

namespace cuda {

// A bad index sets *error_flag (device memory) to 1 and the element is skipped
// (outputs get 0); the caller raises IndexError at its next sync point.
void index_select(DType dt, void* out, const void* in, const int64_t* index, int64_t n_index, int64_t outer,
                  int64_t in_dim, int64_t inner, int* error_flag, cudaStream_t stream);
void gather(DType dt, void* out, const void* in, const int64_t* index, const ElementwiseLoop& loop,
            int64_t in_dim_stride, int64_t in_dim_size, int* error_flag, cudaStream_t stream);
void scatter_add(DType dt, void* self, const void* src, const int64_t* index, const ElementwiseLoop& loop,
                 int64_t self_dim_stride, int64_t self_dim_size, int* error_flag, cudaStream_t stream);
// As the CPU twin (int32, int64, float32, float64), with atomics: Sum and Mean
// add in a varying order; Prod, Amax and Amin use compare-and-swap loops.
void scatter_reduce(DType dt, ScatterReduce op, bool include_self, void* self, void* count, const void* src,
                    const int64_t* index, const ElementwiseLoop& loop, int64_t self_dim_stride, int64_t self_dim_size,
                    int* error_flag, cudaStream_t stream);

// As the CPU twins, every dtype: index_add adds with atomics (bool: a plain
// store of true), so floating sums vary in order run to run; index_copy with
// a repeated index keeps one of the rows (unspecified which, as PyTorch).
// A first kernel checks the n_index indices; the writes skip once the flag
// is set, so a bad index leaves self untouched.
void index_add(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
               int64_t self_dim, int64_t inner, const void* alpha, int* error_flag, cudaStream_t stream);
void index_copy(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
                int64_t self_dim, int64_t inner, int* error_flag, cudaStream_t stream);
void index_fill(DType dt, void* self, const int64_t* index, int64_t n_index, int64_t outer, int64_t self_dim,
                int64_t inner, const void* value, int* error_flag, cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
