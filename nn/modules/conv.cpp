#include "nn/modules/conv.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autograd/ops/conv.h"
#include "nn/init.h"

namespace loom::nn {

namespace {
Dims expand(Dims d, size_t n, const char* what) {
  if (d.size() == 1 && n > 1) d.assign(n, d[0]);
  LOOM_CHECK_VALUE(d.size() == n, "Conv: ", what, " must have 1 or ", n, " values, got ", d);
  return d;
}
std::string tuple(const Dims& d) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < d.size(); ++i) os << (i ? ", " : "") << d[i];
  os << (d.size() == 1 ? ",)" : ")");
  return os.str();
}
}  // namespace

ConvNd::ConvNd(const char* name, int64_t in, int64_t out, Dims k, Dims s, Dims p, Dims d, int64_t groups, bool bias,
               const TensorOptions& opts)
    : Module(name),
      in_channels(in),
      out_channels(out),
      kernel_size(std::move(k)),
      stride(std::move(s)),
      padding(std::move(p)),
      dilation(std::move(d)),
      groups(groups) {
  LOOM_CHECK_VALUE(groups > 0, name, ": groups must be a positive integer, got ", groups);
  LOOM_CHECK_VALUE(in % groups == 0, name, ": in_channels must be divisible by groups");
  LOOM_CHECK_VALUE(out % groups == 0, name, ": out_channels must be divisible by groups");
  Shape ws{out, in / groups};
  ws.insert(ws.end(), kernel_size.begin(), kernel_size.end());
  auto o = opts.with_requires_grad(false);
  register_parameter("weight", empty(ws, o));
  if (bias) register_parameter("bias", empty({out}, o));
  reset_parameters();
}

void ConvNd::reset_parameters() {
  Tensor& w = param("weight");
  init::kaiming_uniform_(w, std::sqrt(5.0));
  if (has_parameter("bias")) {
    auto fan_in = init::calculate_fan_in_and_fan_out(w).first;
    double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(param("bias"), -bound, bound);
  }
}

std::string ConvNd::extra_repr() const {
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=" << tuple(kernel_size) << ", stride=" << tuple(stride);
  if (std::any_of(padding.begin(), padding.end(), [](int64_t v) { return v != 0; }))
    os << ", padding=" << tuple(padding);
  if (std::any_of(dilation.begin(), dilation.end(), [](int64_t v) { return v != 1; }))
    os << ", dilation=" << tuple(dilation);
  if (groups != 1) os << ", groups=" << groups;
  if (!has_parameter("bias")) os << ", bias=False";
  return os.str();
}

Conv1d::Conv1d(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d, int64_t groups, bool bias,
               const TensorOptions& opts)
    : ConvNd("Conv1d", in, out, {k}, {s}, {p}, {d}, groups, bias, opts) {}

Tensor Conv1d::forward(const Tensor& x) const {
  return loom::conv1d(x, param("weight"), param_or_undefined("bias"), stride[0], padding[0], dilation[0], groups);
}

Conv2d::Conv2d(int64_t in, int64_t out, Dims k, Dims s, Dims p, Dims d, int64_t groups, bool bias,
               const TensorOptions& opts)
    : ConvNd("Conv2d", in, out, expand(k, 2, "kernel_size"), expand(s, 2, "stride"), expand(p, 2, "padding"),
             expand(d, 2, "dilation"), groups, bias, opts) {}

Tensor Conv2d::forward(const Tensor& x) const {
  return loom::conv2d(x, param("weight"), param_or_undefined("bias"), stride, padding, dilation, groups);
}

}  // namespace loom::nn
