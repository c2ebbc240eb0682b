#include "nn/modules/activation.h"

namespace loom::nn {

GELU::GELU(std::string approx) : Module("GELU"), approximate(std::move(approx)) {
  LOOM_CHECK_VALUE(approximate == "none" || approximate == "tanh", "GELU: approximate must be 'none' or 'tanh', got '",
                   approximate, "'");
}

}  // namespace loom::nn
