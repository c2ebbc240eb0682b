// Linear (y = x W^T + b) and Bilinear (y = x1^T A x2 + b), torch.nn names and init.
#pragma once
#include "nn/module.h"

namespace loom::nn {

class Linear : public Module {
 public:
  // weight [out, in], bias [out]; kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(in), 1/sqrt(in)).
  Linear(int64_t in_features, int64_t out_features, bool bias = true, const TensorOptions& opts = {});
  Tensor forward(const Tensor& input) const;
  void reset_parameters();
  Tensor& weight() { return param("weight"); }
  Tensor bias() const { return param_or_undefined("bias"); }
  std::string extra_repr() const override;
  const int64_t in_features, out_features;
};

class Bilinear : public Module {
 public:
  // weight [out, in1, in2], bias [out]; both U(-1/sqrt(in1), 1/sqrt(in1)).
  Bilinear(int64_t in1_features, int64_t in2_features, int64_t out_features, bool bias = true,
           const TensorOptions& opts = {});
  Tensor forward(const Tensor& input1, const Tensor& input2) const;
  void reset_parameters();
  std::string extra_repr() const override;
  const int64_t in1_features, in2_features, out_features;
};

}  // namespace loom::nn
