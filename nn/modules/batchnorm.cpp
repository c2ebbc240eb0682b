#include "nn/modules/batchnorm.h"

#include <sstream>

#include "autograd/node.h"
#include "autograd/ops/norm.h"
#include "nn/init.h"

namespace loom::nn {

BatchNormBase::BatchNormBase(const char* name, int64_t c, double eps, std::optional<double> momentum, bool affine,
                             bool track, const TensorOptions& opts)
    : Module(name), num_features(c), eps(eps), momentum(momentum), affine(affine), track_running_stats(track) {
  auto o = opts.with_requires_grad(false);
  if (affine) {
    register_parameter("weight", empty({c}, o));
    register_parameter("bias", empty({c}, o));
  }
  if (track) {
    register_buffer("running_mean", zeros({c}, o));
    register_buffer("running_var", ones({c}, o));
    register_buffer("num_batches_tracked", zeros({}, TensorOptions(DType::Int64, o.device)));
  }
  reset_parameters();
}

void BatchNormBase::reset_running_stats() {
  if (!track_running_stats) return;
  autograd::NoGradGuard g;
  buffer("running_mean").fill_(0.0);
  buffer("running_var").fill_(1.0);
  buffer("num_batches_tracked").fill_(0);
}

void BatchNormBase::reset_parameters() {
  reset_running_stats();
  if (affine) {
    init::ones_(param("weight"));
    init::zeros_(param("bias"));
  }
}

Tensor BatchNormBase::forward(const Tensor& input) {
  check_input(input);
  double factor = momentum.value_or(0.0);
  if (is_training() && track_running_stats) {
    autograd::NoGradGuard g;
    Tensor& n = buffer("num_batches_tracked");
    n.add_(Scalar(int64_t(1)));
    if (!momentum) factor = 1.0 / static_cast<double>(n.item<int64_t>());
  }
  // Batch statistics in training or when no running stats are tracked (PyTorch's bn_training).
  bool use_batch = is_training() || !track_running_stats;
  Tensor rm = track_running_stats ? buffer("running_mean") : Tensor();
  Tensor rv = track_running_stats ? buffer("running_var") : Tensor();
  return loom::batch_norm(input, rm, rv, param_or_undefined("weight"), param_or_undefined("bias"), use_batch, factor,
                          eps);
}

std::string BatchNormBase::extra_repr() const {
  std::ostringstream os;
  os << num_features << ", eps=" << eps << ", momentum=";
  if (momentum) os << *momentum;
  else os << "None";
  os << ", affine=" << (affine ? "True" : "False")
     << ", track_running_stats=" << (track_running_stats ? "True" : "False");
  return os.str();
}

void BatchNorm1d::check_input(const Tensor& x) const {
  LOOM_CHECK_VALUE(x.dim() == 2 || x.dim() == 3, "BatchNorm1d: expected 2D or 3D input (got ", x.dim(), "D input)");
}

void BatchNorm2d::check_input(const Tensor& x) const {
  LOOM_CHECK_VALUE(x.dim() == 4, "BatchNorm2d: expected 4D input (got ", x.dim(), "D input)");
}

}  // namespace loom::nn
