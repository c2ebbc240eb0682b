// loom.nn.functional fusion ops: linear (PyTorch's (input, weight, bias=None)
// plus a loom keyword activation="none" | "relu" | "gelu" for the fused
// epilogue; "gelu" is the tanh approximation), linear2, gated_fusion, film,
// bilinear_pool and clip_loss (autograd/ops/fusion.h).
#include <string>

#include "autograd/ops/fusion.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

static RegisterFunctional reg_fusion([](py::module_& f) {
  f.def(
      "linear",
      [](const py::object& input, const py::object& weight, const py::object& bias, const std::string& activation) {
        const char* op = "linear";
        return linear(to_tensor(input, op, "input"), to_tensor(weight, op, "weight"), opt_tensor(bias, op, "bias"),
                      activation);
      },
      py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("activation") = "none",
      registry_doc("linear"));
  f.def(
      "linear2",
      [](const py::object& a, const py::object& b, const py::object& weight, const py::object& bias) {
        const char* op = "linear2";
        return linear2(to_tensor(a, op, "a"), to_tensor(b, op, "b"), to_tensor(weight, op, "weight"),
                       opt_tensor(bias, op, "bias"));
      },
      py::arg("a"), py::arg("b"), py::arg("weight"), py::arg("bias") = py::none(), registry_doc("linear2"));
  f.def(
      "gated_fusion",
      [](const py::object& a, const py::object& b, const py::object& weight, const py::object& bias) {
        const char* op = "gated_fusion";
        return gated_fusion(to_tensor(a, op, "a"), to_tensor(b, op, "b"), to_tensor(weight, op, "weight"),
                            to_tensor(bias, op, "bias"));
      },
      py::arg("a"), py::arg("b"), py::arg("weight"), py::arg("bias"), registry_doc("gated_fusion"));
  f.def(
      "film",
      [](const py::object& a, const py::object& b, const py::object& weight, const py::object& bias) {
        const char* op = "film";
        return film(to_tensor(a, op, "a"), to_tensor(b, op, "b"), to_tensor(weight, op, "weight"),
                    to_tensor(bias, op, "bias"));
      },
      py::arg("a"), py::arg("b"), py::arg("weight"), py::arg("bias"), registry_doc("film"));
  f.def(
      "bilinear_pool",
      [](const py::object& a, const py::object& b, const py::object& U, const py::object& V, const py::object& P) {
        const char* op = "bilinear_pool";
        return bilinear_pool(to_tensor(a, op, "a"), to_tensor(b, op, "b"), to_tensor(U, op, "U"), to_tensor(V, op, "V"),
                             to_tensor(P, op, "P"));
      },
      py::arg("a"), py::arg("b"), py::arg("U"), py::arg("V"), py::arg("P"), registry_doc("bilinear_pool"));
  f.def(
      "clip_loss",
      [](const py::object& img, const py::object& txt, const py::object& logit_scale) {
        const char* op = "clip_loss";
        return clip_loss(to_tensor(img, op, "img"), to_tensor(txt, op, "txt"),
                         to_tensor_like(logit_scale, to_tensor(img, op, "img"), op));
      },
      py::arg("img"), py::arg("txt"), py::arg("logit_scale"), registry_doc("clip_loss"));
});

}  // namespace loom::python
