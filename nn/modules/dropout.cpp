#include "nn/modules/dropout.h"

#include <sstream>

#include "autograd/ops/dropout.h"

namespace loom::nn {

Dropout::Dropout(double p) : Module("Dropout"), p(p) {
  LOOM_CHECK_VALUE(p >= 0.0 && p <= 1.0, "Dropout: probability has to be between 0 and 1, but got ", p);
}

Tensor Dropout::forward(const Tensor& x) const { return loom::dropout(x, p, is_training()); }

std::string Dropout::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p << ", inplace=False";
  return os.str();
}

}  // namespace loom::nn
