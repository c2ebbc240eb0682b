// The one way code above the kernel layer picks a device's kernel:
//
//   on_device(t.device(), "fill",
//             [&] { kernels::cpu::fill(...); },
//             [&](cudaStream_t stream) { kernels::cuda::fill(..., stream); });
//
// runs the first callable for a CPU device and the second, with the device's
// current stream, for a CUDA one. In a build without CUDA the CUDA branch is
// compiled away (the kernel contract headers, kernels/<family>.h, declare the
// cuda:: kernels but nothing defines them) and a CUDA device raises
// "<op>: loom was built without CUDA". No #ifdef is needed at a call site.
#pragma once
#include "core/cuda.h"
#include "core/cuda_build.h"
#include "core/device.h"

typedef struct CUstream_st* cudaStream_t;  // as the CUDA runtime declares it

namespace loom {

// The stream the kernels of device d are enqueued on (its current stream).
inline cudaStream_t stream_of(const Device& d) { return static_cast<cudaStream_t>(cuda::current_stream(d.index)); }

template <typename CpuFn, typename CudaFn>
void on_device(const Device& dev, const char* op, CpuFn&& cpu_fn, CudaFn&& cuda_fn) {
  if (dev.is_cpu()) {
    cpu_fn();
  } else if constexpr (cuda::kBuiltWithCuda) {
    cuda_fn(stream_of(dev));
  } else {
    cuda::throw_no_cuda(op);
  }
}

}  // namespace loom
