// loom._C._functional: the differentiable ops of loom.nn.functional. Each op
// family registers its bindings from its own file (RegisterFunctional).
#include <vector>

#include "common.h"

namespace loom::python {

namespace {
std::vector<FunctionalBinder>& binders() {
  static std::vector<FunctionalBinder> list;
  return list;
}
}  // namespace

RegisterFunctional::RegisterFunctional(FunctionalBinder binder) { binders().push_back(binder); }

void init_functional(py::module_& m) {
  py::module_ f = m.def_submodule("_functional", "differentiable ops re-exported by loom.nn.functional");
  for (auto binder : binders()) binder(f);
}

}  // namespace loom::python
