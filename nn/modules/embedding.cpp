#include "nn/modules/embedding.h"

#include "autograd/node.h"
#include "autograd/ops/embedding.h"
#include "nn/init.h"

namespace loom::nn {

namespace {
std::optional<int64_t> norm_pad(std::optional<int64_t> p, int64_t n) {
  if (!p) return p;
  LOOM_CHECK_VALUE(*p < n && *p >= -n, "Embedding: padding_idx must be within num_embeddings, got ", *p, " for ", n);
  return *p < 0 ? *p + n : *p;
}
}  // namespace

Embedding::Embedding(int64_t num, int64_t dim, std::optional<int64_t> pad, const TensorOptions& opts)
    : Module("Embedding"), num_embeddings(num), embedding_dim(dim), padding_idx(norm_pad(pad, num)) {
  register_parameter("weight", empty({num, dim}, opts.with_requires_grad(false)));
  reset_parameters();
}

void Embedding::reset_parameters() {
  Tensor& w = param("weight");
  init::normal_(w);
  if (padding_idx) {
    autograd::NoGradGuard g;
    w.detach().select(0, *padding_idx).fill_(0.0);
  }
}

Tensor Embedding::forward(const Tensor& input) const { return loom::embedding(input, param("weight"), padding_idx); }

std::string Embedding::extra_repr() const {
  std::string s = std::to_string(num_embeddings) + ", " + std::to_string(embedding_dim);
  if (padding_idx) s += ", padding_idx=" + std::to_string(*padding_idx);
  return s;
}

}  // namespace loom::nn
