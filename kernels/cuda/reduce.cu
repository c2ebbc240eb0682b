// Reductions over a ReduceLoop: out[o] = reduce_r in[o, r] for sum, mean,
// prod, max, min, logsumexp and p-norms; arg max/min; variance and mean.
//
// Each op is a Reducer: an accumulator type, its identity, map (one input
// element at reduced position r to an accumulator), an order-independent
// combine, and write (accumulator to outputs). Accumulators are double for
// floating sums (float inputs too), uint64 for integer sums and products
// (they wrap, as on the CPU), (max, scaled sum)
// for logsumexp, (value, index) for arg reductions, (n, mean, M2) Welford
// triples for var_mean. Arg combine breaks ties by the smaller index and lets
// NaN win, so the result matches the CPU's sequential first-occurrence rule
// however the work is split.
//
// Variants, chosen per call:
//   thread   one thread per output, looping over r: tiny reductions, and
//            outer reductions (reduced stride != 1) with many outputs, where
//            neighbouring threads read neighbouring outputs (coalesced).
//   block    one block per output, threads striding over r, then a
//            shared-memory tree: inner-contiguous reductions.
//   split    few outputs but a huge r: each output's range is cut into chunks
//            reduced by separate blocks into the caller's workspace
//            (reduce_workspace_bytes), then a second kernel combines the
//            chunks. Without a workspace the unsplit block path runs.
#include <cmath>
#include <limits>

#include "kernels/cuda/common.cuh"
#include "kernels/reduce.h"

namespace loom::kernels::cuda {

namespace {

constexpr int kBlock = 256;

__device__ __forceinline__ void out_offsets(const ReduceLoop& L, int64_t o, int64_t& out_off, int64_t& in_off) {
  out_off = 0;
  in_off = 0;
  for (int d = L.out_ndim - 1; d >= 0; --d) {
    int64_t q = o / L.out_sizes[d];
    int64_t i = o - q * L.out_sizes[d];
    o = q;
    out_off += i * L.out_strides[d];
    in_off += i * L.in_out_strides[d];
  }
}

__device__ __forceinline__ int64_t red_offset(const ReduceLoop& L, int64_t r) {
  if (L.red_ndim == 1) return r * L.red_strides[0];
  int64_t off = 0;
  for (int d = L.red_ndim - 1; d >= 0; --d) {
    int64_t q = r / L.red_sizes[d];
    off += (r - q * L.red_sizes[d]) * L.red_strides[d];
    r = q;
  }
  return off;
}

template <typename T>
__device__ __forceinline__ bool is_nan(T x) {
  return x != x;
}

// ---- reducers ----

template <typename T, typename acc_t>
struct SumR {  // Sum, Mean, Prod
  ReduceOp op;
  T* out;
  __device__ acc_t identity() const { return op == ReduceOp::Prod ? acc_t(1) : acc_t(0); }
  __device__ acc_t map(T x, int64_t) const {
    if constexpr (std::is_floating_point_v<T>) return static_cast<acc_t>(x);
    else return static_cast<acc_t>(static_cast<int64_t>(x));
  }
  __device__ acc_t combine(acc_t a, acc_t b) const { return op == ReduceOp::Prod ? a * b : a + b; }
  __device__ void write(int64_t off, acc_t a, int64_t n) const {
    if constexpr (std::is_floating_point_v<acc_t>) {
      if (op == ReduceOp::Mean) a = a / static_cast<acc_t>(n);
      out[off] = static_cast<T>(a);
    } else {
      out[off] = static_cast<T>(static_cast<int64_t>(a));
    }
  }
};

template <typename T>
struct MaxMinR {
  bool is_max;
  T* out;
  __device__ T identity() const {
    if constexpr (std::is_floating_point_v<T>)
      return is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else return is_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  __device__ T map(T x, int64_t) const { return x; }
  __device__ T combine(T a, T b) const {
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    return is_max ? (a > b ? a : b) : (a < b ? a : b);
  }
  __device__ void write(int64_t off, T a, int64_t) const { out[off] = a; }
};

struct LseAcc {
  double m, s;  // max so far, sum of exp(x - m)
};
template <typename T>
struct LseR {
  T* out;
  __device__ LseAcc identity() const { return {-INFINITY, 0.0}; }
  __device__ LseAcc map(T x, int64_t) const { return {static_cast<double>(x), 1.0}; }
  __device__ LseAcc combine(LseAcc a, LseAcc b) const {
    if (is_nan(a.m) || is_nan(b.m)) return {NAN, 1.0};
    if (a.m == b.m) return {a.m, a.s + b.s};  // includes both infinite
    if (a.m < b.m) return {b.m, b.s + a.s * exp(a.m - b.m)};
    return {a.m, a.s + b.s * exp(b.m - a.m)};
  }
  __device__ void write(int64_t off, LseAcc a, int64_t) const {
    out[off] = static_cast<T>(a.m == -INFINITY || a.m == INFINITY ? a.m : a.m + log(a.s));
  }
};

template <typename T>
struct NormR {
  double p;
  T* out;
  __device__ double identity() const { return p == -INFINITY ? INFINITY : 0.0; }
  __device__ double map(T x, int64_t) const {
    double a = fabs(static_cast<double>(x));
    if (p == 0) return a != 0 ? 1.0 : 0.0;
    if (p == 1 || isinf(p)) return a;  // +inf: max |x|, -inf: min |x|
    if (p == 2) return a * a;
    return pow(a, p);
  }
  __device__ double combine(double a, double b) const {
    if (p == INFINITY) return (is_nan(a) || a > b) ? a : b;
    if (p == -INFINITY) return (is_nan(a) || a < b) ? a : b;
    return a + b;
  }
  __device__ void write(int64_t off, double a, int64_t) const {
    double r = (p == 0 || p == 1 || isinf(p)) ? a : p == 2 ? sqrt(a) : pow(a, 1.0 / p);
    out[off] = static_cast<T>(r);
  }
};

template <typename T>
struct ArgAcc {
  T v;
  int64_t i;  // -1: empty
};
template <typename T>
struct ArgR {
  bool is_max;
  T* values;  // may be null
  int64_t* indices;
  __device__ ArgAcc<T> identity() const { return {T(0), -1}; }
  __device__ ArgAcc<T> map(T x, int64_t r) const { return {x, r}; }
  __device__ ArgAcc<T> combine(ArgAcc<T> a, ArgAcc<T> b) const {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    bool an = is_nan(a.v), bn = is_nan(b.v);
    if (an || bn) {
      if (an && bn) return a.i < b.i ? a : b;
      return an ? a : b;
    }
    if (a.v == b.v) return a.i < b.i ? a : b;
    return ((a.v > b.v) == is_max) ? a : b;
  }
  __device__ void write(int64_t off, ArgAcc<T> a, int64_t) const {
    if (values) values[off] = a.v;
    indices[off] = a.i < 0 ? 0 : a.i;
  }
};

struct WelfordAcc {
  double n, mean, m2;
};
template <typename T>
struct VarMeanR {
  int64_t correction;
  T* var;
  T* mean;  // may be null
  __device__ WelfordAcc identity() const { return {0.0, 0.0, 0.0}; }
  __device__ WelfordAcc map(T x, int64_t) const { return {1.0, static_cast<double>(x), 0.0}; }
  __device__ WelfordAcc combine(WelfordAcc a, WelfordAcc b) const {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    double n = a.n + b.n;
    double delta = b.mean - a.mean;
    return {n, a.mean + delta * (b.n / n), a.m2 + b.m2 + delta * delta * (a.n * b.n / n)};
  }
  __device__ void write(int64_t off, WelfordAcc a, int64_t n) const {
    double dof = static_cast<double>(n - correction);
    if (dof < 0) dof = 0;
    var[off] = static_cast<T>(a.m2 / dof);
    if (mean) mean[off] = static_cast<T>(n > 0 ? a.mean : NAN);
  }
};

// ---- kernels ----

template <typename T, typename R>
__global__ void reduce_thread_kernel(ReduceLoop L, const T* in, R red) {
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < L.out_numel;
       o += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t out_off, in_off;
    out_offsets(L, o, out_off, in_off);
    auto acc = red.identity();
    for (int64_t r = 0; r < L.red_numel; ++r) acc = red.combine(acc, red.map(in[in_off + red_offset(L, r)], r));
    red.write(out_off, acc, L.red_numel);
  }
}

// Shared-memory tree over a power-of-two block; thread 0 ends with the result.
template <typename R, typename A>
__device__ A block_combine(const R& red, A acc) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  A* sm = reinterpret_cast<A*>(smem_raw);
  sm[threadIdx.x] = acc;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sm[threadIdx.x] = red.combine(sm[threadIdx.x], sm[threadIdx.x + s]);
    __syncthreads();
  }
  return sm[0];
}

// Block (o = blockIdx.x, chunk g = blockIdx.y). With partial == null there is
// one chunk and the block writes the output; otherwise it writes its chunk's
// accumulator to partial[o * gridDim.y + g].
template <typename T, typename R, typename A>
__global__ void reduce_block_kernel(ReduceLoop L, const T* in, R red, int64_t chunk, A* partial) {
  int64_t o = blockIdx.x;
  int64_t out_off, in_off;
  out_offsets(L, o, out_off, in_off);
  int64_t r0 = static_cast<int64_t>(blockIdx.y) * chunk;
  int64_t r1 = r0 + chunk < L.red_numel ? r0 + chunk : L.red_numel;
  A acc = red.identity();
  for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x)
    acc = red.combine(acc, red.map(in[in_off + red_offset(L, r)], r));
  acc = block_combine(red, acc);
  if (threadIdx.x == 0) {
    if (partial) partial[o * gridDim.y + blockIdx.y] = acc;
    else red.write(out_off, acc, L.red_numel);
  }
}

template <typename R, typename A>
__global__ void reduce_partials_kernel(ReduceLoop L, const A* partial, int64_t nchunks, R red) {
  int64_t o = blockIdx.x;
  int64_t out_off, in_off;
  out_offsets(L, o, out_off, in_off);
  A acc = red.identity();
  for (int64_t g = threadIdx.x; g < nchunks; g += blockDim.x) acc = red.combine(acc, partial[o * nchunks + g]);
  acc = block_combine(red, acc);
  if (threadIdx.x == 0) red.write(out_off, acc, L.red_numel);
}

// Accumulators of every reduction fit in this many bytes (the workspace is
// sized for it, whatever the op).
constexpr size_t kMaxAccBytes = 32;

// Chunks each output's reduced range is split into (1: no split): only when
// the outputs alone cannot fill the GPU and each has plenty of work.
int64_t split_chunks(const ReduceLoop& L) {
  int64_t nchunks = 1;
  if (L.out_numel < 512 && L.red_numel >= 65536) {
    nchunks = L.red_numel / (kBlock * 16);
    int64_t cap = 2048 / L.out_numel;
    if (nchunks > cap) nchunks = cap;
    if (nchunks > 65535) nchunks = 65535;
  }
  return nchunks;
}

bool uses_thread_kernel(const ReduceLoop& L) {
  const bool inner_contig = L.red_strides[L.red_ndim - 1] == 1;
  return L.red_numel <= 16 || (!inner_contig && L.out_numel >= 2048);
}

template <typename T, typename R>
void run_reduce(const ReduceLoop& L, const T* in, R red, void* workspace, cudaStream_t stream) {
  using A = decltype(red.identity());
  static_assert(sizeof(A) <= kMaxAccBytes, "reduce: grow kMaxAccBytes");
  if (L.out_numel <= 0) return;
  if (uses_thread_kernel(L)) {
    reduce_thread_kernel<<<grid_for(L.out_numel), kThreads, 0, stream>>>(L, in, red);
    LOOM_CUDA_KERNEL_CHECK();
    return;
  }
  LOOM_CHECK(L.out_numel <= INT32_MAX, "reduce: too many outputs (", L.out_numel, ") for the CUDA kernel");
  size_t smem = kBlock * sizeof(A);
  const int64_t nchunks = workspace ? split_chunks(L) : 1;
  if (nchunks <= 1) {
    dim3 grid(static_cast<unsigned>(L.out_numel), 1);
    reduce_block_kernel<<<grid, kBlock, smem, stream>>>(L, in, red, L.red_numel, static_cast<A*>(nullptr));
    LOOM_CUDA_KERNEL_CHECK();
    return;
  }
  int64_t chunk = (L.red_numel + nchunks - 1) / nchunks;
  A* partial = static_cast<A*>(workspace);
  dim3 grid(static_cast<unsigned>(L.out_numel), static_cast<unsigned>(nchunks));
  reduce_block_kernel<<<grid, kBlock, smem, stream>>>(L, in, red, chunk, partial);
  LOOM_CUDA_KERNEL_CHECK();
  reduce_partials_kernel<<<static_cast<unsigned>(L.out_numel), kBlock, smem, stream>>>(L, partial, nchunks, red);
  LOOM_CUDA_KERNEL_CHECK();
}

}  // namespace

size_t reduce_workspace_bytes(const ReduceLoop& loop) {
  if (loop.out_numel <= 0 || uses_thread_kernel(loop)) return 0;
  const int64_t nchunks = split_chunks(loop);
  return nchunks > 1 ? kMaxAccBytes * static_cast<size_t>(loop.out_numel * nchunks) : 0;
}

void reduce(ReduceOp op, DType dt, void* out, const void* in, const ReduceLoop& loop, double p, cudaStream_t stream,
            void* workspace) {
  LOOM_CHECK_INDEX(loop.red_numel > 0 || loop.out_numel == 0 || (op != ReduceOp::Max && op != ReduceOp::Min),
                   "reduce: cannot reduce over an empty dimension (no identity)");
  switch (op) {
    case ReduceOp::Mean:
      LOOM_DISPATCH_FLOAT(dt, "mean", [&] {
        run_reduce(loop, static_cast<const scalar_t*>(in), SumR<scalar_t, double>{op, static_cast<scalar_t*>(out)},
                   workspace, stream);
      });
      break;
    case ReduceOp::Sum:
    case ReduceOp::Prod:
      LOOM_DISPATCH_NUMERIC(dt, "reduce", [&] {
        using acc_t = std::conditional_t<std::is_floating_point_v<scalar_t>, double, uint64_t>;
        run_reduce(loop, static_cast<const scalar_t*>(in), SumR<scalar_t, acc_t>{op, static_cast<scalar_t*>(out)},
                   workspace, stream);
      });
      break;
    case ReduceOp::Max:
    case ReduceOp::Min:
      LOOM_DISPATCH_NUMERIC(dt, "reduce", [&] {
        run_reduce(loop, static_cast<const scalar_t*>(in),
                   MaxMinR<scalar_t>{op == ReduceOp::Max, static_cast<scalar_t*>(out)}, workspace, stream);
      });
      break;
    case ReduceOp::LogSumExp:
      LOOM_DISPATCH_FLOAT(dt, "logsumexp", [&] {
        run_reduce(loop, static_cast<const scalar_t*>(in), LseR<scalar_t>{static_cast<scalar_t*>(out)}, workspace,
                   stream);
      });
      break;
    case ReduceOp::Norm:
      LOOM_DISPATCH_FLOAT(dt, "norm", [&] {
        run_reduce(loop, static_cast<const scalar_t*>(in), NormR<scalar_t>{p, static_cast<scalar_t*>(out)}, workspace,
                   stream);
      });
      break;
  }
}

void arg_reduce(ReduceOp op, DType dt, void* values, int64_t* indices, const void* in, const ReduceLoop& loop,
                cudaStream_t stream, void* workspace) {
  LOOM_CHECK(op == ReduceOp::Max || op == ReduceOp::Min, "arg_reduce: expected Max or Min");
  LOOM_CHECK_INDEX(loop.red_numel > 0 || loop.out_numel == 0, "arg_reduce: cannot reduce over an empty dimension");
  LOOM_DISPATCH_ALL(dt, "arg_reduce", [&] {
    run_reduce(loop, static_cast<const scalar_t*>(in),
               ArgR<scalar_t>{op == ReduceOp::Max, static_cast<scalar_t*>(values), indices}, workspace, stream);
  });
}

void var_mean(DType dt, void* var, void* mean, const void* in, const ReduceLoop& loop, int64_t correction,
              cudaStream_t stream, void* workspace) {
  LOOM_DISPATCH_FLOAT(dt, "var_mean", [&] {
    run_reduce(loop, static_cast<const scalar_t*>(in),
               VarMeanR<scalar_t>{correction, static_cast<scalar_t*>(var), static_cast<scalar_t*>(mean)}, workspace,
               stream);
  });
}

}  // namespace loom::kernels::cuda
