// Pooling kernels: the contract of kernels/cpu/pool.cpp and
// kernels/cuda/pool.cu (see kernels/contract.h). Layout [N, C, H, W]
// contiguous, seen as NC = N*C independent planes [H, W] -> [OH, OW]. Windows
// start at o*stride - pad and span kernel taps spaced by dilation (max
// pooling only). max_pool2d saves, for every output, the flat index
// ih*W + iw of its maximum inside the plane (int64, as PyTorch); NaN wins
// over any number. avg_pool2d divides by the window clipped to the padded
// input (count_include_pad) or to the input. adaptive_avg_pool2d and
// adaptive_max_pool2d use the window [floor(o*H/OH), ceil((o+1)*H/OH)); the
// adaptive max saves its argmax as max_pool2d does. float32 / float64.
#pragma once
#include <cstdint>
#include "kernels/contract.h"

namespace loom::kernels {

struct PoolParams {
  int64_t NC, H, W, OH, OW;
  int64_t kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
};

// PyTorch's pooling output size (ceil_mode drops a last window that would
// start inside the right padding).
inline int64_t pool_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil, bool ceil_mode) {
  const int64_t num = in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// 3-D pooling (max_pool3d, avg_pool3d): [N, C, D, H, W] contiguous as NC
// volumes [D, H, W] -> [OD, OH, OW], the 2-D rules along three axes. The max
// saves the flat index (id*H + ih)*W + iw inside the volume; the first maximum
// in (d, h, w) window order wins, and the first NaN. The average divides by
// `divisor` when it is positive (divisor_override), else by the window clipped
// to the padded input (count_include_pad) or to the input; its dilations are 1.
struct Pool3dParams {
  int64_t NC, D, H, W, OD, OH, OW;
  int64_t kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw;
};

namespace cpu {

// float32 / float64.
void max_pool3d_forward(DType dt, void* out, int64_t* indices, const void* in, const Pool3dParams& p);
// grad_in (overwritten) gets grad_out scattered to the saved indices.
void max_pool3d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const Pool3dParams& p);
void avg_pool3d_forward(DType dt, void* out, const void* in, const Pool3dParams& p, bool count_include_pad,
                        int64_t divisor);
void avg_pool3d_backward(DType dt, void* grad_in, const void* grad_out, const Pool3dParams& p, bool count_include_pad,
                         int64_t divisor);
void max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p);
// The values of max_pool2d_forward without the indices (a forward without autograd); a window with a
// NaN gives a NaN (not necessarily the window's first).
void max_pool2d_values(DType dt, void* out, const void* in, const PoolParams& p);
// grad_in (overwritten) gets grad_out scattered to the saved indices.
void max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const PoolParams& p);
void avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, bool count_include_pad);
void avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p, bool count_include_pad);
// Only NC, H, W, OH, OW of p are used.
void adaptive_avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p);
void adaptive_avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p);
void adaptive_max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p);
// grad_in (overwritten) = the sum of grad_out at each saved index (windows may overlap).
void adaptive_max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices,
                                  const PoolParams& p);

}  // namespace cpu
}  // namespace loom::kernels

namespace loom::kernels::cuda {

// The index width of a launch. Auto takes 32-bit index math whenever
// pool_fits_int32 holds (every element count <= 2^30, every window parameter
// <= 2^28) and 64-bit otherwise; Int64 forces the 64-bit kernels, which lets
// tests run them on small shapes.
enum class PoolIndex { Auto, Int64 };
bool pool_fits_int32(const PoolParams& p);

void max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p, cudaStream_t stream,
                        PoolIndex index = PoolIndex::Auto);
// grad_in is overwritten (every element written once; deterministic, no atomics).
void max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const PoolParams& p,
                         cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, bool count_include_pad,
                        cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p, bool count_include_pad,
                         cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void adaptive_avg_pool2d_forward(DType dt, void* out, const void* in, const PoolParams& p, cudaStream_t stream,
                                 PoolIndex index = PoolIndex::Auto);
void adaptive_avg_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const PoolParams& p,
                                  cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void adaptive_max_pool2d_forward(DType dt, void* out, int64_t* indices, const void* in, const PoolParams& p,
                                 cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
// A gather: each grad_in element sums, in row-major output order, grad_out of
// the outputs whose windows cover it and whose index is it (no atomics).
void adaptive_max_pool2d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices,
                                  const PoolParams& p, cudaStream_t stream, PoolIndex index = PoolIndex::Auto);

// 3-D pooling: a thread per output (forward); the backward passes gather, a
// thread per input element summing in output order over the windows that
// cover it (deterministic, no atomics, each grad_in element written once).
void max_pool3d_forward(DType dt, void* out, int64_t* indices, const void* in, const Pool3dParams& p,
                        cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void max_pool3d_backward(DType dt, void* grad_in, const void* grad_out, const int64_t* indices, const Pool3dParams& p,
                         cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void avg_pool3d_forward(DType dt, void* out, const void* in, const Pool3dParams& p, bool count_include_pad,
                        int64_t divisor, cudaStream_t stream, PoolIndex index = PoolIndex::Auto);
void avg_pool3d_backward(DType dt, void* grad_in, const void* grad_out, const Pool3dParams& p, bool count_include_pad,
                         int64_t divisor, cudaStream_t stream, PoolIndex index = PoolIndex::Auto);

}  // namespace loom::kernels::cuda
