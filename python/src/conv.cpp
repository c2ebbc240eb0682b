// loom._C._functional: conv1d / 2d / 3d, conv_transpose1d / 2d / 3d (PyTorch's keyword names and defaults;
// int-or-tuple arguments, padding="valid" / "same"), set_conv_backend("auto" |
// "hand" | "cudnn") / get_conv_backend(), which the loom.backends.conv property
// wraps, conv_cache_clear and cudnn_available. The pool ops are in pool.cpp.
#include <string>

#include "autograd/ops/conv.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {
namespace {

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

using ConvFn = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const Dims&, const Dims&, const Dims&, int64_t);
using ConvTransposeFn = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const Dims&, const Dims&, const Dims&,
                                   int64_t, const Dims&);

// conv2d / conv3d: stride, padding and dilation as an int or an n-tuple, padding also "valid" / "same".
void def_conv(py::module_& f, const char* name, size_t n, ConvFn fn) {
  f.def(
      name,
      [name, n, fn](const Tensor& input, const Tensor& weight, py::object bias, py::object stride, py::object padding,
                    py::object dilation, int64_t groups) {
        Dims s = int_or_tuple(stride, n, name, "stride"), d = int_or_tuple(dilation, n, name, "dilation");
        Dims p = conv_padding(padding, weight, s, d, n, name);
        return fn(input, weight, opt_tensor(bias, name, "bias"), s, p, d, groups);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("dilation") = 1, py::arg("groups") = 1, registry_doc(name));
}

// conv_transpose2d / conv_transpose3d, PyTorch's argument order (groups before dilation).
void def_conv_transpose(py::module_& f, const char* name, size_t n, ConvTransposeFn fn) {
  f.def(
      name,
      [name, n, fn](const Tensor& input, const Tensor& weight, py::object bias, py::object stride, py::object padding,
                    py::object output_padding, int64_t groups, py::object dilation) {
        return fn(input, weight, opt_tensor(bias, name, "bias"), int_or_tuple(stride, n, name, "stride"),
                  int_or_tuple(padding, n, name, "padding"), int_or_tuple(output_padding, n, name, "output_padding"),
                  groups, int_or_tuple(dilation, n, name, "dilation"));
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("output_padding") = 0, py::arg("groups") = 1, py::arg("dilation") = 1, registry_doc(name));
}

}  // namespace

static RegisterFunctional reg_conv([](py::module_& f) {
  def_conv(f, "conv2d", 2, &loom::conv2d);
  def_conv(f, "conv3d", 3, &loom::conv3d);
  def_conv_transpose(f, "conv_transpose2d", 2, &loom::conv_transpose2d);
  def_conv_transpose(f, "conv_transpose3d", 3, &loom::conv_transpose3d);
  f.def(
      "conv_transpose1d",
      [](const Tensor& input, const Tensor& weight, py::object bias, py::object stride, py::object padding,
         py::object output_padding, int64_t groups, py::object dilation) {  // ints or 1-tuples, as PyTorch
        const char* op = "conv_transpose1d";
        return loom::conv_transpose1d(
            input, weight, opt_tensor(bias, op, "bias"), int_or_tuple(stride, 1, op, "stride")[0],
            int_or_tuple(padding, 1, op, "padding")[0], int_or_tuple(output_padding, 1, op, "output_padding")[0],
            groups, int_or_tuple(dilation, 1, op, "dilation")[0]);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("stride") = 1, py::arg("padding") = 0,
      py::arg("output_padding") = 0, py::arg("groups") = 1, py::arg("dilation") = 1);
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
