// loom._C._functional._transforms: the image transforms of
// multimodal/transforms.h, wrapped by loom.multimodal.transforms (the
// torchvision-named classes, which hold the bound transform objects below)
// and loom.multimodal.transforms.functional (the functions). Arguments arrive
// normalised by those wrappers; the work runs with the GIL released.
//
// A random transform's call seeds a std::mt19937_64 from loom's global CPU
// generator, or from the loom.Generator passed as generator=, with the GIL
// held (draw_with swaps the generator's state in only for that draw); the
// transform then runs on its own copy, so threads may call it at once.
#include "common.h"
#include "multimodal/transforms.h"

namespace loom::python {
namespace {

namespace mt = loom::multimodal::transforms;
using loom::multimodal::Generator;

mt::Interpolation to_mode(const std::string& mode, const char* op) {
  if (mode == "bilinear") return mt::Interpolation::Bilinear;
  if (mode == "nearest") return mt::Interpolation::Nearest;
  throw py::value_error(std::string(op) + ": interpolation must be \"bilinear\" or \"nearest\", got \"" + mode + "\"");
}

// One call's generator, from the global CPU stream or from `generator`.
Generator seed_generator(py::handle generator, const char* op) {
  Generator gen;
  draw_with(generator, Device(), Device(), op, [&] {
    gen = multimodal::generator_from_global();
    return Tensor();
  });
  return gen;
}

// Binds T(...) as a class whose __call__(img, generator=None) runs it; only
// the random ones (draws = true) take a generator and advance the global one.
template <typename T>
py::class_<T> bind_transform(py::module_& m, const char* name, bool draws) {
  py::class_<T> cls(m, name);
  cls.def(
      "__call__",
      [name, draws](const T& t, const Tensor& img, py::handle generator) {
        Generator gen = draws ? seed_generator(generator, name) : Generator(0);
        py::gil_scoped_release release;
        return t(img, gen);
      },
      py::arg("img"), py::arg("generator") = py::none());
  return cls;
}

// Runs f() without the GIL.
template <typename F>
Tensor released(F f) {
  py::gil_scoped_release release;
  return f();
}

using Range = std::array<double, 2>;
using Fill = std::vector<double>;

void bind(py::module_& f) {
  py::module_ m = f.def_submodule("_transforms", "image transforms (multimodal/transforms.h)");

  m.def(
      "normalize",
      [](const Tensor& x, const Fill& mean, const Fill& std) {
        return released([&] { return mt::normalize(x, mean, std); });
      },
      py::arg("tensor"), py::arg("mean"), py::arg("std"));
  m.def(
      "crop",
      [](const Tensor& x, int64_t top, int64_t left, int64_t height, int64_t width) {
        return released([&] { return mt::crop(x, top, left, height, width); });
      },
      py::arg("img"), py::arg("top"), py::arg("left"), py::arg("height"), py::arg("width"));
  m.def(
      "center_crop",
      [](const Tensor& x, const Shape& size) { return released([&] { return mt::center_crop(x, size); }); },
      py::arg("img"), py::arg("output_size"));
  m.def(
      "resize",
      [](const Tensor& x, const Shape& size, const std::string& mode) {
        const mt::Interpolation md = to_mode(mode, "resize");
        return released([&] { return mt::resize(x, size, md); });
      },
      py::arg("img"), py::arg("size"), py::arg("interpolation") = "bilinear");
  m.def(
      "hflip", [](const Tensor& x) { return released([&] { return mt::horizontal_flip(x); }); }, py::arg("img"));
  m.def(
      "vflip", [](const Tensor& x) { return released([&] { return mt::vertical_flip(x); }); }, py::arg("img"));
  m.def(
      "rotate",
      [](const Tensor& x, double angle, const Fill& fill, const std::string& mode) {
        const mt::Interpolation md = to_mode(mode, "rotate");
        return released([&] { return mt::rotate(x, angle, fill, md); });
      },
      py::arg("img"), py::arg("angle"), py::arg("fill") = Fill{0.0}, py::arg("interpolation") = "bilinear");
  m.def(
      "affine",
      [](const Tensor& x, double angle, const Range& translate, double scale, const Range& shear, const Fill& fill,
         const std::string& mode) {
        const mt::Interpolation md = to_mode(mode, "affine");
        return released([&] { return mt::affine(x, angle, translate, scale, shear, fill, md); });
      },
      py::arg("img"), py::arg("angle"), py::arg("translate"), py::arg("scale"), py::arg("shear"),
      py::arg("fill") = Fill{0.0}, py::arg("interpolation") = "bilinear");
  m.def(
      "adjust_brightness",
      [](const Tensor& x, double v) { return released([&] { return mt::adjust_brightness(x, v); }); }, py::arg("img"),
      py::arg("brightness_factor"));
  m.def(
      "adjust_contrast", [](const Tensor& x, double v) { return released([&] { return mt::adjust_contrast(x, v); }); },
      py::arg("img"), py::arg("contrast_factor"));
  m.def(
      "adjust_saturation",
      [](const Tensor& x, double v) { return released([&] { return mt::adjust_saturation(x, v); }); }, py::arg("img"),
      py::arg("saturation_factor"));
  m.def(
      "adjust_hue", [](const Tensor& x, double v) { return released([&] { return mt::adjust_hue(x, v); }); },
      py::arg("img"), py::arg("hue_factor"));

  bind_transform<mt::RandomRotation>(m, "RandomRotation", true)
      .def(py::init([](const Range& degrees, const Fill& fill, const std::string& mode) {
             return mt::RandomRotation(degrees, fill, to_mode(mode, "RandomRotation"));
           }),
           py::arg("degrees"), py::arg("fill"), py::arg("interpolation"));
  bind_transform<mt::RandomAffine>(m, "RandomAffine", true)
      .def(py::init([](const Range& degrees, const Range& translate, const Range& scale,
                       const std::array<double, 4>& shear, const Fill& fill, const std::string& mode) {
             return mt::RandomAffine(mt::AffineRanges{degrees, translate, scale, shear}, fill,
                                     to_mode(mode, "RandomAffine"));
           }),
           py::arg("degrees"), py::arg("translate"), py::arg("scale"), py::arg("shear"), py::arg("fill"),
           py::arg("interpolation"));
  bind_transform<mt::RandomHorizontalFlip>(m, "RandomHorizontalFlip", true).def(py::init<double>(), py::arg("p"));
  bind_transform<mt::RandomVerticalFlip>(m, "RandomVerticalFlip", true).def(py::init<double>(), py::arg("p"));
  bind_transform<mt::RandomResizedCrop>(m, "RandomResizedCrop", true)
      .def(py::init([](const Shape& size, const Range& scale, const Range& ratio, const std::string& mode) {
             return mt::RandomResizedCrop(size, scale, ratio, to_mode(mode, "RandomResizedCrop"));
           }),
           py::arg("size"), py::arg("scale"), py::arg("ratio"), py::arg("interpolation"));
  bind_transform<mt::RandomCrop>(m, "RandomCrop", true)
      .def(py::init<Shape, int64_t>(), py::arg("size"), py::arg("padding"));
  bind_transform<mt::CenterCrop>(m, "CenterCrop", false).def(py::init<Shape>(), py::arg("size"));
  bind_transform<mt::Resize>(m, "Resize", false)
      .def(py::init(
               [](const Shape& size, const std::string& mode) { return mt::Resize(size, to_mode(mode, "Resize")); }),
           py::arg("size"), py::arg("interpolation"));
  bind_transform<mt::ColorJitter>(m, "ColorJitter", true)
      .def(py::init([](const Range& b, const Range& c, const Range& s, const Range& h) {
             return mt::ColorJitter(mt::JitterRanges{b, c, s, h});
           }),
           py::arg("brightness"), py::arg("contrast"), py::arg("saturation"), py::arg("hue"));
  bind_transform<mt::Normalize>(m, "Normalize", false).def(py::init<Fill, Fill>(), py::arg("mean"), py::arg("std"));
}

}  // namespace

static RegisterFunctional reg_transforms(&bind);

}  // namespace loom::python
