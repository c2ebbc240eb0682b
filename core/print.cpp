// PyTorch's printing: tensor([[1.0000, 2.0000]], dtype=loom.float64), with
// torch.set_printoptions' precision, threshold (larger tensors are summarized
// with "...", edgeitems at each end), linewidth (rows wrap) and sci_mode.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>

#include "autograd/node.h"
#include "core/print.h"
#include "core/tensor.h"

namespace loom {

namespace {

std::mutex g_print_mutex;
PrintOptions g_print;

std::string format_double(const char* spec, int precision, double x) {
  char buf[512];
  std::snprintf(buf, sizeof buf, spec, precision, x);
  return buf;
}

// PyTorch's _Formatter: one width and one mode (integer-valued floats "3.",
// fixed "%.4f" or scientific "%.4e") for every element, chosen from the
// nonzero finite values that are printed.
struct Formatter {
  const PrintOptions& opt;
  bool floating = false;
  bool boolean = false;
  bool int_mode = true;
  bool sci = false;
  size_t width = 1;

  Formatter(const PrintOptions& o, DType dt, const std::vector<double>& shown, const std::vector<int64_t>& ints)
      : opt(o), floating(is_floating(dt)), boolean(dt == DType::Bool) {
    if (boolean) {
      for (double x : shown) width = std::max<size_t>(width, x != 0 ? 4 : 5);
    } else if (!floating) {
      for (int64_t x : ints) width = std::max(width, std::to_string(x).size());
    } else {
      double mx = 0, mn = INFINITY;
      bool any = false;
      for (double x : shown) {
        if (!std::isfinite(x) || x == 0) continue;
        any = true;
        if (x != std::ceil(x)) int_mode = false;
        mx = std::max(mx, std::fabs(x));
        mn = std::min(mn, std::fabs(x));
      }
      if (any) {
        sci = opt.sci_mode >= 0 ? opt.sci_mode == 1 : mx / mn > 1000.0 || mx > 1.0e8 || mn < 1.0e-4;
        for (double x : shown) {
          if (!std::isfinite(x) || x == 0) continue;
          size_t len = sci        ? format_double("%.*e", opt.precision, x).size()
                       : int_mode ? format_double("%.*f", 0, x).size() + 1
                                  : format_double("%.*f", opt.precision, x).size();
          width = std::max(width, len);
        }
      }
    }
  }
  std::string raw(double x, int64_t i) const {
    if (boolean) return x != 0 ? "True" : "False";
    if (!floating) return std::to_string(i);
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    if (sci) return format_double("%.*e", opt.precision, x);
    if (int_mode) return format_double("%.*f", 0, x) + ".";
    return format_double("%.*f", opt.precision, x);
  }
  std::string cell(double x, int64_t i) const {
    const std::string s = raw(x, i);
    return s.size() < width ? std::string(width - s.size(), ' ') + s : s;
  }
};

// v and ints hold the values of the printed tensor with each cut dimension reduced to its edgeitems at
// each end (Tensor::str), contiguous with strides cstrides; shape is the tensor's own.
struct Printer {
  const std::vector<double>& v;
  const std::vector<int64_t>& ints;
  const Shape& shape;
  Shape cstrides;
  const PrintOptions& opt;
  bool summarize;
  const Formatter* f = nullptr;  // set once collect() has chosen the format

  bool cut(int64_t dim) const { return summarize && shape[dim] > 2 * opt.edgeitems; }
  // Where index i of dimension dim is in the reduced values: the last edgeitems follow the first ones.
  int64_t offset(int64_t dim, int64_t i) const {
    const int64_t at = cut(dim) && i >= opt.edgeitems ? i - (shape[dim] - 2 * opt.edgeitems) : i;
    return at * cstrides[dim];
  }

  // The indices of dimension `dim` that are printed (-1: the "..." in their place).
  std::vector<int64_t> shown(int64_t dim) const {
    std::vector<int64_t> idx;
    const int64_t n = shape[dim];
    if (summarize && opt.edgeitems == 0 && n > 0) return {-1};
    if (!cut(dim)) {
      for (int64_t i = 0; i < n; ++i) idx.push_back(i);
      return idx;
    }
    for (int64_t i = 0; i < opt.edgeitems; ++i) idx.push_back(i);
    idx.push_back(-1);
    for (int64_t i = n - opt.edgeitems; i < n; ++i) idx.push_back(i);
    return idx;
  }

  std::string element(int64_t off) const {
    return f->cell(v[static_cast<size_t>(off)], ints.empty() ? 0 : ints[static_cast<size_t>(off)]);
  }

  std::string str(int64_t dim, int64_t base, int64_t indent) const {
    const int64_t nd = static_cast<int64_t>(shape.size());
    std::vector<std::string> parts;
    if (dim + 1 == nd) {
      const char* dots = opt.edgeitems == 0 ? "..." : " ...";
      for (int64_t i : shown(dim)) parts.push_back(i < 0 ? dots : element(base + offset(dim, i)));
      const int64_t per_line = std::max<int64_t>(1, (opt.linewidth - indent) / static_cast<int64_t>(f->width + 2));
      std::string out = "[";
      for (size_t k = 0; k < parts.size(); ++k) {
        if (k) out += k % per_line == 0 ? ",\n" + std::string(indent + 1, ' ') : ", ";
        out += parts[k];
      }
      return out + "]";
    }
    for (int64_t i : shown(dim)) parts.push_back(i < 0 ? "..." : str(dim + 1, base + offset(dim, i), indent + 1));
    const std::string sep = "," + std::string(nd - dim - 1, '\n') + std::string(indent + 1, ' ');
    std::string out = "[";
    for (size_t k = 0; k < parts.size(); ++k) out += (k ? sep : "") + parts[k];
    return out + "]";
  }

  // The offsets of the printed elements, whose values alone choose the format (PyTorch's summarized data).
  void collect(int64_t dim, int64_t base, std::vector<int64_t>& out) const {
    for (int64_t i : shown(dim)) {
      if (i < 0) continue;
      const int64_t off = base + offset(dim, i);
      if (dim + 1 == static_cast<int64_t>(shape.size())) out.push_back(off);
      else collect(dim + 1, off, out);
    }
  }
};

}  // namespace

PrintOptions print_options() {
  std::lock_guard<std::mutex> lock(g_print_mutex);
  return g_print;
}

void set_print_options(const PrintOptions& o) {
  LOOM_CHECK_VALUE(o.precision >= 0 && o.precision <= 100, "set_printoptions: precision must be in [0, 100], got ",
                   o.precision);
  LOOM_CHECK_VALUE(o.threshold >= 0, "set_printoptions: threshold must be >= 0, got ", o.threshold);
  LOOM_CHECK_VALUE(o.edgeitems >= 0, "set_printoptions: edgeitems must be >= 0, got ", o.edgeitems);
  LOOM_CHECK_VALUE(o.linewidth >= 1, "set_printoptions: linewidth must be >= 1, got ", o.linewidth);
  std::lock_guard<std::mutex> lock(g_print_mutex);
  g_print = o;
}

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const PrintOptions opt = print_options();
  const std::string prefix = "tensor(";
  const int64_t indent = static_cast<int64_t>(prefix.size());
  std::vector<std::string> suffixes;
  if (is_cuda()) suffixes.push_back("device='" + device().str() + "'");
  std::string body;
  std::string size = "size=(";
  for (int64_t d = 0; d < dim(); ++d) size += (d ? ", " : "") + std::to_string(sizes()[d]);
  size += dim() == 1 ? ",)" : ")";
  // The dtype is implied by the values unless it is another floating type than the default; an empty
  // tensor has no values, so only the default dtype goes without saying.
  bool implied = dtype() == default_dtype() || dtype() == DType::Int64 || dtype() == DType::Bool;
  if (numel() == 0) {
    body = "[]";
    if (dim() != 1) suffixes.push_back(size);
    implied = dtype() == default_dtype();
  } else {
    if (opt.edgeitems == 0) suffixes.push_back(size);
    // A summarized tensor shows edgeitems at each end of its long dimensions: only those are read (narrow
    // and cat), so printing a huge tensor costs what is shown, not copies of all of it.
    const bool summarize = dim() > 0 && numel() > opt.threshold;
    Tensor shown = detach();
    for (int64_t d = 0; summarize && d < dim(); ++d) {
      const int64_t n = sizes()[d], e = opt.edgeitems;
      if (n > 2 * e) shown = cat({shown.narrow(d, 0, e), shown.narrow(d, n - e, e)}, d);
    }
    std::vector<double> v = shown.to_vector();
    std::vector<int64_t> ints;
    if (is_integral(dtype())) {
      Tensor c = shown.to(Device()).to(DType::Int64).contiguous();
      const int64_t* p = c.data_ptr<int64_t>();
      ints.assign(p, p + c.numel());
    }
    if (dim() == 0) {
      Formatter f(opt, dtype(), v, ints);
      body = f.cell(v[0], ints.empty() ? 0 : ints[0]);
    } else {
      Shape cstr(dim());
      int64_t st = 1;
      for (int64_t d = dim() - 1; d >= 0; --d) {
        cstr[d] = st;
        st *= shown.sizes()[d];
      }
      Printer pr{v, ints, sizes(), cstr, opt, summarize};
      std::vector<int64_t> offs;
      pr.collect(0, 0, offs);
      std::vector<double> vals;
      std::vector<int64_t> val_ints;
      for (int64_t o : offs) {
        vals.push_back(v[static_cast<size_t>(o)]);
        if (!ints.empty()) val_ints.push_back(ints[static_cast<size_t>(o)]);
      }
      Formatter f(opt, dtype(), vals, val_ints);
      pr.f = &f;
      body = pr.str(0, 0, indent);
    }
  }
  if (!implied) suffixes.push_back(std::string("dtype=loom.") + dtype_name(dtype()));
  if (grad_fn()) suffixes.push_back("grad_fn=<" + grad_fn()->name() + ">");
  else if (requires_grad()) suffixes.push_back("requires_grad=True");
  // PyTorch's _add_suffixes: a suffix that would pass linewidth starts a new line.
  std::string out = prefix + body;
  const size_t nl = out.rfind('\n');
  int64_t last_line = static_cast<int64_t>(nl == std::string::npos ? out.size() + 2 : out.size() - nl + 1);
  for (const std::string& s : suffixes) {
    const int64_t len = static_cast<int64_t>(s.size());
    if (last_line + len + 2 > opt.linewidth) {
      out += ",\n" + std::string(indent, ' ') + s;
      last_line = indent + len;
    } else {
      out += ", " + s;
      last_line += len + 2;
    }
  }
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace loom
