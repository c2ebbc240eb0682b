// loom.nn.functional.grid_sample / affine_grid (PyTorch's signatures;
// align_corners=None means False, as PyTorch's default).
#include "autograd/ops/grid.h"
#include "common.h"
#include "python/ops_docs.h"

namespace loom::python {

static RegisterFunctional reg_grid([](py::module_& f) {
  f.def(
      "grid_sample",
      [](const Tensor& input, const Tensor& grid, const std::string& mode, const std::string& padding_mode,
         std::optional<bool> align_corners) {
        return loom::grid_sample(input, grid, mode, padding_mode, align_corners.value_or(false));
      },
      py::arg("input"), py::arg("grid"), py::arg("mode") = "bilinear", py::arg("padding_mode") = "zeros",
      py::arg("align_corners") = py::none(), registry_doc("grid_sample"));
  f.def(
      "affine_grid",
      [](const Tensor& theta, py::handle size, std::optional<bool> align_corners) {
        return loom::affine_grid(theta, to_dims(size), align_corners.value_or(false));
      },
      py::arg("theta"), py::arg("size"), py::arg("align_corners") = py::none(), registry_doc("affine_grid"));
});

}  // namespace loom::python
