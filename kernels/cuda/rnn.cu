// CUDA LSTM / GRU / Elman pointwise step kernels: the twins of kernels/cpu/rnn.cpp
// (math, layouts, saved activations and padding rules in kernels/rnn.h).
// One thread per (b, j) of the [B, H] step, grid-stride; consecutive threads
// take consecutive j, so every gate row, state row and output row is read and
// written coalesced. Each thread owns its (b, j) elements of every buffer
// (the in-place dh / dc carries included): no shared memory, no races. The
// step is memory-bound (~10 reads and ~8 writes of H floats per row); the
// GEMMs around it go through cuBLAS (kernels/cuda/matmul.cu). float32 uses
// expf / tanhf (not the __expf intrinsics) to stay close to the CPU twin.
#include "kernels/cuda/common.cuh"
#include "kernels/rnn.h"

namespace loom::kernels::cuda {
namespace {

__device__ __forceinline__ float sigmoid_(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ double sigmoid_(double x) { return 1.0 / (1.0 + exp(-x)); }
__device__ __forceinline__ float tanh_(float x) { return tanhf(x); }
__device__ __forceinline__ double tanh_(double x) { return tanh(x); }

__device__ __forceinline__ bool live(const int64_t* lengths, int64_t b, int64_t t) {
  return lengths == nullptr || t < lengths[b];
}

template <typename T, bool LSTM>
__global__ void rnn_step_forward_kernel(RnnStepForward a) {
  const int64_t H = a.H, n = a.B * H;
  const T* bi = static_cast<const T*>(a.b_ih);
  const T* bh = static_cast<const T*>(a.b_hh);
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n;
       idx += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t b = idx / H, j = idx - b * H;
    const T hp = static_cast<const T*>(a.h_prev)[b * a.ld_h_prev + j];
    T* hn = static_cast<T*>(a.h_next) + b * a.ld_h_next + j;
    T* out = a.out ? static_cast<T*>(a.out) + b * a.ld_out + j : nullptr;
    if (!live(a.lengths, b, a.t)) {
      *hn = hp;
      if (LSTM) static_cast<T*>(a.c_next)[b * a.ld_c_next + j] = static_cast<const T*>(a.c_prev)[b * a.ld_c_prev + j];
      if (out) *out = T(0);
      continue;
    }
    const T* x = static_cast<const T*>(a.xw) + b * a.ld_xw + j;
    const T* hw = static_cast<const T*>(a.hw) + b * (LSTM ? 4 : 3) * H + j;
    T* s = a.saved ? static_cast<T*>(a.saved) + b * a.ld_saved + j : nullptr;
    T h;
    if (LSTM) {
      const T gi = sigmoid_(x[0] + bi[j] + hw[0] + bh[j]);
      const T gf = sigmoid_(x[H] + bi[H + j] + hw[H] + bh[H + j]);
      const T gg = tanh_(x[2 * H] + bi[2 * H + j] + hw[2 * H] + bh[2 * H + j]);
      const T go = sigmoid_(x[3 * H] + bi[3 * H + j] + hw[3 * H] + bh[3 * H + j]);
      const T c = gf * static_cast<const T*>(a.c_prev)[b * a.ld_c_prev + j] + gi * gg;
      h = go * tanh_(c);
      static_cast<T*>(a.c_next)[b * a.ld_c_next + j] = c;
      if (s) {
        s[0] = gi;
        s[H] = gf;
        s[2 * H] = gg;
        s[3 * H] = go;
      }
    } else {
      const T r = sigmoid_(x[0] + bi[j] + hw[0] + bh[j]);
      const T z = sigmoid_(x[H] + bi[H + j] + hw[H] + bh[H + j]);
      const T hh = hw[2 * H] + bh[2 * H + j];
      const T nn = tanh_(x[2 * H] + bi[2 * H + j] + r * hh);
      h = nn + z * (hp - nn);
      if (s) {
        s[0] = r;
        s[H] = z;
        s[2 * H] = nn;
        s[3 * H] = hh;
      }
    }
    *hn = h;
    if (out) *out = h;
  }
}

template <typename T, bool LSTM>
__global__ void rnn_step_backward_kernel(RnnStepBackward a) {
  const int64_t H = a.H, n = a.B * H, G = LSTM ? 4 : 3;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n;
       idx += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t b = idx / H, j = idx - b * H;
    T* dgi = static_cast<T*>(a.d_gi) + b * a.ld_d_gi + j;
    T* dgh = static_cast<T*>(a.d_gh) + b * a.ld_d_gh + j;
    if (!live(a.lengths, b, a.t)) {  // dh, dc pass through unchanged
      for (int64_t g = 0; g < G; ++g) dgi[g * H] = T(0);
      if (!LSTM)
        for (int64_t g = 0; g < G; ++g) dgh[g * H] = T(0);
      continue;
    }
    const T* s = static_cast<const T*>(a.saved) + b * a.ld_saved + j;
    T* dh = static_cast<T*>(a.dh) + idx;
    const T dhj = *dh + (a.d_out ? static_cast<const T*>(a.d_out)[b * a.ld_d_out + j] : T(0));
    if (LSTM) {
      const T gi = s[0], gf = s[H], gg = s[2 * H], go = s[3 * H];
      const T cp = static_cast<const T*>(a.c_prev)[b * a.ld_c_prev + j];
      const T tc = tanh_(static_cast<const T*>(a.c_next)[b * a.ld_c_next + j]);
      T* dc = static_cast<T*>(a.dc) + idx;
      const T dct = *dc + dhj * go * (T(1) - tc * tc);
      dgi[0] = dct * gg * gi * (T(1) - gi);
      dgi[H] = dct * cp * gf * (T(1) - gf);
      dgi[2 * H] = dct * gi * (T(1) - gg * gg);
      dgi[3 * H] = dhj * tc * go * (T(1) - go);
      *dc = dct * gf;
      *dh = T(0);
    } else {
      const T r = s[0], z = s[H], nn = s[2 * H], hh = s[3 * H];
      const T hp = static_cast<const T*>(a.h_prev)[b * a.ld_h_prev + j];
      const T dn = dhj * (T(1) - z) * (T(1) - nn * nn);
      const T dz = dhj * (hp - nn) * z * (T(1) - z);
      const T dr = dn * hh * r * (T(1) - r);
      dgi[0] = dr;
      dgi[H] = dz;
      dgi[2 * H] = dn;
      dgh[0] = dr;
      dgh[H] = dz;
      dgh[2 * H] = dn * r;
      *dh = dhj * z;
    }
  }
}

// The Elman cell (RELU: relu, else tanh), one gate; saves h'.
template <typename T, bool RELU>
__global__ void elman_step_forward_kernel(RnnStepForward a) {
  const int64_t H = a.H, n = a.B * H;
  const T* bi = static_cast<const T*>(a.b_ih);
  const T* bh = static_cast<const T*>(a.b_hh);
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n;
       idx += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t b = idx / H, j = idx - b * H;
    T* out = a.out ? static_cast<T*>(a.out) + b * a.ld_out + j : nullptr;
    if (!live(a.lengths, b, a.t)) {
      static_cast<T*>(a.h_next)[b * a.ld_h_next + j] = static_cast<const T*>(a.h_prev)[b * a.ld_h_prev + j];
      if (out) *out = T(0);
      continue;
    }
    const T v = static_cast<const T*>(a.xw)[b * a.ld_xw + j] + bi[j] + static_cast<const T*>(a.hw)[idx] + bh[j];
    const T h = RELU ? (v < T(0) ? T(0) : v) : tanh_(v);
    static_cast<T*>(a.h_next)[b * a.ld_h_next + j] = h;
    if (a.saved) static_cast<T*>(a.saved)[b * a.ld_saved + j] = h;
    if (out) *out = h;
  }
}

template <typename T, bool RELU>
__global__ void elman_step_backward_kernel(RnnStepBackward a) {
  const int64_t H = a.H, n = a.B * H;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n;
       idx += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t b = idx / H, j = idx - b * H;
    T* dg = static_cast<T*>(a.d_gi) + b * a.ld_d_gi + j;
    if (!live(a.lengths, b, a.t)) {  // dh passes through unchanged
      *dg = T(0);
      continue;
    }
    const T h = static_cast<const T*>(a.saved)[b * a.ld_saved + j];
    T* dh = static_cast<T*>(a.dh) + idx;
    const T dhj = *dh + (a.d_out ? static_cast<const T*>(a.d_out)[b * a.ld_d_out + j] : T(0));
    *dg = RELU ? (h > T(0) ? dhj : T(0)) : dhj * (T(1) - h * h);
    *dh = T(0);
  }
}

}  // namespace

void rnn_step_forward(RnnCell cell, DType dt, const RnnStepForward& a, cudaStream_t stream) {
  LOOM_CHECK(a.B >= 0 && a.H >= 0, "rnn_step_forward: negative size B=", a.B, " H=", a.H);
  const int64_t n = a.B * a.H;
  if (n == 0) return;
  LOOM_DISPATCH_FLOAT(dt, "rnn_step_forward", [&] {
    if (cell == RnnCell::LSTM) rnn_step_forward_kernel<scalar_t, true><<<grid_for(n), kThreads, 0, stream>>>(a);
    else if (cell == RnnCell::GRU) rnn_step_forward_kernel<scalar_t, false><<<grid_for(n), kThreads, 0, stream>>>(a);
    else if (cell == RnnCell::Tanh) elman_step_forward_kernel<scalar_t, false><<<grid_for(n), kThreads, 0, stream>>>(a);
    else elman_step_forward_kernel<scalar_t, true><<<grid_for(n), kThreads, 0, stream>>>(a);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

void rnn_step_backward(RnnCell cell, DType dt, const RnnStepBackward& a, cudaStream_t stream) {
  LOOM_CHECK(a.B >= 0 && a.H >= 0, "rnn_step_backward: negative size B=", a.B, " H=", a.H);
  const int64_t n = a.B * a.H;
  if (n == 0) return;
  LOOM_DISPATCH_FLOAT(dt, "rnn_step_backward", [&] {
    if (cell == RnnCell::LSTM) rnn_step_backward_kernel<scalar_t, true><<<grid_for(n), kThreads, 0, stream>>>(a);
    else if (cell == RnnCell::GRU) rnn_step_backward_kernel<scalar_t, false><<<grid_for(n), kThreads, 0, stream>>>(a);
    else if (cell == RnnCell::Tanh)
      elman_step_backward_kernel<scalar_t, false><<<grid_for(n), kThreads, 0, stream>>>(a);
    else elman_step_backward_kernel<scalar_t, true><<<grid_for(n), kThreads, 0, stream>>>(a);
    LOOM_CUDA_KERNEL_CHECK();
  });
}

}  // namespace loom::kernels::cuda
