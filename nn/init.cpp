#include "nn/init.h"

#include <cmath>

#include "autograd/node.h"

namespace loom::nn::init {

namespace {
void check_float(const Tensor& t, const char* op) {
  LOOM_CHECK_VALUE(t.defined(), "init.", op, ": tensor is undefined");
  LOOM_CHECK_TYPE(t.is_floating_point(), "init.", op, ": expected a floating tensor, got ", dtype_name(t.dtype()));
}
Tensor& assign(Tensor& t, const Tensor& values) {
  autograd::NoGradGuard guard;
  Tensor d = t.detach();
  d.copy_(values);
  return t;
}
double fan_of(const Tensor& t, const std::string& mode, const char* op) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  LOOM_CHECK_VALUE(mode == "fan_in" || mode == "fan_out", "init.", op, ": mode must be 'fan_in' or 'fan_out', got '",
                   mode, "'");
  return static_cast<double>(mode == "fan_in" ? fan_in : fan_out);
}
}  // namespace

double calculate_gain(const std::string& nl, double param) {
  if (nl == "linear" || nl == "conv1d" || nl == "conv2d" || nl == "conv3d" || nl == "conv_transpose1d" ||
      nl == "conv_transpose2d" || nl == "conv_transpose3d" || nl == "sigmoid")
    return 1.0;
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") {
    double slope = param == -1.0 ? 0.01 : param;
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nl == "selu") return 3.0 / 4.0;
  LOOM_THROW(ErrorKind::Value, "init.calculate_gain: unsupported nonlinearity '", nl, "'");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  LOOM_CHECK_VALUE(t.dim() >= 2, "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got ",
                   t.dim(), ")");
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor& uniform_(Tensor& t, double a, double b) {
  check_float(t, "uniform_");
  return assign(t, rand(t.sizes(), TensorOptions(t.dtype(), t.device())) * (b - a) + a);
}

Tensor& normal_(Tensor& t, double mean, double std) {
  check_float(t, "normal_");
  return assign(t, randn(t.sizes(), TensorOptions(t.dtype(), t.device())) * std + mean);
}

Tensor& trunc_normal_(Tensor& t, double mean, double std, double a, double b) {
  check_float(t, "trunc_normal_");
  LOOM_CHECK_VALUE(a < b && std > 0, "init.trunc_normal_: expected a < b and std > 0, got a=", a, " b=", b,
                   " std=", std);
  // Rejection sampling of N(mean, std) in [a, b] from loom's generator.
  const int64_t n = t.numel();
  std::vector<double> out;
  out.reserve(n);
  for (int round = 0; round < 64 && static_cast<int64_t>(out.size()) < n; ++round) {
    int64_t want = n - static_cast<int64_t>(out.size());
    auto draw = randn({std::max<int64_t>(want * 2, 16)}, TensorOptions(DType::Float64)).to_vector();
    for (double z : draw) {
      double x = mean + std * z;
      if (x >= a && x <= b && static_cast<int64_t>(out.size()) < n) out.push_back(x);
    }
  }
  while (static_cast<int64_t>(out.size()) < n) out.push_back(std::min(std::max(mean, a), b));  // tiny windows
  return assign(t, from_vector(out, t.sizes()).to(t.dtype()));
}

Tensor& constant_(Tensor& t, double value) {
  LOOM_CHECK_VALUE(t.defined(), "init.constant_: tensor is undefined");
  autograd::NoGradGuard guard;
  Tensor d = t.detach();
  d.fill_(value);
  return t;
}
Tensor& zeros_(Tensor& t) { return constant_(t, 0.0); }
Tensor& ones_(Tensor& t) { return constant_(t, 1.0); }

Tensor& xavier_uniform_(Tensor& t, double gain) {
  auto [fi, fo] = calculate_fan_in_and_fan_out(t);
  double std = gain * std::sqrt(2.0 / static_cast<double>(fi + fo));
  double a = std::sqrt(3.0) * std;
  return uniform_(t, -a, a);
}

Tensor& xavier_normal_(Tensor& t, double gain) {
  auto [fi, fo] = calculate_fan_in_and_fan_out(t);
  return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fi + fo)));
}

Tensor& kaiming_uniform_(Tensor& t, double a, const std::string& mode, const std::string& nonlinearity) {
  double fan = fan_of(t, mode, "kaiming_uniform_");
  double std = calculate_gain(nonlinearity, a) / std::sqrt(fan);
  double bound = std::sqrt(3.0) * std;
  return uniform_(t, -bound, bound);
}

Tensor& kaiming_normal_(Tensor& t, double a, const std::string& mode, const std::string& nonlinearity) {
  double fan = fan_of(t, mode, "kaiming_normal_");
  return normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(fan));
}

Tensor& orthogonal_(Tensor& t, double gain) {
  check_float(t, "orthogonal_");
  LOOM_CHECK_VALUE(t.dim() >= 2, "init.orthogonal_: only tensors with 2 or more dimensions are supported, got ",
                   t.dim());
  if (t.numel() == 0) return t;
  const int64_t rows = t.size(0), cols = t.numel() / rows;
  // Columns of an m x n (m >= n) Gaussian matrix, orthonormalised (modified Gram-Schmidt): the Q of a
  // QR with a positive diagonal of R, which is what PyTorch's sign correction gives.
  const bool transpose = rows < cols;
  const int64_t m = transpose ? cols : rows, n = transpose ? rows : cols;
  auto g = randn({m, n}, TensorOptions(DType::Float64)).to_vector();
  auto at = [&](int64_t i, int64_t j) -> double& { return g[i * n + j]; };
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t k = 0; k < j; ++k) {
      double dot = 0;
      for (int64_t i = 0; i < m; ++i) dot += at(i, k) * at(i, j);
      for (int64_t i = 0; i < m; ++i) at(i, j) -= dot * at(i, k);
    }
    double nrm = 0;
    for (int64_t i = 0; i < m; ++i) nrm += at(i, j) * at(i, j);
    nrm = std::sqrt(nrm);
    for (int64_t i = 0; i < m; ++i) at(i, j) /= nrm;
  }
  std::vector<double> out(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = gain * (transpose ? at(c, r) : at(r, c));
  return assign(t, from_vector(out, t.sizes()).to(t.dtype()));
}

}  // namespace loom::nn::init
