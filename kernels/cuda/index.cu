// Indexing kernels: index_select, gather, scatter_add, scatter_reduce, and the row writes index_add /
// index_copy / index_fill.
//   index_select: out[o, j, i] = in[o, index[j], i]   (contiguous [outer, dim, inner])
//   index_add:    self[o, index[j], i] += alpha * src[o, j, i]   (index_copy: =, index_fill: = value)
//   gather:       out[p] = in[p with its dim coordinate replaced by index[p]]
//   scatter_add:  self[p with dim coordinate index[p]] += src[p]
// A valid index lies in [0, size), as in the CPU twins (PyTorch rejects
// negative indices for these ops). A bad index cannot throw from a kernel: the thread sets
// *error_flag = 1 and skips the element (an output element gets 0), and the
// runtime raises IndexError at the next check_async_errors. scatter_add
// validates every index in a first kernel and the adding kernel does nothing
// once the flag is set, so a bad index leaves self untouched (as on the CPU).
//
// gather and scatter_add iterate the index shape through OffsetCalc (the
// front end zeroes the dim stride of the indexed operand, so the index adds
// index * dim_stride). scatter_add uses atomicAdd because several positions
// may name the same target: float/double natively, int32 as int, int64 as
// unsigned long long (two's complement addition is the same operation). The
// summation order, and so float rounding, varies run to run. scatter_reduce
// validates the same way, then (include_self = false) writes the reduction's
// identity to every named element (all writers of an element write the same
// value), then reduces: sum and mean with atomicAdd (mean counts into a
// second tensor laid out like self), prod, amax and amin with a
// compare-and-swap loop on the element's bits.
#include <cstring>
#include <limits>

#include "kernels/cuda/common.cuh"
#include "kernels/index.h"

namespace loom::kernels::cuda {

namespace {

__device__ __forceinline__ bool valid_index(int64_t ix, int64_t size) { return ix >= 0 && ix < size; }

template <typename T>
__global__ void index_select_kernel(T* out, const T* in, const int64_t* index, int64_t n_index, int64_t in_dim,
                                    int64_t inner, int64_t total, int* error_flag) {
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < total;
       p += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t i = p % inner;
    int64_t rest = p / inner;
    int64_t j = rest % n_index;
    int64_t o = rest / n_index;
    int64_t ix = index[j];
    if (!valid_index(ix, in_dim)) {
      atomicExch(error_flag, 1);
      out[p] = T(0);
      continue;
    }
    out[p] = in[(o * in_dim + ix) * inner + i];
  }
}

template <typename T>
struct GatherF {
  T* out;
  const T* in;
  const int64_t* index;
  int64_t dim_stride, dim_size;
  int* error_flag;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    int64_t ix = index[off[2]];
    if (!valid_index(ix, dim_size)) {
      atomicExch(error_flag, 1);
      out[off[0]] = T(0);
      return;
    }
    out[off[0]] = in[static_cast<int64_t>(off[1]) + ix * dim_stride];
  }
};

template <typename T>
__device__ __forceinline__ void atomic_add(T* p, T v) {
  if constexpr (std::is_same_v<T, int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  } else if constexpr (std::is_same_v<T, int32_t>) {
    atomicAdd(reinterpret_cast<int*>(p), static_cast<int>(v));
  } else {
    atomicAdd(p, v);
  }
}

struct ValidateF {
  const int64_t* index;
  int64_t dim_size;
  int* error_flag;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    if (!valid_index(index[off[2]], dim_size)) atomicExch(error_flag, 1);
  }
};

template <typename T>
struct ScatterAddF {
  T* self;
  const T* src;
  const int64_t* index;
  int64_t dim_stride, dim_size;
  int* error_flag;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    if (*error_flag) return;  // set by the validation pass (or an unreported earlier op)
    int64_t ix = index[off[2]];
    atomic_add(&self[static_cast<int64_t>(off[0]) + ix * dim_stride], src[off[1]]);
  }
};

template <typename T>
struct ScatterFillF {
  T* self;
  const int64_t* index;
  int64_t dim_stride;
  T value;
  int* error_flag;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    if (*error_flag) return;
    self[static_cast<int64_t>(off[0]) + index[off[2]] * dim_stride] = value;
  }
};

template <typename T, ScatterReduce op>
__device__ __forceinline__ T reduce_step(T dst, T v) {
  if constexpr (op == ScatterReduce::Prod) {
    return dst * v;
  } else {
    if constexpr (std::is_floating_point_v<T>)
      if (isnan(v)) return v;
    if constexpr (op == ScatterReduce::Amax) return dst < v ? v : dst;  // a NaN in dst stays
    else return v < dst ? v : dst;
  }
}

// *p = reduce_step(*p, v) atomically: compare-and-swap on the element's bits,
// leaving memory alone when the value would not change (most amax/amin steps).
template <typename T, ScatterReduce op>
__device__ void atomic_reduce(T* p, T v) {
  using U = std::conditional_t<sizeof(T) == 4, unsigned int, unsigned long long>;
  static_assert(sizeof(T) == sizeof(U), "4- and 8-byte elements only");
  U* word = reinterpret_cast<U*>(p);
  U seen = *reinterpret_cast<volatile U*>(word);
  while (true) {
    T cur;
    memcpy(&cur, &seen, sizeof(T));
    const T next = reduce_step<T, op>(cur, v);
    U bits;
    memcpy(&bits, &next, sizeof(T));
    if (bits == seen) return;
    const U before = atomicCAS(word, seen, bits);
    if (before == seen) return;
    seen = before;
  }
}

template <typename T, ScatterReduce op>
struct ScatterReduceF {
  T* self;
  T* count;
  const T* src;
  const int64_t* index;
  int64_t dim_stride;
  int* error_flag;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    if (*error_flag) return;
    const int64_t at = static_cast<int64_t>(off[0]) + index[off[2]] * dim_stride;
    if constexpr (op == ScatterReduce::Sum || op == ScatterReduce::Mean) {
      atomic_add(&self[at], src[off[1]]);
      if constexpr (op == ScatterReduce::Mean) atomic_add(&count[at], T(1));
    } else {
      atomic_reduce<T, op>(&self[at], src[off[1]]);
    }
  }
};

template <typename T, ScatterReduce op>
void launch_scatter_reduce(T* self, T* count, const T* src, const int64_t* index, const ElementwiseLoop& loop,
                           int64_t dim_stride, int* error_flag, cudaStream_t stream) {
  launch_offsets<3>(loop, ScatterReduceF<T, op>{self, count, src, index, dim_stride, error_flag}, stream);
}

// ---- the row writes: index_add / index_copy / index_fill ----
// One thread per element of the source rows [outer, n_index, inner] (grid-stride), positions split with
// 32-bit divisions when they fit. index_add adds with atomics (several j may name one row); bool adds
// store true where src and alpha are both true (the same value from every writer: no atomic needed).

enum class RowOp { Add, Copy, Fill };

__global__ void validate_rows_kernel(const int64_t* index, int64_t n_index, int64_t lo, int64_t self_dim,
                                     int* error_flag) {
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n_index;
       j += static_cast<int64_t>(blockDim.x) * gridDim.x)
    if (index[j] < lo || index[j] >= self_dim) atomicExch(error_flag, 1);
}

template <typename T, RowOp op, typename index_t>
__global__ void put_rows_kernel(T* self, const T* src, const int64_t* index, index_t n_index, index_t self_dim,
                                index_t inner, index_t total, T a, const int* error_flag) {
  if (*error_flag) return;  // a bad index (or an unreported earlier error): leave self alone
  for (index_t p = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < total;
       p += static_cast<index_t>(blockDim.x) * gridDim.x) {
    const index_t row = p / inner, i = p - row * inner;
    const index_t o = row / n_index, j = row - o * n_index;
    int64_t k = index[j];
    if (k < 0) k += self_dim;
    T* dst = self + (static_cast<int64_t>(o) * self_dim + k) * inner + i;
    if constexpr (op == RowOp::Fill) {
      *dst = a;
    } else if constexpr (op == RowOp::Copy) {
      *dst = src[p];
    } else if constexpr (std::is_same_v<T, bool>) {
      if (src[p] && a) *dst = true;
    } else {
      atomic_add(dst, static_cast<T>(a * src[p]));
    }
  }
}

template <RowOp op>
void launch_put_rows(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
                     int64_t self_dim, int64_t inner, const void* scalar, int* error_flag, cudaStream_t stream,
                     const char* name) {
  LOOM_CHECK(error_flag != nullptr, name, ": no device error flag");
  if (n_index <= 0) return;
  validate_rows_kernel<<<grid_for(n_index), kThreads, 0, stream>>>(index, n_index, op == RowOp::Fill ? -self_dim : 0,
                                                                   self_dim, error_flag);
  LOOM_CUDA_KERNEL_CHECK();
  const int64_t total = outer * n_index * inner;
  if (total <= 0) return;
  // 32-bit positions when every offset the kernel forms fits
  const bool narrow = outer * self_dim * inner < (int64_t(1) << 31) && total < (int64_t(1) << 31);
  LOOM_DISPATCH_ALL(dt, name, [&] {
    auto* s = static_cast<scalar_t*>(self);
    const auto* r = static_cast<const scalar_t*>(src);
    const scalar_t a = scalar ? *static_cast<const scalar_t*>(scalar) : scalar_t{};
    if (narrow)
      put_rows_kernel<scalar_t, op, int32_t><<<grid_for(total), kThreads, 0, stream>>>(
          s, r, index, static_cast<int32_t>(n_index), static_cast<int32_t>(self_dim), static_cast<int32_t>(inner),
          static_cast<int32_t>(total), a, error_flag);
    else
      put_rows_kernel<scalar_t, op, int64_t>
          <<<grid_for(total), kThreads, 0, stream>>>(s, r, index, n_index, self_dim, inner, total, a, error_flag);
    LOOM_CUDA_KERNEL_CHECK();
  });
}
}  // namespace

void index_select(DType dt, void* out, const void* in, const int64_t* index, int64_t n_index, int64_t outer,
                  int64_t in_dim, int64_t inner, int* error_flag, cudaStream_t stream) {
  LOOM_CHECK(error_flag != nullptr, "index_select: no device error flag");
  int64_t total = outer * n_index * inner;
  if (total <= 0) return;
  LOOM_DISPATCH_ALL(dt, "index_select", [&] {
    index_select_kernel<<<grid_for(total), kThreads, 0, stream>>>(static_cast<scalar_t*>(out),
                                                                  static_cast<const scalar_t*>(in), index, n_index,
                                                                  in_dim, inner, total, error_flag);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void gather(DType dt, void* out, const void* in, const int64_t* index, const ElementwiseLoop& loop,
            int64_t in_dim_stride, int64_t in_dim_size, int* error_flag, cudaStream_t stream) {
  LOOM_CHECK(error_flag != nullptr, "gather: no device error flag");
  LOOM_DISPATCH_ALL(dt, "gather", [&] {
    launch_offsets<3>(loop,
                      GatherF<scalar_t>{static_cast<scalar_t*>(out), static_cast<const scalar_t*>(in), index,
                                        in_dim_stride, in_dim_size, error_flag},
                      stream);
  });
}

void scatter_add(DType dt, void* self, const void* src, const int64_t* index, const ElementwiseLoop& loop,
                 int64_t self_dim_stride, int64_t self_dim_size, int* error_flag, cudaStream_t stream) {
  LOOM_CHECK(error_flag != nullptr, "scatter_add: no device error flag");
  LOOM_DISPATCH_NUMERIC(dt, "scatter_add", [&] {
    launch_offsets<3>(loop, ValidateF{index, self_dim_size, error_flag}, stream);
    launch_offsets<3>(loop,
                      ScatterAddF<scalar_t>{static_cast<scalar_t*>(self), static_cast<const scalar_t*>(src), index,
                                            self_dim_stride, self_dim_size, error_flag},
                      stream);
  });
}

void scatter_reduce(DType dt, ScatterReduce op, bool include_self, void* self, void* count, const void* src,
                    const int64_t* index, const ElementwiseLoop& loop, int64_t self_dim_stride, int64_t self_dim_size,
                    int* error_flag, cudaStream_t stream) {
  LOOM_CHECK(error_flag != nullptr, "scatter_reduce: no device error flag");
  LOOM_CHECK(op != ScatterReduce::Mean || count != nullptr, "scatter_reduce: mean needs a count");
  LOOM_DISPATCH_NUMERIC(dt, "scatter_reduce", [&] {
    auto* s = static_cast<scalar_t*>(self);
    auto* c = static_cast<scalar_t*>(count);
    const auto* r = static_cast<const scalar_t*>(src);
    launch_offsets<3>(loop, ValidateF{index, self_dim_size, error_flag}, stream);
    if (!include_self)
      launch_offsets<3>(
          loop, ScatterFillF<scalar_t>{s, index, self_dim_stride, scatter_identity<scalar_t>(op), error_flag}, stream);
    switch (op) {
      case ScatterReduce::Sum:
        launch_scatter_reduce<scalar_t, ScatterReduce::Sum>(s, c, r, index, loop, self_dim_stride, error_flag, stream);
        break;
      case ScatterReduce::Prod:
        launch_scatter_reduce<scalar_t, ScatterReduce::Prod>(s, c, r, index, loop, self_dim_stride, error_flag, stream);
        break;
      case ScatterReduce::Mean:
        launch_scatter_reduce<scalar_t, ScatterReduce::Mean>(s, c, r, index, loop, self_dim_stride, error_flag, stream);
        break;
      case ScatterReduce::Amax:
        launch_scatter_reduce<scalar_t, ScatterReduce::Amax>(s, c, r, index, loop, self_dim_stride, error_flag, stream);
        break;
      case ScatterReduce::Amin:
        launch_scatter_reduce<scalar_t, ScatterReduce::Amin>(s, c, r, index, loop, self_dim_stride, error_flag, stream);
        break;
    }
  });
}

void index_add(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
               int64_t self_dim, int64_t inner, const void* alpha, int* error_flag, cudaStream_t stream) {
  launch_put_rows<RowOp::Add>(dt, self, src, index, n_index, outer, self_dim, inner, alpha, error_flag, stream,
                              "index_add");
}

void index_copy(DType dt, void* self, const void* src, const int64_t* index, int64_t n_index, int64_t outer,
                int64_t self_dim, int64_t inner, int* error_flag, cudaStream_t stream) {
  launch_put_rows<RowOp::Copy>(dt, self, src, index, n_index, outer, self_dim, inner, nullptr, error_flag, stream,
                               "index_copy");
}

void index_fill(DType dt, void* self, const int64_t* index, int64_t n_index, int64_t outer, int64_t self_dim,
                int64_t inner, const void* value, int* error_flag, cudaStream_t stream) {
  launch_put_rows<RowOp::Fill>(dt, self, nullptr, index, n_index, outer, self_dim, inner, value, error_flag, stream,
                               "index_fill");
}

}  // namespace loom::kernels::cuda
