// Composed ops of the benchmark cases (see bench.h). Each mirrors the PyTorch
// reference in shared/bench/torch_reference.py op for op, so the comparison
// measures the framework, not a different algorithm.
#include <cmath>
#include <limits>

#include "bench.h"

namespace bench::composed {

using loom::Tensor;

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_pad) {
  const double scale = 1.0 / std::sqrt(double(q.size(-1)));
  Tensor scores = q.matmul(k.transpose(-1, -2)).mul(scale);
  if (key_pad.defined()) scores = scores.masked_fill(key_pad, -std::numeric_limits<double>::infinity());
  return scores.softmax(-1).matmul(v);
}

Tensor layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  Tensor mean = x.mean({-1}, /*keepdim=*/true);
  Tensor var = x.var({-1}, /*unbiased=*/false, /*keepdim=*/true);
  return (x - mean) / (var + eps).sqrt() * w + b;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  return logits.log_softmax(1).gather(1, labels.unsqueeze(1)).mean().neg();
}

Tensor uniform_param(const loom::Shape& shape, int64_t fan_in, loom::Device device) {
  const double bound = 1.0 / std::sqrt(double(fan_in));
  Tensor p = loom::rand(shape, loom::TensorOptions(device)).mul(2 * bound).sub(bound);
  return p.requires_grad_(true);
}

LSTM::LSTM(int64_t input_size, int64_t hidden_size, loom::Device device) : I(input_size), H(hidden_size) {
  w_ih = uniform_param({4 * H, I}, H, device);
  w_hh = uniform_param({4 * H, H}, H, device);
  b_ih = uniform_param({4 * H}, H, device);
  b_hh = uniform_param({4 * H}, H, device);
}

Tensor LSTM::forward(const Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1);
  const loom::TensorOptions opts(x.dtype(), x.device());
  Tensor xw = x.matmul(w_ih.t()) + (b_ih + b_hh);  // [B, T, 4H]
  Tensor h = loom::zeros({B, H}, opts), c = loom::zeros({B, H}, opts);
  const Tensor w_hh_t = w_hh.t();
  loom::TensorList hs;
  hs.reserve(T);
  for (int64_t t = 0; t < T; ++t) {
    Tensor gates = xw.select(1, t) + h.matmul(w_hh_t);
    loom::TensorList g = gates.chunk(4, 1);
    Tensor i = g[0].sigmoid(), f = g[1].sigmoid(), gg = g[2].tanh(), o = g[3].sigmoid();
    c = f * c + i * gg;
    h = o * c.tanh();
    hs.push_back(h);
  }
  return loom::stack(hs, 1);
}

Tensor gated(const Tensor& a, const Tensor& b, const Tensor& W, const Tensor& c) {
  Tensor g = (loom::cat({a, b}, -1).matmul(W.t()) + c).sigmoid();
  return g * a + (1.0 - g) * b;
}

Tensor film(const Tensor& a, const Tensor& b, const Tensor& W, const Tensor& c) {
  loom::TensorList gb = (b.matmul(W.t()) + c).chunk(2, -1);
  return gb[0] * a + gb[1];
}

}  // namespace bench::composed
