// BatchNorm1d ([N, C] or [N, C, L]) and BatchNorm2d ([N, C, H, W]); buffers running_mean, running_var and
// num_batches_tracked (int64) like PyTorch.
#pragma once
#include <optional>

#include "nn/module.h"

namespace loom::nn {

class BatchNormBase : public Module {
 public:
  Tensor forward(const Tensor& input);
  void reset_running_stats();
  void reset_parameters();
  std::string extra_repr() const override;
  const int64_t num_features;
  const double eps;
  const std::optional<double> momentum;  // nullopt: cumulative moving average
  const bool affine, track_running_stats;

 protected:
  BatchNormBase(const char* name, int64_t num_features, double eps, std::optional<double> momentum, bool affine,
                bool track_running_stats, const TensorOptions& opts);
  virtual void check_input(const Tensor& input) const = 0;
};

class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, std::optional<double> momentum = 0.1,
                       bool affine = true, bool track_running_stats = true, const TensorOptions& opts = {})
      : BatchNormBase("BatchNorm1d", num_features, eps, momentum, affine, track_running_stats, opts) {}

 protected:
  void check_input(const Tensor& input) const override;
};

class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, std::optional<double> momentum = 0.1,
                       bool affine = true, bool track_running_stats = true, const TensorOptions& opts = {})
      : BatchNormBase("BatchNorm2d", num_features, eps, momentum, affine, track_running_stats, opts) {}

 protected:
  void check_input(const Tensor& input) const override;
};

}  // namespace loom::nn
