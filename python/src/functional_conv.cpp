// loom._C._functional: conv1d, conv2d, max_pool2d(_with_indices), avg_pool2d,
// adaptive_avg_pool2d (PyTorch's keyword names and defaults; int-or-tuple
// arguments), and set_conv_backend("auto" | "hand" | "cudnn") / get_conv_backend(),
// which the loom.backends.conv property wraps.
#include <string>

#include "autograd/ops/conv.h"
#include "autograd/ops/pool.h"
#include "common.h"

namespace loom::python {
namespace {

// An int or a sequence of `n` ints, as PyTorch's _pair / _single.
Dims int_or_tuple(py::handle h, size_t n, const char* op, const char* name) {
  Dims d;
  if (is_int_sequence(h)) {
    for (auto x : sequence_items(h)) d.push_back(to_int(x, name));
    if (d.size() == 1 && n > 1) d.assign(n, d[0]);
    if (d.size() != n)
      throw py::value_error(std::string(op) + ": expected " + name + " to be a single integer or a tuple of " +
                            std::to_string(n) + " integers, got " + std::to_string(d.size()) + " values");
    return d;
  }
  return Dims(n, to_int(h, name));
}

// padding="valid" / "same" (stride 1, symmetric) or ints; kernel dims from the weight.
Dims conv_padding(py::handle padding, const Tensor& weight, const Dims& stride, const Dims& dilation, size_t n,
                  const char* op) {
  if (!py::isinstance<py::str>(padding)) return int_or_tuple(padding, n, op, "padding");
  const std::string mode = padding.cast<std::string>();
  if (mode == "valid") return Dims(n, 0);
  if (mode != "same")
    throw py::value_error(std::string(op) + ": invalid padding string '" + mode +
                          "', should be one of {'valid', 'same'}");
  for (auto s : stride)
    if (s != 1) throw py::value_error(std::string(op) + ": padding='same' is not supported for strided convolutions");
  Dims pad(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t total = dilation[i] * (weight.size(weight.dim() - int64_t(n) + int64_t(i)) - 1);
    if (total % 2 != 0)
      throw py::value_error(std::string(op) +
                            ": padding='same' with an even effective kernel size (asymmetric padding) is not "
                            "supported by loom yet");
    pad[i] = total / 2;
  }
  return pad;
}

Tensor opt_tensor(py::handle h, const char* op, const char* arg) {
  return h.is_none() ? Tensor() : to_tensor(h, op, arg);
}

Dims pool_stride(py::handle stride, const char* op) {
  if (stride.is_none()) return {};
  if (is_int_sequence(stride) && py::len(stride) == 0) return {};
  return int_or_tuple(stride, 2, op, "stride");
}

}  // namespace

static RegisterFunctional reg_conv([](py::module_& f) {
  f.def(
      "conv2d",
      [](const Tensor& input, const Tensor& weight, py::object bias, py::object stride, py::object padding,
         py::object dilation, int64_t groups) {
        Dims s = int_or_tuple(stride, 2, "conv2d", "stride"), d = int_or_tuple(dilation, 2, "conv2d", "dilation");
        Dims p = conv_padding(padding, weight, s, d, 2, "conv2d");
        return loom::conv2d(input, weight, opt_tensor(bias, "conv2d", "bias"), s, p, d, groups);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("groups") = 1);
  f.def(
      "conv1d",
      [](const Tensor& input, const Tensor& weight, py::object bias, py::object stride, py::object padding,
         py::object dilation, int64_t groups) {
        Dims s = int_or_tuple(stride, 1, "conv1d", "stride"), d = int_or_tuple(dilation, 1, "conv1d", "dilation");
        Dims p = conv_padding(padding, weight, s, d, 1, "conv1d");
        return loom::conv1d(input, weight, opt_tensor(bias, "conv1d", "bias"), s[0], p[0], d[0], groups);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("groups") = 1);
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
      py::arg("dilation") = 1, py::arg("ceil_mode") = false, py::arg("return_indices") = false);
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
      py::arg("ceil_mode") = false, py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none());
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
      py::arg("input"), py::arg("output_size"));
  f.def(
      "set_conv_backend",
      [](const std::string& name) {
        if (name == "auto") loom::set_conv_backend(ConvBackend::Auto);
        else if (name == "hand") loom::set_conv_backend(ConvBackend::Hand);
        else if (name == "cudnn") loom::set_conv_backend(ConvBackend::Cudnn);
        else throw py::value_error("set_conv_backend: expected 'auto', 'hand' or 'cudnn', got '" + name + "'");
      },
      py::arg("backend"));
  f.def("get_conv_backend", [] {
    switch (loom::conv_backend()) {
      case ConvBackend::Auto: return "auto";
      case ConvBackend::Hand: return "hand";
      default: return "cudnn";
    }
  });
  f.def("conv_cache_clear", &loom::conv_cache_clear);
  f.def("cudnn_available", [] { return loom::cudnn_available(); });
});

}  // namespace loom::python
