// Indexing kernels: index_select, gather, scatter_add, scatter_reduce.
//   index_select: out[o, j, i] = in[o, index[j], i]   (contiguous [outer, dim, inner])
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

}  // namespace loom::kernels::cuda
