// loom._C._functional._nn: the C++ nn::Module base and a few C++ modules, so a
// Python loom.nn.CppModule can wrap a C++-constructed module (its parameters
// and buffers are the C++ module's own tensors, shared, not copies).
#include "common.h"
#include "nn/nn.h"

namespace loom::python {

void bind_multimodal_modules(py::module_& m);  // multimodal.cpp

namespace {

py::list named_list(const nn::NamedTensors& v) {
  py::list out;
  for (auto& kv : v) out.append(py::make_tuple(kv.first, kv.second));
  return out;
}

nn::StateDict to_state_dict(const py::handle& obj) {
  nn::StateDict sd;
  py::object items = py::hasattr(obj, "items") ? obj.attr("items")() : py::reinterpret_borrow<py::object>(obj);
  for (auto item : items) {
    auto t = item.cast<py::tuple>();
    sd.emplace_back(t[0].cast<std::string>(), to_tensor(t[1], "load_state_dict", "value"));
  }
  return sd;
}

void bind(py::module_& f) {
  auto m = f.def_submodule("_nn", "C++ nn modules (wrapped by loom.nn.CppModule)");
  py::class_<nn::Module, std::shared_ptr<nn::Module>>(m, "Module")
      .def_property_readonly("type_name", &nn::Module::type_name)
      .def(
          "named_parameters",
          [](const nn::Module& self, const std::string& prefix, bool recurse) {
            return named_list(self.named_parameters(prefix, recurse));
          },
          py::arg("prefix") = "", py::arg("recurse") = true)
      .def(
          "named_buffers",
          [](const nn::Module& self, const std::string& prefix, bool recurse) {
            return named_list(self.named_buffers(prefix, recurse));
          },
          py::arg("prefix") = "", py::arg("recurse") = true)
      .def("state_dict", [](const nn::Module& self) { return named_list(self.state_dict()); })
      .def(
          "load_state_dict",
          [](nn::Module& self, const py::object& sd, bool strict) {
            return self.load_state_dict(to_state_dict(sd), strict);
          },
          py::arg("state_dict"), py::arg("strict") = true)
      .def("train", &nn::Module::train, py::arg("mode") = true)
      .def("eval", &nn::Module::eval)
      .def_property_readonly("training", &nn::Module::is_training)
      .def("zero_grad", &nn::Module::zero_grad, py::arg("set_to_none") = true)
      .def("to_device", [](nn::Module& self, py::handle d) { self.to(to_device(d)); })
      .def("to_dtype", [](nn::Module& self, py::handle t) { self.to(to_dtype(t)); })
      .def("num_parameters", &nn::Module::num_parameters, py::arg("trainable_only") = false)
      .def("extra_repr", &nn::Module::extra_repr)
      .def("__repr__", &nn::Module::repr);

  py::class_<nn::Linear, nn::Module, std::shared_ptr<nn::Linear>>(m, "Linear")
      .def(py::init([](int64_t in, int64_t out, bool bias, py::handle dtype, py::handle device) {
             return std::make_shared<nn::Linear>(in, out, bias, make_options(dtype, device, false));
           }),
           py::arg("in_features"), py::arg("out_features"), py::arg("bias") = true, py::arg("dtype") = py::none(),
           py::arg("device") = py::none())
      .def("forward", &nn::Linear::forward);
  py::class_<nn::LayerNorm, nn::Module, std::shared_ptr<nn::LayerNorm>>(m, "LayerNorm")
      .def(py::init([](py::handle shape, double eps, bool affine) {
             return std::make_shared<nn::LayerNorm>(to_dims(shape), eps, affine);
           }),
           py::arg("normalized_shape"), py::arg("eps") = 1e-5, py::arg("elementwise_affine") = true)
      .def("forward", &nn::LayerNorm::forward);
  py::class_<nn::Conv2d, nn::Module, std::shared_ptr<nn::Conv2d>>(m, "Conv2d")
      .def(py::init([](int64_t in, int64_t out, py::handle k, py::handle s, py::handle p, py::handle d, int64_t groups,
                       bool bias) {
             return std::make_shared<nn::Conv2d>(in, out, to_dims(k), to_dims(s), to_dims(p), to_dims(d), groups, bias);
           }),
           py::arg("in_channels"), py::arg("out_channels"), py::arg("kernel_size"), py::arg("stride") = 1,
           py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("groups") = 1, py::arg("bias") = true)
      .def("forward", &nn::Conv2d::forward);
  py::class_<nn::Embedding, nn::Module, std::shared_ptr<nn::Embedding>>(m, "Embedding")
      .def(py::init([](int64_t n, int64_t d, std::optional<int64_t> pad) {
             return std::make_shared<nn::Embedding>(n, d, pad);
           }),
           py::arg("num_embeddings"), py::arg("embedding_dim"), py::arg("padding_idx") = py::none())
      .def("forward", &nn::Embedding::forward);
  py::class_<nn::BatchNorm1d, nn::Module, std::shared_ptr<nn::BatchNorm1d>>(m, "BatchNorm1d")
      .def(py::init([](int64_t c, double eps, double momentum) {
             return std::make_shared<nn::BatchNorm1d>(c, eps, momentum);
           }),
           py::arg("num_features"), py::arg("eps") = 1e-5, py::arg("momentum") = 0.1)
      .def("forward", &nn::BatchNorm1d::forward);
  py::class_<nn::Sequential, nn::Module, std::shared_ptr<nn::Sequential>>(m, "Sequential")
      .def(py::init<>())
      .def("append_linear", [](nn::Sequential& s, std::shared_ptr<nn::Linear> l) { s.push_back(l); })
      .def("append_relu", [](nn::Sequential& s) { s.push_back(std::make_shared<nn::ReLU>()); })
      .def("forward", &nn::Sequential::forward);

  auto init = m.def_submodule("init", "loom::nn::init (C++)");
  init.def("calculate_gain", &nn::init::calculate_gain, py::arg("nonlinearity"), py::arg("param") = -1.0);
  init.def(
      "kaiming_uniform_",
      [](Tensor t, double a, const std::string& mode, const std::string& nl) {
        return nn::init::kaiming_uniform_(t, a, mode, nl);
      },
      py::arg("tensor"), py::arg("a") = 0.0, py::arg("mode") = "fan_in", py::arg("nonlinearity") = "leaky_relu");
  init.def(
      "xavier_uniform_", [](Tensor t, double gain) { return nn::init::xavier_uniform_(t, gain); }, py::arg("tensor"),
      py::arg("gain") = 1.0);
  init.def(
      "orthogonal_", [](Tensor t, double gain) { return nn::init::orthogonal_(t, gain); }, py::arg("tensor"),
      py::arg("gain") = 1.0);
  bind_multimodal_modules(m);
}

RegisterFunctional reg_nn_module(&bind);

}  // namespace
}  // namespace loom::python
