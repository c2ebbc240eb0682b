// loom._C._functional._shapes.Shapes, re-exported as loom.multimodal.Shapes:
// the procedural dataset of multimodal/shapes.h as a map-style dataset (len,
// [i] -> dict) with batch rendering on loom's thread pool and the fixed
// vocabularies. Generation runs with the GIL released.
#include <algorithm>

#include "common.h"
#include "multimodal/shapes.h"

namespace loom::python {

void bind_shapes_eval(py::module_& m);  // shapes_eval.cpp

namespace {

using multimodal::ShapeObject;
using multimodal::ShapesConfig;
using multimodal::ShapesDataset;
using multimodal::ShapesSample;
using namespace pybind11::literals;

py::dict object_dict(const ShapeObject& o) {
  return py::dict("shape"_a = ShapesDataset::shape_names()[o.shape], "color"_a = ShapesDataset::color_names()[o.color],
                  "size"_a = ShapesDataset::size_names()[o.size], "x"_a = o.x, "y"_a = o.y, "radius"_a = o.radius);
}

py::dict sample_dict(const ShapesSample& s) {
  py::list objects, questions, answers, types;
  for (const ShapeObject& o : s.objects) objects.append(object_dict(o));
  for (const auto& qa : s.questions) {
    questions.append(qa.question);
    answers.append(qa.answer);
    types.append(qa.type);
  }
  return py::dict("image"_a = s.image, "captions"_a = s.captions, "questions"_a = questions, "answers"_a = answers,
                  "question_types"_a = types, "objects"_a = objects, "index"_a = s.index);
}

// A Python index (negative counts from the end, as for a list); IndexError
// names the index as given.
int64_t resolve_index(const ShapesDataset& ds, int64_t given, const char* op) {
  const int64_t i = given < 0 ? given + ds.size() : given;
  LOOM_CHECK_INDEX(i >= 0 && i < ds.size(), op, ": index ", given, " is out of range for a dataset of ", ds.size(),
                   " images");
  return i;
}

int64_t dataset_index(const ShapesDataset& ds, py::handle h, const char* op) {
  return resolve_index(ds, to_int(h, op), op);
}

// A sequence of ints (list, tuple, range, NumPy array) or a 1-D integer Tensor.
std::vector<int64_t> dataset_indices(const ShapesDataset& ds, py::handle h, const char* op) {
  std::vector<int64_t> out;
  if (py::isinstance<Tensor>(h)) {
    const Tensor& t = h.cast<const Tensor&>();
    LOOM_CHECK_TYPE(is_integral(t.dtype()) && t.dtype() != DType::Bool, op,
                    ": indices must be an integer tensor, got dtype ", dtype_name(t.dtype()));
    LOOM_CHECK_VALUE(t.dim() == 1, op, ": indices must be 1-D, got shape ", t.sizes());
    const Tensor ids = t.cpu().to(DType::Int64).contiguous();
    const int64_t* p = ids.data_ptr<int64_t>();
    for (int64_t k = 0; k < ids.numel(); ++k) out.push_back(resolve_index(ds, p[k], op));
    return out;
  }
  if (!is_int_sequence(h))
    throw py::type_error(std::string(op) + ": indices must be a sequence of ints or a 1-D integer Tensor, not " +
                         std::string(py::str(py::type::of(h).attr("__name__"))));
  for (py::handle x : sequence_items(h)) out.push_back(dataset_index(ds, x, op));
  return out;
}

std::shared_ptr<ShapesDataset> make_shapes(int64_t size, const std::string& split, py::handle seed, int64_t image_size,
                                           int64_t min_objects, int64_t max_objects, double noise, bool texture,
                                           py::handle captions_per_image, int64_t questions_per_image,
                                           py::handle holdout) {
  ShapesConfig c;
  c.seed = to_seed(seed, "Shapes");
  c.image_size = image_size;
  c.min_objects = min_objects;
  c.max_objects = max_objects;
  c.noise = noise;
  c.texture = texture;
  if (is_int_sequence(captions_per_image)) {
    py::list range = sequence_items(captions_per_image);
    if (range.size() != 2)
      throw py::value_error("Shapes: captions_per_image must be an int or a (min, max) pair, got " +
                            std::string(py::repr(captions_per_image)));
    c.min_captions = to_int(range[0], "Shapes: captions_per_image");
    c.max_captions = to_int(range[1], "Shapes: captions_per_image");
  } else {
    c.min_captions = c.max_captions = to_int(captions_per_image, "Shapes: captions_per_image");
  }
  c.questions = questions_per_image;
  if (!holdout.is_none()) {
    c.holdout.clear();
    for (py::handle pair : sequence_items(holdout)) {
      const bool is_pair = is_int_sequence(pair) && py::len(pair) == 2;
      if (!is_pair)
        throw py::type_error("Shapes: holdout must be a list of (color, shape) pairs, got an item " +
                             std::string(py::repr(pair)));
      py::list p = sequence_items(pair);
      c.holdout.emplace_back(p[0].cast<std::string>(), p[1].cast<std::string>());
    }
  }
  return std::make_shared<ShapesDataset>(size, split, std::move(c));
}

void bind(py::module_& functional) {
  py::module_ m = functional.def_submodule("_shapes", "the Shapes dataset (multimodal/shapes.h)");
  py::class_<ShapesDataset, std::shared_ptr<ShapesDataset>>(m, "Shapes", R"doc(
Shapes(size, split="train", *, seed=0, image_size=64, min_objects=1, max_objects=4,
       noise=0.03, texture=True, captions_per_image=(3, 5), questions_per_image=4, holdout=None)

A procedural image-caption-question dataset generated on the fly: images of 1-4
coloured shapes, 3-5 true captions each and question-answer pairs. Sample i is a
pure function of (seed, split, i). split: "train", "test" (i.i.d. with train, other
images) or "compositional" (each image has one object whose (color, shape) pair is
held out of train and test). holdout: a list of (color, shape) pairs, None for the
default [("red", "triangle"), ("blue", "circle"), ("green", "square")].
ds[i] is a dict: image (Tensor [3, H, W] in [0, 1]), captions, questions, answers,
question_types (lists of str), objects (list of dicts: shape, color, size, x, y,
radius), index. ds.images(indices) renders a batch [n, 3, H, W] in parallel.)doc")
      .def(py::init(&make_shapes), py::arg("size"), py::arg("split") = "train", py::kw_only(), py::arg("seed") = 0,
           py::arg("image_size") = 64, py::arg("min_objects") = 1, py::arg("max_objects") = 4, py::arg("noise") = 0.03,
           py::arg("texture") = true, py::arg("captions_per_image") = py::make_tuple(3, 5),
           py::arg("questions_per_image") = 4, py::arg("holdout") = py::none())
      .def("__len__", &ShapesDataset::size)
      .def("__getitem__",
           [](const ShapesDataset& ds, py::handle i) {
             const int64_t index = dataset_index(ds, i, "Shapes.__getitem__");
             ShapesSample s;
             {
               py::gil_scoped_release nogil;
               s = ds.sample(index);
             }
             return sample_dict(s);
           })
      .def(
          "images",
          [](const ShapesDataset& ds, py::handle indices) {
            const std::vector<int64_t> idx = dataset_indices(ds, indices, "Shapes.images");
            py::gil_scoped_release nogil;
            return ds.images(idx);
          },
          py::arg("indices"), "Images [n, 3, H, W] of the given indices, rendered on loom's CPU thread pool.")
      .def(
          "captions",
          [](const ShapesDataset& ds, py::handle indices) {
            const std::vector<int64_t> idx = dataset_indices(ds, indices, "Shapes.captions");
            py::gil_scoped_release nogil;
            return ds.captions(idx);
          },
          py::arg("indices"), "The captions of each index (a list of lists), without rendering the images.")
      .def(
          "objects",
          [](const ShapesDataset& ds, py::handle i) {
            py::list out;
            for (const ShapeObject& o : ds.objects(dataset_index(ds, i, "Shapes.objects"))) out.append(object_dict(o));
            return out;
          },
          py::arg("index"))
      .def(
          "held_out",
          [](const ShapesDataset& ds, const std::string& color, const std::string& shape) {
            const auto& cs = ShapesDataset::color_names();
            const auto& ss = ShapesDataset::shape_names();
            const auto c = std::find(cs.begin(), cs.end(), color);
            const auto s = std::find(ss.begin(), ss.end(), shape);
            LOOM_CHECK_VALUE(c != cs.end() && s != ss.end(), "Shapes.held_out: unknown colour or shape (\"", color,
                             "\", \"", shape, "\")");
            return ds.held_out(static_cast<int>(c - cs.begin()), static_cast<int>(s - ss.begin()));
          },
          py::arg("color"), py::arg("shape"))
      .def_property_readonly("split", &ShapesDataset::split)
      .def_property_readonly("seed", [](const ShapesDataset& ds) { return ds.config().seed; })
      .def_property_readonly("image_size", [](const ShapesDataset& ds) { return ds.config().image_size; })
      .def_property_readonly("holdout",
                             [](const ShapesDataset& ds) {
                               py::list out;
                               for (const auto& [c, s] : ds.config().holdout) out.append(py::make_tuple(c, s));
                               return out;
                             })
      .def_property_readonly_static("answer_vocab", [](py::object) { return ShapesDataset::answer_vocab(); })
      .def_property_readonly_static("question_types", [](py::object) { return ShapesDataset::question_types(); })
      .def_property_readonly_static("vocabulary", [](py::object) { return ShapesDataset::vocabulary(); })
      .def_property_readonly_static("shapes", [](py::object) { return ShapesDataset::shape_names(); })
      .def_property_readonly_static("colors", [](py::object) { return ShapesDataset::color_names(); })
      .def_property_readonly_static("sizes", [](py::object) { return ShapesDataset::size_names(); })
      .def("__repr__", [](const ShapesDataset& ds) {
        return "Shapes(" + std::to_string(ds.size()) + ", split='" + ds.split() +
               "', seed=" + std::to_string(ds.config().seed) +
               ", image_size=" + std::to_string(ds.config().image_size) + ")";
      });
  bind_shapes_eval(m);
}

RegisterFunctional reg(&bind);

}  // namespace
}  // namespace loom::python
