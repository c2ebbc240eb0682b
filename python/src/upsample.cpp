// loom._C._functional._upsample_nearest2d / _upsample_bilinear2d / _upsample_bicubic2d: the kernels
// behind F.interpolate (python/loom/nn/functional.py computes output sizes and
// scales from size / scale_factor as PyTorch does); _pad behind F.pad.
#include <string>
#include <vector>

#include "autograd/ops/upsample.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {
namespace {

std::vector<double> scales_arg(py::handle scales) {
  if (scales.is_none()) return {};
  std::vector<double> out;
  for (py::handle s : sequence_items(scales)) out.push_back(s.is_none() ? 0.0 : s.cast<double>());
  return out;
}

}  // namespace

static RegisterFunctional reg_upsample([](py::module_& f) {
  f.def(
      "_upsample_nearest2d",
      [](const Tensor& input, py::object output_size, py::object scales, bool exact) {
        return loom::upsample_nearest2d(input, int_or_tuple(output_size, 2, "upsample_nearest2d", "output_size"),
                                        scales_arg(scales), exact);
      },
      py::arg("input"), py::arg("output_size"), py::arg("scales") = py::none(), py::arg("exact") = false,
      registry_doc("upsample_nearest2d"));
  f.def(
      "_upsample_bilinear2d",
      [](const Tensor& input, py::object output_size, bool align_corners, py::object scales) {
        return loom::upsample_bilinear2d(input, int_or_tuple(output_size, 2, "upsample_bilinear2d", "output_size"),
                                         align_corners, scales_arg(scales));
      },
      py::arg("input"), py::arg("output_size"), py::arg("align_corners") = false, py::arg("scales") = py::none(),
      registry_doc("upsample_bilinear2d"));
  f.def(
      "_upsample_bicubic2d",
      [](const Tensor& input, py::object output_size, bool align_corners, py::object scales) {
        return loom::upsample_bicubic2d(input, int_or_tuple(output_size, 2, "upsample_bicubic2d", "output_size"),
                                        align_corners, scales_arg(scales));
      },
      py::arg("input"), py::arg("output_size"), py::arg("align_corners") = false, py::arg("scales") = py::none(),
      registry_doc("upsample_bicubic2d"));
  f.def(
      "_pad",
      [](const Tensor& input, py::object pad, const std::string& mode, py::object value) {
        const Dims p = to_dims(pad);
        const double v = value.is_none() ? 0.0 : value.cast<double>();
        py::gil_scoped_release release;
        return loom::pad(input, p, mode, v);
      },
      py::arg("input"), py::arg("pad"), py::arg("mode") = "constant", py::arg("value") = py::none(),
      registry_doc("pad"));
});

}  // namespace loom::python
