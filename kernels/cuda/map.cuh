// map(): the elementwise launch shared by kernels/cuda/pointwise.cu and kernels/cuda/activation.cu.
// out = f(a[, b]) over an ElementwiseLoop. When every operand is contiguous (one dim, stride 1) a thread
// maps kVec consecutive elements with one vector load/store per operand (16 bytes for float) when the
// pointers are aligned, then a scalar tail; any other loop (strided views, broadcasts with stride 0) goes
// through OffsetCalc (kernels/cuda/common.cuh), one element per thread in a grid-stride loop.
#pragma once
#include <cstdint>

#include "kernels/cuda/common.cuh"

namespace loom::kernels::cuda {

namespace {

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};
constexpr int kVec = 4;

template <int NIN, typename out_t, typename in_t, typename F>
__global__ void map_contig_kernel(out_t* out, const in_t* a, const in_t* b, int64_t n, bool vec, F f) {
  int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  int64_t nvec = vec ? n / kVec : 0;
  for (int64_t i = tid; i < nvec; i += stride) {
    Pack<in_t, kVec> pa, pb;
    if constexpr (NIN >= 1) pa = reinterpret_cast<const Pack<in_t, kVec>*>(a)[i];
    if constexpr (NIN >= 2) pb = reinterpret_cast<const Pack<in_t, kVec>*>(b)[i];
    Pack<out_t, kVec> po;
#pragma unroll
    for (int j = 0; j < kVec; ++j) {
      if constexpr (NIN == 0) po.v[j] = f();
      else if constexpr (NIN == 1) po.v[j] = f(pa.v[j]);
      else po.v[j] = f(pa.v[j], pb.v[j]);
    }
    reinterpret_cast<Pack<out_t, kVec>*>(out)[i] = po;
  }
  for (int64_t i = nvec * kVec + tid; i < n; i += stride) {
    if constexpr (NIN == 0) out[i] = f();
    else if constexpr (NIN == 1) out[i] = f(a[i]);
    else out[i] = f(a[i], b[i]);
  }
}

template <int NIN, typename out_t, typename in_t, typename F>
struct MapStrided {
  out_t* out;
  const in_t* a;
  const in_t* b;
  F f;
  template <typename index_t>
  __device__ void operator()(const index_t* off) const {
    if constexpr (NIN == 0) out[off[0]] = f();
    else if constexpr (NIN == 1) out[off[0]] = f(a[off[1]]);
    else out[off[0]] = f(a[off[1]], b[off[2]]);
  }
};

bool aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

// out = f(a[, b]) over the loop; NIN inputs share the type in_t.
template <int NIN, typename out_t, typename in_t, typename F>
void map(const ElementwiseLoop& loop, out_t* out, const in_t* a, const in_t* b, F f, cudaStream_t stream) {
  if (loop.numel <= 0) return;
  bool contig = loop.ndim == 1;
  for (int op = 0; op <= NIN; ++op) contig = contig && loop.strides[op][0] == 1;
  if (contig) {
    bool vec = aligned(out, sizeof(out_t) * kVec) && (NIN < 1 || aligned(a, sizeof(in_t) * kVec)) &&
               (NIN < 2 || aligned(b, sizeof(in_t) * kVec));
    int64_t work = vec ? (loop.numel + kVec - 1) / kVec : loop.numel;
    map_contig_kernel<NIN, out_t, in_t, F><<<grid_for(work), kThreads, 0, stream>>>(out, a, b, loop.numel, vec, f);
    LOOM_CUDA_KERNEL_CHECK();
  } else {
    launch_offsets<NIN + 1>(loop, MapStrided<NIN, out_t, in_t, F>{out, a, b, f}, stream);
  }
}

}  // namespace

}  // namespace loom::kernels::cuda
