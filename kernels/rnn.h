// Fused pointwise parts of the LSTM, GRU and Elman (tanh / relu) cells: the contract of
// kernels/cpu/rnn.cpp and kernels/cuda/rnn.cu (see kernels/contract.h). The GEMMs
// around them (x W_ihᵀ for all steps, h W_hhᵀ per step, and the weight /
// input gradients) go through the ordinary gemm kernels; these kernels do
// everything between two GEMMs in one pass over [B, H].
//
// Math (PyTorch's equations and gate order; xw = x W_ihᵀ, hw = h W_hhᵀ):
//   LSTM, gates i f g o:  a = xw + b_ih + hw + b_hh
//     i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
//     c' = f c + i g,  h' = o tanh(c')
//   GRU, gates r z n:
//     r = σ(xw_r + b_ir + hw_r + b_hr), z = σ(xw_z + b_iz + hw_z + b_hz)
//     hn = hw_n + b_hn,  n = tanh(xw_n + b_in + r hn),  h' = (1 - z) n + z h
//   Elman (nn.RNN), one gate:  h' = act(xw + b_ih + hw + b_hh), act tanh or relu
// Saved for backward, [B, S*H] per step (S = rnn_saved(cell)): LSTM the
// activations i f g o; GRU r z n hn; Elman h' (act' from it: 1 - h'^2, or
// h' > 0). The LSTM also needs c_{t-1} and c_t, the GRU h_{t-1}: they are the
// state buffers the front end keeps anyway.
//
// Padding (lengths): a row b with t >= lengths[b] is frozen: h' = h, c' = c,
// its output is 0 and nothing is saved; in backward its gradients pass
// straight through to the previous state and its gate gradients are 0.
//
// Layouts: every per-row matrix is addressed as ptr + b * ld (ld in elements),
// so a step reads and writes rows of [B, T, *] or [T, B, *] buffers in place.
// The hw buffers and the dh / dc carries are contiguous [B, G*H] / [B, H].
// Biases are never null (the front end passes zeros when a layer has none).
//
// CUDA: device pointers; lengths, when given, is a device int64 array.
#pragma once
#include <cstdint>
#include "kernels/contract.h"

namespace loom::kernels {

enum class RnnCell { LSTM, GRU, Tanh, Relu };

inline int64_t rnn_gates(RnnCell cell) { return cell == RnnCell::LSTM ? 4 : cell == RnnCell::GRU ? 3 : 1; }
// Values saved per hidden unit and step.
inline int64_t rnn_saved(RnnCell cell) { return cell == RnnCell::LSTM || cell == RnnCell::GRU ? 4 : 1; }

struct RnnStepForward {
  int64_t B = 0, H = 0;
  const void* xw = nullptr;  // [B, G*H], ld_xw
  int64_t ld_xw = 0;
  const void* hw = nullptr;    // [B, G*H] contiguous
  const void* b_ih = nullptr;  // [G*H]
  const void* b_hh = nullptr;  // [G*H]
  const void* h_prev = nullptr;
  int64_t ld_h_prev = 0;
  const void* c_prev = nullptr;  // LSTM only
  int64_t ld_c_prev = 0;
  void* h_next = nullptr;
  int64_t ld_h_next = 0;
  void* c_next = nullptr;  // LSTM only
  int64_t ld_c_next = 0;
  void* out = nullptr;  // h' (0 on frozen rows); may be null
  int64_t ld_out = 0;
  void* saved = nullptr;  // [B, S*H], ld_saved; may be null (inference)
  int64_t ld_saved = 0;
  const int64_t* lengths = nullptr;  // [B] or null (every row live)
  int64_t t = 0;
};

struct RnnStepBackward {
  int64_t B = 0, H = 0;
  const void* saved = nullptr;
  int64_t ld_saved = 0;
  const void* h_prev = nullptr;  // GRU only
  int64_t ld_h_prev = 0;
  const void* c_prev = nullptr;  // LSTM only
  int64_t ld_c_prev = 0;
  const void* c_next = nullptr;  // LSTM only
  int64_t ld_c_next = 0;
  const void* d_out = nullptr;  // gradient of this step's output; may be null
  int64_t ld_d_out = 0;
  // [B, H] contiguous. In: gradient of h' from later steps (and h_n). Out: the
  // part of the gradient of h that does not go through W_hh (GRU z dh', frozen
  // rows dh', else 0); the front end then adds d_gh W_hh.
  void* dh = nullptr;
  void* dc = nullptr;  // LSTM: in gradient of c', out gradient of c
  // Gradient of the pre-activations fed by xw + b_ih ([B, G*H], ld_d_gi) and
  // by hw + b_hh (GRU only; for the LSTM and Elman both are the same matrix).
  void* d_gi = nullptr;
  int64_t ld_d_gi = 0;
  void* d_gh = nullptr;
  int64_t ld_d_gh = 0;
  const int64_t* lengths = nullptr;
  int64_t t = 0;
};

namespace cpu {

// Float32 uses a vectorizable exp (Cephes-style polynomial, ~1 ulp) for σ and
// tanh; float64 uses libm. Rows are split over the thread pool.
void rnn_step_forward(RnnCell cell, DType dt, const RnnStepForward& a);
void rnn_step_backward(RnnCell cell, DType dt, const RnnStepBackward& a);

}  // namespace cpu
}  // namespace loom::kernels

namespace loom::kernels::cuda {

void rnn_step_forward(RnnCell cell, DType dt, const RnnStepForward& a, cudaStream_t stream);
void rnn_step_backward(RnnCell cell, DType dt, const RnnStepBackward& a, cudaStream_t stream);

}  // namespace loom::kernels::cuda
