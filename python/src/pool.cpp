// loom._C._functional: max_pool2d, max_pool2d_with_indices, avg_pool2d and
// adaptive_avg_pool2d (PyTorch's keyword names and defaults; int-or-tuple
// arguments, stride=None or () meaning kernel_size).
#include <string>

#include "autograd/ops/pool.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {
namespace {

Dims pool_stride(py::handle stride, const char* op) {
  if (stride.is_none()) return {};
  if (is_int_sequence(stride) && py::len(stride) == 0) return {};
  return int_or_tuple(stride, 2, op, "stride");
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
        auto r = loom::max_pool2d_with_indices(input, int_or_tuple(kernel_size, 2, op, "kernel_size"),
                                               pool_stride(stride, op), int_or_tuple(padding, 2, op, "padding"),
                                               int_or_tuple(dilation, 2, op, "dilation"), ceil_mode);
        if (return_indices) return py::make_tuple(r.first, r.second);
        return py::cast(r.first);
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
          throw py::value_error("avg_pool2d: divisor_override is not supported by loom yet");
        return loom::avg_pool2d(input, int_or_tuple(kernel_size, 2, op, "kernel_size"), pool_stride(stride, op),
                                int_or_tuple(padding, 2, op, "padding"), ceil_mode, count_include_pad);
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("stride") = py::none(), py::arg("padding") = 0,
      py::arg("ceil_mode") = false, py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none(),
      registry_doc("avg_pool2d"));
  f.def(
      "adaptive_avg_pool2d",
      [](const Tensor& input, py::object output_size) {
        // None in output_size keeps that input dim, as PyTorch.
        Dims out(2);
        if (is_int_sequence(output_size)) {
          py::list seq = sequence_items(output_size);
          if (py::len(seq) != 2)
            throw py::value_error("adaptive_avg_pool2d: output_size must be an int or a pair, got " +
                                  std::to_string(py::len(seq)) + " values");
          for (size_t i = 0; i < 2; ++i)
            out[i] = seq[i].is_none() ? input.size(input.dim() - 2 + int64_t(i)) : to_int(seq[i], "output_size");
        } else {
          out.assign(2, to_int(output_size, "output_size"));
        }
        return loom::adaptive_avg_pool2d(input, out);
      },
      py::arg("input"), py::arg("output_size"), registry_doc("adaptive_avg_pool2d"));
});

}  // namespace loom::python
