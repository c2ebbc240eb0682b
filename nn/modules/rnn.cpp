#include "nn/modules/rnn.h"

#include <cmath>
#include <sstream>

#include "autograd/ops/dropout.h"
#include "nn/init.h"

namespace loom::nn {

namespace {
void uniform_all(Module& m, int64_t hidden) {
  double stdv = hidden > 0 ? 1.0 / std::sqrt(static_cast<double>(hidden)) : 0.0;
  for (auto& kv : m.named_parameters("", false)) init::uniform_(m.param(kv.first), -stdv, stdv);
}
}  // namespace

RNNBase::RNNBase(const char* name, int64_t gates, int64_t in, int64_t H, int64_t layers, bool bias, bool batch_first,
                 double dropout, bool bidirectional, const TensorOptions& opts)
    : Module(name),
      input_size(in),
      hidden_size(H),
      num_layers(layers),
      bias(bias),
      batch_first(batch_first),
      dropout(dropout),
      bidirectional(bidirectional) {
  LOOM_CHECK_VALUE(H > 0 && layers > 0, name, ": hidden_size and num_layers must be greater than 0, got ", H, " and ",
                   layers);
  LOOM_CHECK_VALUE(dropout >= 0 && dropout <= 1, name, ": dropout should be a number in range [0, 1], got ", dropout);
  const int64_t D = bidirectional ? 2 : 1;
  auto o = opts.with_requires_grad(false);
  for (int64_t l = 0; l < layers; ++l) {
    int64_t layer_in = l == 0 ? in : H * D;
    for (int64_t d = 0; d < D; ++d) {
      std::string sfx = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      names_.push_back("weight_ih" + sfx);
      register_parameter(names_.back(), empty({gates * H, layer_in}, o));
      names_.push_back("weight_hh" + sfx);
      register_parameter(names_.back(), empty({gates * H, H}, o));
      if (bias) {
        names_.push_back("bias_ih" + sfx);
        register_parameter(names_.back(), empty({gates * H}, o));
        names_.push_back("bias_hh" + sfx);
        register_parameter(names_.back(), empty({gates * H}, o));
      }
    }
  }
  reset_parameters();
}

TensorList RNNBase::flat_weights() const {
  TensorList out;
  for (auto& n : names_) out.push_back(param(n));
  return out;
}

void RNNBase::reset_parameters() { uniform_all(*this, hidden_size); }

std::string RNNBase::extra_repr() const {
  std::ostringstream os;
  os << input_size << ", " << hidden_size;
  if (num_layers != 1) os << ", num_layers=" << num_layers;
  if (!bias) os << ", bias=False";
  if (batch_first) os << ", batch_first=True";
  if (dropout != 0) os << ", dropout=" << dropout;
  if (bidirectional) os << ", bidirectional=True";
  return os.str();
}

namespace {
// Layer by layer with dropout between layers (PyTorch applies it to every layer's output but the last).
template <typename Run>
RnnOutput run_layers(const RNNBase& m, const Tensor& input, const Tensor& h0, const Tensor& c0, bool lstm, Run run) {
  const int64_t D = m.bidirectional ? 2 : 1;
  TensorList w = m.flat_weights();
  const size_t per = (m.bias ? 4 : 2) * D;
  Tensor x = input;
  TensorList hs, cs;
  for (int64_t l = 0; l < m.num_layers; ++l) {
    TensorList lw(w.begin() + l * per, w.begin() + (l + 1) * per);
    Tensor lh = h0.defined() ? h0.narrow(0, l * D, D) : Tensor();
    Tensor lc = c0.defined() ? c0.narrow(0, l * D, D) : Tensor();
    RnnOutput o = run(x, lh, lc, lw);
    x = l + 1 < m.num_layers ? loom::dropout(o.output, m.dropout, true) : o.output;
    hs.push_back(o.h_n);
    if (lstm) cs.push_back(o.c_n);
  }
  return {x, cat(hs, 0), lstm ? cat(cs, 0) : Tensor()};
}
}  // namespace

LSTM::LSTM(int64_t in, int64_t H, int64_t layers, bool bias, bool bf, double dropout, bool bidir,
           const TensorOptions& opts)
    : RNNBase("LSTM", 4, in, H, layers, bias, bf, dropout, bidir, opts) {}

RnnOutput LSTM::forward(const Tensor& input, const Tensor& h0, const Tensor& c0) const {
  if (dropout > 0 && is_training() && num_layers > 1)
    return run_layers(*this, input, h0, c0, true,
                      [&](const Tensor& x, const Tensor& h, const Tensor& c, const TensorList& w) {
                        return loom::lstm(x, h, c, w, bias, 1, bidirectional, batch_first);
                      });
  return loom::lstm(input, h0, c0, flat_weights(), bias, num_layers, bidirectional, batch_first);
}

GRU::GRU(int64_t in, int64_t H, int64_t layers, bool bias, bool bf, double dropout, bool bidir,
         const TensorOptions& opts)
    : RNNBase("GRU", 3, in, H, layers, bias, bf, dropout, bidir, opts) {}

RnnOutput GRU::forward(const Tensor& input, const Tensor& h0) const {
  if (dropout > 0 && is_training() && num_layers > 1)
    return run_layers(*this, input, h0, Tensor(), false,
                      [&](const Tensor& x, const Tensor& h, const Tensor&, const TensorList& w) {
                        return loom::gru(x, h, w, bias, 1, bidirectional, batch_first);
                      });
  return loom::gru(input, h0, flat_weights(), bias, num_layers, bidirectional, batch_first);
}

namespace {
const std::string& checked_nonlinearity(const char* module, const std::string& nl) {
  LOOM_CHECK_VALUE(nl == "tanh" || nl == "relu", module, ": Unknown nonlinearity '", nl,
                   "'. Select from 'tanh' or 'relu'.");
  return nl;
}
}  // namespace

RNN::RNN(int64_t in, int64_t H, int64_t layers, const std::string& nl, bool bias, bool bf, double dropout, bool bidir,
         const TensorOptions& opts)
    : RNNBase("RNN", 1, in, H, layers, bias, bf, dropout, bidir, opts), nonlinearity(checked_nonlinearity("RNN", nl)) {}

RnnOutput RNN::forward(const Tensor& input, const Tensor& h0) const {
  auto seq = nonlinearity == "relu" ? loom::rnn_relu : loom::rnn_tanh;
  if (dropout > 0 && is_training() && num_layers > 1)
    return run_layers(*this, input, h0, Tensor(), false,
                      [&](const Tensor& x, const Tensor& h, const Tensor&, const TensorList& w) {
                        return seq(x, h, w, bias, 1, bidirectional, batch_first, Tensor());
                      });
  return seq(input, h0, flat_weights(), bias, num_layers, bidirectional, batch_first, Tensor());
}

std::string RNN::extra_repr() const {
  return RNNBase::extra_repr() + (nonlinearity != "tanh" ? ", nonlinearity='" + nonlinearity + "'" : "");
}

RNNCell::RNNCell(int64_t in, int64_t H, bool bias, const std::string& nl, const TensorOptions& opts)
    : Module("RNNCell"), input_size(in), hidden_size(H), nonlinearity(checked_nonlinearity("RNNCell", nl)) {
  auto o = opts.with_requires_grad(false);
  register_parameter("weight_ih", empty({H, in}, o));
  register_parameter("weight_hh", empty({H, H}, o));
  if (bias) {
    register_parameter("bias_ih", empty({H}, o));
    register_parameter("bias_hh", empty({H}, o));
  }
  uniform_all(*this, H);
}

Tensor RNNCell::forward(const Tensor& input, const Tensor& h) const {
  auto cell = nonlinearity == "relu" ? loom::rnn_relu_cell : loom::rnn_tanh_cell;
  return cell(input, h, param("weight_ih"), param("weight_hh"), param_or_undefined("bias_ih"),
              param_or_undefined("bias_hh"));
}

std::string RNNCell::extra_repr() const {
  return std::to_string(input_size) + ", " + std::to_string(hidden_size) +
         (has_parameter("bias_ih") ? "" : ", bias=False") +
         (nonlinearity != "tanh" ? ", nonlinearity='" + nonlinearity + "'" : "");
}

LSTMCell::LSTMCell(int64_t in, int64_t H, bool bias, const TensorOptions& opts)
    : Module("LSTMCell"), input_size(in), hidden_size(H) {
  auto o = opts.with_requires_grad(false);
  register_parameter("weight_ih", empty({4 * H, in}, o));
  register_parameter("weight_hh", empty({4 * H, H}, o));
  if (bias) {
    register_parameter("bias_ih", empty({4 * H}, o));
    register_parameter("bias_hh", empty({4 * H}, o));
  }
  uniform_all(*this, H);
}

std::tuple<Tensor, Tensor> LSTMCell::forward(const Tensor& input, const Tensor& h, const Tensor& c) const {
  return loom::lstm_cell(input, h, c, param("weight_ih"), param("weight_hh"), param_or_undefined("bias_ih"),
                         param_or_undefined("bias_hh"));
}

std::string LSTMCell::extra_repr() const {
  return std::to_string(input_size) + ", " + std::to_string(hidden_size) +
         (has_parameter("bias_ih") ? "" : ", bias=False");
}

GRUCell::GRUCell(int64_t in, int64_t H, bool bias, const TensorOptions& opts)
    : Module("GRUCell"), input_size(in), hidden_size(H) {
  auto o = opts.with_requires_grad(false);
  register_parameter("weight_ih", empty({3 * H, in}, o));
  register_parameter("weight_hh", empty({3 * H, H}, o));
  if (bias) {
    register_parameter("bias_ih", empty({3 * H}, o));
    register_parameter("bias_hh", empty({3 * H}, o));
  }
  uniform_all(*this, H);
}

Tensor GRUCell::forward(const Tensor& input, const Tensor& h) const {
  return loom::gru_cell(input, h, param("weight_ih"), param("weight_hh"), param_or_undefined("bias_ih"),
                        param_or_undefined("bias_hh"));
}

std::string GRUCell::extra_repr() const {
  return std::to_string(input_size) + ", " + std::to_string(hidden_size) +
         (has_parameter("bias_ih") ? "" : ", bias=False");
}

}  // namespace loom::nn
