// RNN (tanh / relu), LSTM, GRU (multi-layer, bidirectional, batch_first, inter-layer dropout), RNNCell,
// LSTMCell, GRUCell with PyTorch's
// parameter names (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse) and init U(-1/sqrt(H), 1/sqrt(H)).
#pragma once
#include <string>
#include <tuple>

#include "autograd/ops/rnn.h"
#include "nn/module.h"

namespace loom::nn {

class RNNBase : public Module {
 public:
  TensorList flat_weights() const;  // PyTorch's order: per layer, per direction, w_ih, w_hh, b_ih, b_hh
  void reset_parameters();
  std::string extra_repr() const override;
  const int64_t input_size, hidden_size, num_layers;
  const bool bias, batch_first;
  const double dropout;
  const bool bidirectional;

 protected:
  RNNBase(const char* name, int64_t gates, int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias,
          bool batch_first, double dropout, bool bidirectional, const TensorOptions& opts);
  std::vector<std::string> names_;
};

class LSTM : public RNNBase {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true, bool batch_first = false,
       double dropout = 0.0, bool bidirectional = false, const TensorOptions& opts = {});
  // output, h_n, c_n; h0/c0 [num_layers * D, B, H] or undefined (zeros).
  RnnOutput forward(const Tensor& input, const Tensor& h0 = {}, const Tensor& c0 = {}) const;
};

class GRU : public RNNBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true, bool batch_first = false,
      double dropout = 0.0, bool bidirectional = false, const TensorOptions& opts = {});
  RnnOutput forward(const Tensor& input, const Tensor& h0 = {}) const;  // c_n undefined
};

// nonlinearity "tanh" or "relu" (PyTorch's argument order: after num_layers).
class RNN : public RNNBase {
 public:
  RNN(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, const std::string& nonlinearity = "tanh",
      bool bias = true, bool batch_first = false, double dropout = 0.0, bool bidirectional = false,
      const TensorOptions& opts = {});
  RnnOutput forward(const Tensor& input, const Tensor& h0 = {}) const;  // c_n undefined
  std::string extra_repr() const override;
  const std::string nonlinearity;
};

class RNNCell : public Module {
 public:
  RNNCell(int64_t input_size, int64_t hidden_size, bool bias = true, const std::string& nonlinearity = "tanh",
          const TensorOptions& opts = {});
  Tensor forward(const Tensor& input, const Tensor& h = {}) const;
  std::string extra_repr() const override;
  const int64_t input_size, hidden_size;
  const std::string nonlinearity;
};

class LSTMCell : public Module {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, bool bias = true, const TensorOptions& opts = {});
  std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& h = {}, const Tensor& c = {}) const;
  std::string extra_repr() const override;
  const int64_t input_size, hidden_size;
};

class GRUCell : public Module {
 public:
  GRUCell(int64_t input_size, int64_t hidden_size, bool bias = true, const TensorOptions& opts = {});
  Tensor forward(const Tensor& input, const Tensor& h = {}) const;
  std::string extra_repr() const override;
  const int64_t input_size, hidden_size;
};

}  // namespace loom::nn
