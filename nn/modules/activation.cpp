#include "nn/modules/activation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace loom::nn {

namespace {

// A double as Python prints a float: the fewest significant digits that read back exactly, in fixed
// notation for 1e-4 <= |v| < 1e16 (with ".0" when integral), else as 1e-05.
std::string py_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  int prec = 1;
  for (; prec < 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  const double a = std::fabs(v);
  if (v == 0 || (a >= 1e-4 && a < 1e16)) {
    const int exp10 = v == 0 ? 0 : static_cast<int>(std::floor(std::log10(a)));
    std::snprintf(buf, sizeof buf, "%.*f", std::max(1, prec - 1 - exp10), v);
    std::string s = buf;  // trailing zeros beyond the first decimal go
    while (s.size() > 2 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
    return s;
  }
  std::snprintf(buf, sizeof buf, "%.*g", prec, v);
  return buf;
}

}  // namespace

GELU::GELU(std::string approx) : Module("GELU"), approximate(std::move(approx)) {
  LOOM_CHECK_VALUE(approximate == "none" || approximate == "tanh", "GELU: approximate must be 'none' or 'tanh', got '",
                   approximate, "'");
}

Hardtanh::Hardtanh(double min_val, double max_val) : Module("Hardtanh"), min_val(min_val), max_val(max_val) {
  LOOM_CHECK_VALUE(max_val > min_val, "Hardtanh: max_val (", max_val, ") must be greater than min_val (", min_val, ")");
}

std::string LeakyReLU::extra_repr() const { return "negative_slope=" + py_float(negative_slope); }
std::string ELU::extra_repr() const { return "alpha=" + py_float(alpha); }
std::string CELU::extra_repr() const { return "alpha=" + py_float(alpha); }
std::string Softplus::extra_repr() const { return "beta=" + py_float(beta) + ", threshold=" + py_float(threshold); }
std::string Hardtanh::extra_repr() const { return "min_val=" + py_float(min_val) + ", max_val=" + py_float(max_val); }
std::string Hardshrink::extra_repr() const { return py_float(lambd); }
std::string Softshrink::extra_repr() const { return py_float(lambd); }
std::string Threshold::extra_repr() const { return "threshold=" + py_float(threshold) + ", value=" + py_float(value); }

}  // namespace loom::nn
