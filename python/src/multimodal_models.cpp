// The configurable multimodal models of multimodal/models.h, bound into
// loom._C._functional._nn beside the encoders and fusion modules (called from
// multimodal.cpp: the classes derive from the bound nn::Module and TextEncoder,
// which must be registered first). loom.multimodal wraps them in CppModule.
#include "common.h"
#include "multimodal/models.h"

namespace loom::python {

namespace {

using namespace loom::multimodal;

// A VGG spec from Python: ints (channels) and "M" (a 2x2 max-pool).
std::vector<int64_t> to_spec(py::handle h) {
  if (h.is_none()) return ImageEncoderConfig().spec;
  if (py::isinstance<py::str>(h) || !py::isinstance<py::sequence>(h))
    throw py::type_error("VGGEncoder: spec must be a list of ints and \"M\", got " +
                         std::string(py::str(py::type::of(h).attr("__name__"))));
  std::vector<int64_t> out;
  for (auto item : sequence_items(h)) {
    if (py::isinstance<py::str>(item)) {
      auto s = item.cast<std::string>();
      if (s != "M") throw py::value_error("VGGEncoder: spec entry \"" + s + "\" is neither a channel count nor \"M\"");
      out.push_back(VGGEncoder::kPool);
    } else {
      out.push_back(py_int_to_int64(item, "VGGEncoder spec entry"));
    }
  }
  return out;
}

py::tuple as_tuple(const JointFeatures& f) { return py::make_tuple(f.image, f.text, as_python(f.text_padding_mask)); }

}  // namespace

void bind_multimodal_models(py::module_& m) {
  py::class_<VGGEncoder, nn::Module, std::shared_ptr<VGGEncoder>>(m, "VGGEncoder")
      .def(py::init([](py::handle spec, int64_t in, int64_t dim, const std::string& norm, const std::string& act,
                       const std::string& pool) {
             return std::make_shared<VGGEncoder>(to_spec(spec), in, dim, norm, act, pool);
           }),
           py::arg("spec") = py::none(), py::arg("in_channels") = 3, py::arg("dim") = 256, py::arg("norm") = "batch",
           py::arg("act") = "relu", py::arg("pool") = "avg")
      .def("forward", &VGGEncoder::forward)
      .def("forward_features", &VGGEncoder::forward_features)
      .def("project", &VGGEncoder::project)
      .def("global_pool", &VGGEncoder::global_pool)
      .def_readonly("dim", &VGGEncoder::dim)
      .def_readonly("channels", &VGGEncoder::channels)
      .def_property_readonly("spec", [](const VGGEncoder& e) {
        py::list out;
        for (int64_t v : e.spec) out.append(v == VGGEncoder::kPool ? py::object(py::str("M")) : py::int_(v));
        return out;
      });

  py::class_<RNNTextEncoder, TextEncoder, std::shared_ptr<RNNTextEncoder>>(m, "RNNTextEncoder")
      .def(py::init<int64_t, int64_t, int64_t, int64_t, const std::string&, bool, int64_t, const std::string&>(),
           py::arg("vocab") = 1000, py::arg("embed_dim") = 128, py::arg("hidden") = 256, py::arg("layers") = 1,
           py::arg("cell") = "lstm", py::arg("bidirectional") = false, py::arg("dim") = 256, py::arg("pool") = "last");

  py::class_<VQAModel, nn::Module, std::shared_ptr<VQAModel>>(m, "VQAModel")
      .def(py::init<std::shared_ptr<VGGEncoder>, std::shared_ptr<TextEncoder>, const std::string&, int64_t, int64_t,
                    double, double, int64_t, const std::string&>(),
           py::arg("image_encoder"), py::arg("text_encoder"), py::arg("fusion") = "concat", py::arg("hidden") = 256,
           py::arg("num_answers") = 10, py::arg("dropout") = 0.0, py::arg("modality_dropout") = 0.0,
           py::arg("heads") = 4, py::arg("position") = "none")
      .def("forward", &VQAModel::forward)
      .def(
          "encode",
          [](const VQAModel& v, const Tensor& images, const Tensor& tokens) {
            return as_tuple(v.encode(images, tokens));
          },
          py::arg("images"), py::arg("tokens"))
      .def(
          "classify",
          [](const VQAModel& v, const Tensor& image, const Tensor& text, py::handle mask) {
            return v.classify({image, text, opt_tensor(mask, "VQAModel.classify", "text_padding_mask")});
          },
          py::arg("image"), py::arg("text"), py::arg("text_padding_mask") = py::none())
      .def("last_attention", [](const VQAModel& v) { return as_python(v.last_attention()); })
      .def_readonly("fusion", &VQAModel::fusion)
      .def_readonly("position", &VQAModel::position)
      .def_readonly("num_answers", &VQAModel::num_answers);

  py::class_<DualEncoder, nn::Module, std::shared_ptr<DualEncoder>>(m, "DualEncoder")
      .def(py::init<std::shared_ptr<VGGEncoder>, std::shared_ptr<TextEncoder>, int64_t, double, double>(),
           py::arg("image_encoder"), py::arg("text_encoder"), py::arg("embed_dim") = 256, py::arg("temperature") = 0.07,
           py::arg("max_scale") = 100.0)
      .def(py::init<std::shared_ptr<ImageEncoder>, std::shared_ptr<TextEncoder>, int64_t, double, double>(),
           py::arg("image_encoder"), py::arg("text_encoder"), py::arg("embed_dim") = 256, py::arg("temperature") = 0.07,
           py::arg("max_scale") = 100.0)
      .def("forward", &DualEncoder::forward)
      .def("encode_image", &DualEncoder::encode_image)
      .def("encode_text", &DualEncoder::encode_text)
      .def("logits", &DualEncoder::logits, py::arg("images"), py::arg("tokens"))
      .def("logit_scale", &DualEncoder::logit_scale)
      .def_readonly("embed_dim", &DualEncoder::embed_dim);

  py::class_<MultimodalLoss, nn::Module, std::shared_ptr<MultimodalLoss>>(m, "MultimodalLoss")
      .def(py::init<double, double, double, double>(), py::arg("task") = 1.0, py::arg("inter") = 1.0,
           py::arg("intra") = 0.0, py::arg("temperature") = 0.07)
      .def(
          "forward",
          [](const MultimodalLoss& l, py::handle logits, py::handle targets, py::handle image, py::handle text,
             py::handle image_view, py::handle text_view, py::handle logit_scale) {
            const char* op = "MultimodalLoss";
            MultimodalLossInputs in;
            in.logits = opt_tensor(logits, op, "logits");
            in.targets = opt_tensor(targets, op, "targets");
            in.image = opt_tensor(image, op, "image");
            in.text = opt_tensor(text, op, "text");
            in.image_view = opt_tensor(image_view, op, "image_view");
            in.text_view = opt_tensor(text_view, op, "text_view");
            in.logit_scale = opt_tensor(logit_scale, op, "logit_scale");
            MultimodalLossOutput o = l.forward(in);
            return py::make_tuple(o.total, o.task, o.inter, o.intra);
          },
          py::arg("logits") = py::none(), py::arg("targets") = py::none(), py::arg("image") = py::none(),
          py::arg("text") = py::none(), py::arg("image_view") = py::none(), py::arg("text_view") = py::none(),
          py::arg("logit_scale") = py::none());

  m.def(
      "modality_dropout_masks",
      [](int64_t batch, double p, py::handle dtype, py::handle device) {
        auto [image, text] = modality_dropout_masks(batch, p, make_options(dtype, device, false));
        return py::make_tuple(image, text);
      },
      py::arg("batch"), py::arg("p"), py::arg("dtype") = py::none(), py::arg("device") = py::none());
}

}  // namespace loom::python
