// PyTorch-like printing: tensor([[1.0000, 2.0000]], dtype=loom.float64).
// Large tensors are summarized with "..." (3 items at each edge).
#include <cmath>
#include <cstdio>
#include <sstream>

#include "autograd/node.h"
#include "core/tensor.h"

namespace loom {

namespace {

constexpr int64_t kThreshold = 1000;
constexpr int64_t kEdge = 3;

struct Formatter {
  const std::vector<double>& v;
  std::vector<int64_t> ints;  // an integer tensor's exact values: a double holds only 53 bits
  bool floating = false;
  bool sci = false;
  bool all_int = true;
  int width = 1;

  Formatter(const std::vector<double>& values, const Tensor& t) : v(values) {
    const DType dt = t.dtype();
    floating = is_floating(dt);
    if (is_integral(dt)) {
      Tensor c = t.detach().to(Device()).to(DType::Int64).contiguous();
      const int64_t* p = c.data_ptr<int64_t>();
      ints.assign(p, p + c.numel());
    }
    double maxabs = 0, minabs = INFINITY;
    for (double x : v) {
      if (!std::isfinite(x)) continue;
      if (x != std::floor(x)) all_int = false;
      maxabs = std::max(maxabs, std::fabs(x));
      if (x != 0) minabs = std::min(minabs, std::fabs(x));
    }
    if (floating && !all_int)
      sci = maxabs >= 1e8 || (minabs < 1e-4 && minabs > 0) || (minabs > 0 && maxabs / minabs > 1e3);
    if (floating && all_int) sci = maxabs >= 1e8;
    for (size_t i = 0; i < v.size(); ++i) width = std::max<int>(width, static_cast<int>(fmt(i).size()));
  }
  std::string fmt(size_t i) const {
    if (!ints.empty()) return std::to_string(ints[i]);
    const double x = v[i];
    char buf[64];
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    if (sci) std::snprintf(buf, sizeof buf, "%.4e", x);
    else if (all_int) std::snprintf(buf, sizeof buf, "%.0f.", x);
    else std::snprintf(buf, sizeof buf, "%.4f", x);
    return buf;
  }
  std::string cell(size_t i, DType dt) const {
    std::string s = dt == DType::Bool ? (v[i] != 0 ? "True" : "False") : fmt(i);
    if (dt != DType::Bool) s = std::string(width - s.size(), ' ') + s;
    return s;
  }
};

void print_rec(std::ostringstream& os, const std::vector<double>& v, const Shape& shape, const Shape& cstrides,
               int64_t dim, int64_t base, const Formatter& f, DType dt, bool summarize, int indent) {
  int64_t n = shape[dim];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdge && i == kEdge) {
      os << (dim + 1 == static_cast<int64_t>(shape.size()) ? "..., " : "...,\n" + std::string(indent + 1, ' '));
      i = n - kEdge;
    }
    int64_t off = base + i * cstrides[dim];
    if (dim + 1 == static_cast<int64_t>(shape.size())) {
      os << f.cell(static_cast<size_t>(off), dt);
    } else {
      print_rec(os, v, shape, cstrides, dim + 1, off, f, dt, summarize, indent + 1);
    }
    if (i + 1 < n) {
      if (dim + 1 == static_cast<int64_t>(shape.size())) os << ", ";
      else os << "," << std::string(shape.size() - dim - 1, '\n') << std::string(indent + 1, ' ');
    }
  }
  os << ']';
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  os << "tensor(";
  std::vector<double> v = to_vector();
  Formatter f(v, *this);
  if (dim() == 0) {
    os << f.cell(0, dtype());
  } else if (numel() == 0) {
    os << "[]";
  } else {
    Shape cstr(dim());
    int64_t st = 1;
    for (int64_t d = dim() - 1; d >= 0; --d) {
      cstr[d] = st;
      st *= sizes()[d];
    }
    print_rec(os, v, sizes(), cstr, 0, 0, f, dtype(), numel() > kThreshold, 7);
  }
  if (numel() == 0 && dim() != 1) os << ", size=" << detail::str(sizes());
  if (is_cuda()) os << ", device='" << device().str() << "'";
  bool default_dtype = dtype() == DType::Float32 || dtype() == DType::Int64 || dtype() == DType::Bool;
  if (!default_dtype) os << ", dtype=loom." << dtype_name(dtype());
  if (grad_fn()) os << ", grad_fn=<" << grad_fn()->name() << ">";
  else if (requires_grad()) os << ", requires_grad=True";
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace loom
