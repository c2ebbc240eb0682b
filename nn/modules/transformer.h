// TransformerEncoderLayer (self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2; norm_first;
// activation "relu" | "gelu") and TransformerEncoder (layers.N.*, optional norm), torch.nn's names.
#pragma once
#include <memory>
#include <string>

#include "nn/containers.h"
#include "nn/modules/attention.h"
#include "nn/modules/dropout.h"
#include "nn/modules/linear.h"
#include "nn/modules/normalization.h"

namespace loom::nn {

struct TransformerEncoderLayerOptions {
  int64_t d_model = 512, nhead = 8, dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";
  double layer_norm_eps = 1e-5;
  bool batch_first = false, norm_first = false, bias = true;
};

class TransformerEncoderLayer : public Module {
 public:
  explicit TransformerEncoderLayer(const TransformerEncoderLayerOptions& o, const TensorOptions& opts = {});
  Tensor forward(const Tensor& src, const Tensor& src_mask = {}, const Tensor& src_key_padding_mask = {}) const;
  const TransformerEncoderLayerOptions options;
  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2;
  std::shared_ptr<LayerNorm> norm1, norm2;

 private:
  Tensor act(const Tensor& x) const;
};

class TransformerEncoder : public Module {
 public:
  // num_layers independently initialised layers built from `layer` options (PyTorch deep-copies one layer:
  // same structure, here fresh weights).
  TransformerEncoder(const TransformerEncoderLayerOptions& layer, int64_t num_layers, bool final_norm = false,
                     const TensorOptions& opts = {});
  Tensor forward(const Tensor& src, const Tensor& mask = {}, const Tensor& src_key_padding_mask = {}) const;
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;  // null without final_norm
};

}  // namespace loom::nn
