// The Shapes evaluation protocol of multimodal/shapes_eval.h, bound into
// loom._C._functional._shapes beside Shapes and re-exported by
// loom.multimodal: ShapesRetrieval (retrieval against the caption oracle) and
// shapes_caption_truth. Metric maps come back as nested dicts
// ({"scene": {"text_to_image": {"R@1": ...}}}).
#include "common.h"
#include "multimodal/shapes_eval.h"

namespace loom::python {

namespace {

using multimodal::ShapesDataset;
using multimodal::ShapesRetrieval;

// {"a.b.c": v} -> {"a": {"b": {"c": v}}}
py::dict nest(const std::map<std::string, double>& flat) {
  py::dict root;
  for (const auto& [key, value] : flat) {
    py::dict node = root;
    size_t start = 0;
    for (size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
      py::str part(key.substr(start, dot - start));
      if (!node.contains(part)) node[part] = py::dict();
      node = node[part].cast<py::dict>();
      start = dot + 1;
    }
    node[py::str(key.substr(start))] = value;
  }
  return root;
}

std::vector<ShapesRetrieval::Probe> to_probes(const py::handle& h) {
  std::vector<ShapesRetrieval::Probe> out;
  for (py::handle item : py::iter(h)) {
    py::tuple t = py::reinterpret_borrow<py::object>(item).cast<py::tuple>();
    if (t.size() != 2) throw py::type_error("ShapesRetrieval: a probe is a (caption index, rewording) pair");
    out.push_back({t[0].cast<int64_t>(), t[1].cast<std::string>()});
  }
  return out;
}

}  // namespace

void bind_shapes_eval(py::module_& m) {
  m.def(
      "shapes_caption_truth",
      [](const std::vector<std::string>& captions, const ShapesDataset& data, const std::vector<int64_t>& indices) {
        std::vector<std::vector<multimodal::ShapeObject>> scenes;
        for (int64_t i : indices) scenes.push_back(data.objects(i));
        py::gil_scoped_release release;
        return multimodal::shapes_caption_truth(captions, scenes, data.config().image_size);
      },
      py::arg("captions"), py::arg("shapes"), py::arg("indices"),
      "bool [len(captions), len(indices)]: caption t (of the Shapes grammar) is true of image indices[n] of shapes.");
  py::class_<ShapesRetrieval>(m, "ShapesRetrieval", R"doc(
ShapesRetrieval(shapes, n)

Retrieval over the first n images of a Shapes dataset and all their captions, scored
against the caption oracle (multimodal/shapes_eval.h): texts (every caption, image by
image), owner (the image of each), truth (bool [T, N]), scene_truth (bool [N, N]: every
caption of image i is true of image j); ceilings(ks) (the oracle's expected recalls),
score(image_emb, text_emb, scale, ks) -> (metrics, scene scores [N, N], caption logits
[T, N]), order_probes() and probe_accuracy(probes, image_emb, text_emb, rewording_emb).)doc")
      .def(py::init([](const ShapesDataset& data, int64_t n) {
             py::gil_scoped_release release;
             return new ShapesRetrieval(data, n);
           }),
           py::arg("shapes"), py::arg("n"))
      .def("__len__", &ShapesRetrieval::size)
      .def_property_readonly("n", &ShapesRetrieval::size)
      .def_property_readonly("image_size", &ShapesRetrieval::image_size)
      .def_property_readonly("texts", &ShapesRetrieval::texts)
      .def_property_readonly("owner", &ShapesRetrieval::owner)
      .def_property_readonly("truth", &ShapesRetrieval::truth)
      .def_property_readonly("scene_truth", &ShapesRetrieval::scene_truth)
      .def(
          "ceilings", [](const ShapesRetrieval& r, const std::vector<int64_t>& ks) { return nest(r.ceilings(ks)); },
          py::arg("ks") = std::vector<int64_t>{1, 5, 10})
      .def(
          "score",
          [](const ShapesRetrieval& r, const Tensor& image_emb, const Tensor& text_emb, const py::object& scale,
             const std::vector<int64_t>& ks) {
            const double s = py::isinstance<Tensor>(scale) ? scale.cast<Tensor>().item<double>() : scale.cast<double>();
            ShapesRetrieval::Scores out;
            {
              py::gil_scoped_release release;
              out = r.score(image_emb, text_emb, s, ks);
            }
            return py::make_tuple(nest(out.metrics), out.scene, out.caption_logits);
          },
          py::arg("image_emb"), py::arg("text_emb"), py::arg("scale"), py::arg("ks") = std::vector<int64_t>{1, 5, 10})
      .def("order_probes",
           [](const ShapesRetrieval& r) {
             py::dict out;
             for (const auto& [name, probes] : r.order_probes()) {
               py::list l;
               for (const auto& p : probes) l.append(py::make_tuple(p.caption, p.rewording));
               out[py::str(name)] = l;
             }
             return out;
           })
      .def(
          "probe_accuracy",
          [](const ShapesRetrieval& r, const py::object& probes, const Tensor& image_emb, const Tensor& text_emb,
             const Tensor& rewording_emb) {
            return r.probe_accuracy(to_probes(probes), image_emb, text_emb, rewording_emb);
          },
          py::arg("probes"), py::arg("image_emb"), py::arg("text_emb"), py::arg("rewording_emb"));
}

}  // namespace loom::python
