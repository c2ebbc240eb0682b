// Scans and sorts along one dim: the contract of kernels/cpu/sort.cpp and
// kernels/cuda/sort.cu (see kernels/contract.h).
//
// A contiguous tensor is seen as Lines {outer, n, inner}: element k of line
// (o, i) sits at (o * n + k) * inner + i. Scans run along k with any inner;
// sorts take inner == 1 (the front end moves the sorted dim last).
//
// Order of a sort: ascending or descending, NaN counted as larger than every
// number (last ascending, first descending, as PyTorch), ties kept in input
// order (stable), so values and indices are fully determined.
#pragma once
#include "kernels/contract.h"

namespace loom::kernels {

struct Lines {
  int64_t outer = 1, n = 1, inner = 1;
  int64_t numel() const { return outer * n * inner; }
};

// Inclusive scans. Sum and Prod take int64, float32 and float64 (float32 is
// accumulated in double on the CPU, in float on CUDA); Max and Min take
// int32, int64, float32 and float64 and write the int64 index of the running
// extreme (the latest one on ties; a NaN wins and stays, as PyTorch's
// cummax). LogSumExp (float32, float64): log(exp(a) + exp(b)) as a running
// value, computed as max + log1p(exp(-|a - b|)) so nothing overflows; -inf
// is its identity, +inf absorbs, NaN propagates. reverse: from the end of
// each line (Sum and LogSumExp: cumsum's and logcumsumexp's gradients).
enum class ScanOp : int8_t { Sum, Prod, Max, Min, LogSumExp };

namespace cpu {

void scan(ScanOp op, DType dt, void* out, int64_t* indices, const void* in, Lines s, bool reverse = false);
// cumprod's input gradient, exact with zeros in x: gx[k] = P[k] * S[k], P[k]
// the product of x[0..k-1] and S[k] = g[k] + x[k+1] * S[k+1]. float32/float64.
void cumprod_backward(DType dt, void* gx, const void* g, const void* x, Lines s);
// Lines of inner == 1 sorted into values (dtype dt) and indices; every dtype.
void sort(DType dt, void* values, int64_t* indices, const void* in, Lines s, bool descending);
// The first k of each line's sort: values and indices are [outer, k].
void topk(DType dt, void* values, int64_t* indices, const void* in, Lines s, int64_t k, bool largest);
// searchsorted: out[r * m + j] is where values[r * m + j] would go in boundary row `shared ? 0 : r` (n
// ascending values, row-major): the first position p with row[p] >= v (right: row[p] > v), n if none, by
// a binary search that moves right while that test is false, as PyTorch's, so a NaN value lands after
// every boundary. rows * m values; int32, int64, float32, float64.
void searchsorted(DType dt, int64_t* out, const void* boundaries, const void* values, int64_t rows, int64_t n,
                  int64_t m, bool shared, bool right);

}  // namespace cpu

namespace cuda {

// inner == 1: a block of threads per line (long lines) or a warp per line
// (short ones), each sweeping its line in chunks with a running carry;
// inner > 1: a thread per (o, i) column, coalesced across i.
void scan(ScanOp op, DType dt, void* out, int64_t* indices, const void* in, Lines s, bool reverse, cudaStream_t stream);
// A thread per (o, i) column, two sweeps.
void cumprod_backward(DType dt, void* gx, const void* g, const void* x, Lines s, cudaStream_t stream);
// Bitonic sort of (value, index) pairs, each line padded to a power of two.
// Lines of up to kSortTile padded elements sort in shared memory, several
// per block; longer ones go through `workspace` (sort_workspace_bytes) with
// global merge steps between shared-memory stages.
constexpr int64_t kSortTile = 2048;
size_t sort_workspace_bytes(DType dt, Lines s);
void sort(DType dt, void* values, int64_t* indices, const void* in, Lines s, bool descending, void* workspace,
          cudaStream_t stream);
// A thread per value, the CPU's binary search on the boundary row in global memory.
void searchsorted(DType dt, int64_t* out, const void* boundaries, const void* values, int64_t rows, int64_t n,
                  int64_t m, bool shared, bool right, cudaStream_t stream);

}  // namespace cuda
}  // namespace loom::kernels
