#include "nn/modules/pooling.h"

#include <sstream>

#include "autograd/ops/pool.h"

namespace loom::nn {

namespace {
std::string v(const Dims& d) {
  if (d.size() == 1) return std::to_string(d[0]);
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < d.size(); ++i) os << (i ? ", " : "") << d[i];
  os << ")";
  return os.str();
}
}  // namespace

Tensor MaxPool2d::forward(const Tensor& x) const {
  return loom::max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode);
}
std::string MaxPool2d::extra_repr() const {
  return "kernel_size=" + v(kernel_size) + ", stride=" + v(stride.empty() ? kernel_size : stride) +
         ", padding=" + v(padding) + ", dilation=" + v(dilation) + ", ceil_mode=" + (ceil_mode ? "True" : "False");
}

Tensor AvgPool2d::forward(const Tensor& x) const {
  return loom::avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad);
}
std::string AvgPool2d::extra_repr() const {
  return "kernel_size=" + v(kernel_size) + ", stride=" + v(stride.empty() ? kernel_size : stride) +
         ", padding=" + v(padding);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) const { return loom::adaptive_avg_pool2d(x, output_size); }
std::string AdaptiveAvgPool2d::extra_repr() const { return "output_size=" + v(output_size); }

}  // namespace loom::nn
