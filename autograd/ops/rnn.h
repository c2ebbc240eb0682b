// LSTM, GRU and the Elman RNN (tanh or relu): single cells and whole sequences (several layers,
// bidirectional, initial states, per-sample lengths), with weights in
// PyTorch's layout so that PyTorch checkpoints load unchanged:
//   LSTM w_ih [4H, I], w_hh [4H, H], b_ih, b_hh [4H], gates i, f, g, o
//   GRU  w_ih [3H, I], w_hh [3H, H], b_ih, b_hh [3H], gates r, z, n
//   RNN  w_ih [H, I], w_hh [H, H], b_ih, b_hh [H]: h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)
// (b_hn inside r * (W_hn h + b_hn), as PyTorch). Each layer and direction of a
// sequence is one autograd node (see autograd/ops/rnn.cpp and
// kernels/rnn.h for the design). Backward is first order only.
#pragma once
#include <tuple>

#include "core/tensor.h"

namespace loom {

// input [B, I] (or [I]); hx, cx [B, H] (or [H]; undefined = zeros); biases
// may be undefined. Returns (h', c').
std::tuple<Tensor, Tensor> lstm_cell(const Tensor& input, const Tensor& hx, const Tensor& cx, const Tensor& w_ih,
                                     const Tensor& w_hh, const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());
Tensor gru_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());
Tensor rnn_tanh_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());
Tensor rnn_relu_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());

struct RnnOutput {
  Tensor output;  // [B, T, D*H] (batch_first) or [T, B, D*H]; 0 past each length
  Tensor h_n;     // [num_layers * D, B, H]
  Tensor c_n;     // LSTM only, like h_n; undefined for the GRU and the RNN
};

// input [B, T, I] (batch_first) or [T, B, I], or [T, I] unbatched (states
// then [num_layers * D, H]); h0 / c0 [num_layers * D, B, H] or undefined (zeros); params in PyTorch's order: per layer,
// per direction (forward, then reverse) w_ih, w_hh and, when has_biases, b_ih, b_hh. lengths: optional int64 [B]
// (values in [0, T], any device): a sample's state is frozen from step lengths[b] on (the reverse direction starts at
// lengths[b] - 1), as packed sequences.
RnnOutput lstm(const Tensor& input, const Tensor& h0, const Tensor& c0, const TensorList& params, bool has_biases,
               int64_t num_layers, bool bidirectional, bool batch_first, const Tensor& lengths = Tensor());
RnnOutput gru(const Tensor& input, const Tensor& h0, const TensorList& params, bool has_biases, int64_t num_layers,
              bool bidirectional, bool batch_first, const Tensor& lengths = Tensor());
// torch.rnn_tanh / torch.rnn_relu (nn.RNN's nonlinearity), as gru.
RnnOutput rnn_tanh(const Tensor& input, const Tensor& h0, const TensorList& params, bool has_biases, int64_t num_layers,
                   bool bidirectional, bool batch_first, const Tensor& lengths = Tensor());
RnnOutput rnn_relu(const Tensor& input, const Tensor& h0, const TensorList& params, bool has_biases, int64_t num_layers,
                   bool bidirectional, bool batch_first, const Tensor& lengths = Tensor());

}  // namespace loom
