#include "nn/modules/transformer.h"

namespace loom::nn {

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerEncoderLayerOptions& o, const TensorOptions& opts)
    : Module("TransformerEncoderLayer"), options(o) {
  LOOM_CHECK_VALUE(o.activation == "relu" || o.activation == "gelu",
                   "TransformerEncoderLayer: activation should be relu/gelu, not ", o.activation);
  self_attn = register_module(
      "self_attn", std::make_shared<MultiheadAttention>(o.d_model, o.nhead, o.dropout, o.bias, o.batch_first, opts));
  linear1 = register_module("linear1", std::make_shared<Linear>(o.d_model, o.dim_feedforward, o.bias, opts));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, o.d_model, o.bias, opts));
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(Shape{o.d_model}, o.layer_norm_eps, true, o.bias, opts));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(Shape{o.d_model}, o.layer_norm_eps, true, o.bias, opts));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerEncoderLayer::act(const Tensor& x) const {
  return options.activation == "gelu" ? x.gelu() : x.relu();
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& mask, const Tensor& kpm) const {
  auto sa = [&](const Tensor& x) { return dropout1->forward(self_attn->forward(x, x, x, kpm, false, mask).first); };
  auto ff = [&](const Tensor& x) {
    return dropout2->forward(linear2->forward(dropout->forward(act(linear1->forward(x)))));
  };
  Tensor x = src;
  if (options.norm_first) {
    x = x + sa(norm1->forward(x));
    x = x + ff(norm2->forward(x));
  } else {
    x = norm1->forward(x + sa(x));
    x = norm2->forward(x + ff(x));
  }
  return x;
}

TransformerEncoder::TransformerEncoder(const TransformerEncoderLayerOptions& layer, int64_t n, bool final_norm,
                                       const TensorOptions& opts)
    : Module("TransformerEncoder") {
  layers = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < n; ++i) layers->push_back(std::make_shared<TransformerEncoderLayer>(layer, opts));
  if (final_norm)
    norm = register_module(
        "norm", std::make_shared<LayerNorm>(Shape{layer.d_model}, layer.layer_norm_eps, true, layer.bias, opts));
}

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask, const Tensor& kpm) const {
  Tensor x = src;
  for (auto& l : *layers) x = std::static_pointer_cast<TransformerEncoderLayer>(l)->forward(x, mask, kpm);
  return norm ? norm->forward(x) : x;
}

}  // namespace loom::nn
