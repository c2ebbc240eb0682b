// loom._C._functional: max_pool2d, max_pool2d_with_indices, avg_pool2d,
// adaptive_avg_pool2d and adaptive_max_pool2d (+ _with_indices), max_pool3d
// (+ _with_indices) and avg_pool3d (PyTorch's
// keyword names and defaults; int-or-tuple arguments, stride=None or ()
// meaning kernel_size). The 1-D forms are Python (loom/nn/functional.py).
#include <optional>
#include <string>

#include "autograd/ops/pool.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {
namespace {

Dims pool_stride(py::handle stride, const char* op, int n = 2) {
  if (stride.is_none()) return {};
  if (is_int_sequence(stride) && py::len(stride) == 0) return {};
  return int_or_tuple(stride, n, op, "stride");
}

// An adaptive pool's output_size: an int, or a pair whose None entries keep
// that input dim, as PyTorch.
Dims adaptive_size(const Tensor& input, py::handle output_size, const char* op) {
  Dims out(2);
  if (is_int_sequence(output_size)) {
    py::list seq = sequence_items(output_size);
    if (py::len(seq) != 2)
      throw py::value_error(std::string(op) + ": output_size must be an int or a pair, got " +
                            std::to_string(py::len(seq)) + " values");
    for (size_t i = 0; i < 2; ++i)
      out[i] = seq[i].is_none() ? input.size(input.dim() - 2 + int64_t(i)) : to_int(seq[i], "output_size");
  } else {
    out.assign(2, to_int(output_size, "output_size"));
  }
  return out;
}

}  // namespace

static RegisterFunctional reg_pool([](py::module_& f) {
  f.def(
      "max_pool2d_with_indices",
      [](const Tensor& input, py::object kernel_size, py::object stride, py::object padding, py::object dilation,
         bool ceil_mode, bool) {
        const char* op = "max_pool2d";
        auto r = loom::max_pool2d_with_indices(input, int_or_tuple(kernel_size, 2, op, "kernel_size"),
                                               pool_stride(stride, op), int_or_tuple(padding, 2, op, "padding"),
                                               int_or_tuple(dilation, 2, op, "dilation"), ceil_mode);
        return py::make_tuple(r.first, r.second);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("ceil_mode") = false, py::arg("return_indices") = true);
  f.def(
      "max_pool2d",
      [](const Tensor& input, py::object kernel_size, py::object stride, py::object padding, py::object dilation,
         bool ceil_mode, bool return_indices) -> py::object {
        const char* op = "max_pool2d";
        const Dims k = int_or_tuple(kernel_size, 2, op, "kernel_size"), st = pool_stride(stride, op);
        const Dims pad = int_or_tuple(padding, 2, op, "padding"), dil = int_or_tuple(dilation, 2, op, "dilation");
        if (!return_indices) return py::cast(loom::max_pool2d(input, k, st, pad, dil, ceil_mode));
        auto r = loom::max_pool2d_with_indices(input, k, st, pad, dil, ceil_mode);
        return py::make_tuple(r.first, r.second);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("ceil_mode") = false, py::arg("return_indices") = false,
      registry_doc("max_pool2d"));
  f.def(
      "avg_pool2d",
      [](const Tensor& input, py::object kernel_size, py::object stride, py::object padding, bool ceil_mode,
         bool count_include_pad, py::object divisor_override) {
        const char* op = "avg_pool2d";
        if (!divisor_override.is_none())
          throw py::value_error("avg_pool2d: divisor_override is applied by loom.nn.functional.avg_pool2d, not here");
        return loom::avg_pool2d(input, int_or_tuple(kernel_size, 2, op, "kernel_size"), pool_stride(stride, op),
                                int_or_tuple(padding, 2, op, "padding"), ceil_mode, count_include_pad);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("ceil_mode") = false, py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none(),
      registry_doc("avg_pool2d"));
  f.def(
      "adaptive_avg_pool2d",
      [](const Tensor& input, py::object output_size) {
        return loom::adaptive_avg_pool2d(input, adaptive_size(input, output_size, "adaptive_avg_pool2d"));
      },
      py::arg("input"), py::arg("output_size"), registry_doc("adaptive_avg_pool2d"));
  f.def(
      "adaptive_max_pool2d",
      [](const Tensor& input, py::object output_size, bool return_indices) -> py::object {
        auto r =
            loom::adaptive_max_pool2d_with_indices(input, adaptive_size(input, output_size, "adaptive_max_pool2d"));
        if (return_indices) return py::make_tuple(r.first, r.second);
        return py::cast(r.first);
      },
      py::arg("input"), py::arg("output_size"), py::arg("return_indices") = false, registry_doc("adaptive_max_pool2d"));
  f.def(
      "adaptive_max_pool2d_with_indices",
      [](const Tensor& input, py::object output_size, bool) {
        auto r =
            loom::adaptive_max_pool2d_with_indices(input, adaptive_size(input, output_size, "adaptive_max_pool2d"));
        return py::make_tuple(r.first, r.second);
      },
      py::arg("input"), py::arg("output_size"), py::arg("return_indices") = true);
  const auto max3 = [](const Tensor& input, py::object kernel_size, py::object stride, py::object padding,
                       py::object dilation, bool ceil_mode) {
    const char* op = "max_pool3d";
    return loom::max_pool3d_with_indices(input, int_or_tuple(kernel_size, 3, op, "kernel_size"),
                                         pool_stride(stride, op, 3), int_or_tuple(padding, 3, op, "padding"),
                                         int_or_tuple(dilation, 3, op, "dilation"), ceil_mode);
  };
  f.def(
      "max_pool3d_with_indices",
      [max3](const Tensor& input, py::object kernel_size, py::object stride, py::object padding, py::object dilation,
             bool ceil_mode, bool) {
        auto r = max3(input, kernel_size, stride, padding, dilation, ceil_mode);
        return py::make_tuple(r.first, r.second);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("ceil_mode") = false, py::arg("return_indices") = true);
  f.def(
      "max_pool3d",
      [max3](const Tensor& input, py::object kernel_size, py::object stride, py::object padding, py::object dilation,
             bool ceil_mode, bool return_indices) -> py::object {
        auto r = max3(input, kernel_size, stride, padding, dilation, ceil_mode);
        if (return_indices) return py::make_tuple(r.first, r.second);
        return py::cast(r.first);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("ceil_mode") = false, py::arg("return_indices") = false,
      registry_doc("max_pool3d"));
  f.def(
      "avg_pool3d",
      [](const Tensor& input, py::object kernel_size, py::object stride, py::object padding, bool ceil_mode,
         bool count_include_pad, py::object divisor_override) {
        const char* op = "avg_pool3d";
        std::optional<int64_t> divisor;
        if (!divisor_override.is_none()) divisor = to_int(divisor_override, "divisor_override");
        return loom::avg_pool3d(input, int_or_tuple(kernel_size, 3, op, "kernel_size"), pool_stride(stride, op, 3),
                                int_or_tuple(padding, 3, op, "padding"), ceil_mode, count_include_pad, divisor);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("ceil_mode") = false, py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none(),
      registry_doc("avg_pool3d"));
});

}  // namespace loom::python
