// channel_sum: out[c] = sum_{n, s} x[(n*C + c)*S + s] over x [N, C, S], the
// conv bias gradient (x = dy, S = H*W). One block per channel would leave
// most of the GPU idle when C is small (C = 32 on 132 SMs); instead this is
// one launch of the split per-channel reduction of reduce_channel.cuh (rows
// or planes mode, chunks that fill two waves of the GPU, float4 / double2
// loads where S and x allow), plus a small finish kernel over the
// [C][splits] partials when a channel has more than one chunk. float32 sums
// in float, in the fixed order described there: each thread's sequential
// run is a few tree-summed batches of 8 values (longer only where C alone
// fills the GPU), joined by trees.
// This file also holds the launch plan that batch norm (norm.cu) shares.
#include <algorithm>
#include <atomic>

#include "kernels/cuda/reduce_channel.cuh"
#include "kernels/reduce.h"

namespace loom::kernels::cuda {

namespace {

// The SM count of the current device, read once per device.
int64_t sm_count() {
  constexpr int kMaxDevices = 64;
  static std::atomic<int> cached[kMaxDevices];
  int dev = 0;
  LOOM_CUDA_CHECK(cudaGetDevice(&dev));
  int n = dev < kMaxDevices ? cached[dev].load(std::memory_order_relaxed) : 0;
  if (n == 0) {
    LOOM_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
    if (dev < kMaxDevices) cached[dev].store(n, std::memory_order_relaxed);
  }
  return n;
}

template <typename T>
struct SumAcc {
  T s;
  static __device__ __forceinline__ SumAcc identity() { return {T(0)}; }
  static __device__ __forceinline__ SumAcc merge(const SumAcc& a, const SumAcc& b) { return {a.s + b.s}; }
  static __device__ __forceinline__ SumAcc shfl_xor(const SumAcc& a, int m) {
    return {__shfl_xor_sync(0xffffffffu, a.s, m)};
  }
};

template <typename T, int V>
struct ChannelSumOp {
  using Scalar = T;
  static constexpr int kV = V;
  using Acc = SumAcc<T>;
  using Item = ChannelVec<T, V>;
  struct Chan {};
  T* out;
  const T* x;

  __device__ __forceinline__ Chan channel(int64_t) const { return {}; }
  __device__ __forceinline__ void load(Item& it, int64_t u) const { it = reinterpret_cast<const Item*>(x)[u]; }
  template <int K>
  __device__ __forceinline__ void fold(Acc& a, const Chan&, const Item (&it)[K]) const {
    a.s += tree_sum<K>([&](int i) { return vec_sum(it[i]); });
  }
  __device__ __forceinline__ void finish(int64_t c, const Acc& a) const { out[c] = a.s; }
};

}  // namespace

ChannelPlan channel_plan(int64_t N, int64_t C, int64_t S, int blocks_per_sm) {
  ChannelPlan p;
  p.planes = S >= 1 && S <= kPlaneMaxS;
  p.cpb = p.planes ? std::max<int64_t>(1, std::min<int64_t>(C, kChannelThreads / S)) : 1;
  p.groups = (C + p.cpb - 1) / p.cpb;
  const int64_t target = 2 * blocks_per_sm * sm_count();
  const int64_t work = N * S * p.cpb;  // elements per group
  int64_t splits = p.groups >= target ? 1 : (target + p.groups - 1) / p.groups;
  splits = std::min(splits, work / kMinBlockElems);
  if (p.planes) splits = std::min(splits, N);  // chunks of whole rows
  p.splits = std::max<int64_t>(1, splits);
  return p;
}

size_t channel_sum_workspace_bytes(DType dt, int64_t N, int64_t C, int64_t S) {
  size_t bytes = 0;
  LOOM_DISPATCH_FLOAT(dt, "channel_sum",
                      [&] { bytes = channel_reduce_workspace_bytes<ChannelSumOp<scalar_t, 1>>(N, C, S); });
  return bytes;
}

void channel_sum(DType dt, void* out, const void* x, int64_t N, int64_t C, int64_t S, void* workspace,
                 cudaStream_t stream) {
  LOOM_DISPATCH_FLOAT(dt, "channel_sum", [&] {
    using T = scalar_t;
    with_channel_vec<T>(S, {x}, [&](auto v) {
      constexpr int V = decltype(v)::value;
      launch_channel_reduce("channel_sum", ChannelSumOp<T, V>{static_cast<T*>(out), static_cast<const T*>(x)}, N, C, S,
                            workspace, stream);
    });
  });
}

}  // namespace loom::kernels::cuda
