// Float64 references for the registry's general ops (core/ops.toml, `ref`):
// plain loops over host values, or compositions of ops that the harness
// checks on their own (the pointwise ops and reductions). Slow and obvious
// on purpose; inputs are float64 CPU tensors (index inputs keep their dtype).
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace loom::ref {

using Values = std::vector<double>;

inline Tensor from(const Values& v, const Shape& shape) { return from_vector(v, shape); }

inline Values values(const Tensor& x) { return x.detach().contiguous().to_vector(); }

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// f on each value of x.
inline Tensor map(const Tensor& x, const std::function<double(double)>& f) {
  Values v = values(x);
  for (double& e : v) e = f(e);
  return from(v, x.sizes());
}

// f on each pair of values of a and b, broadcast.
inline Tensor map2(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  const Shape s = broadcast_shapes(a.sizes(), b.sizes());
  const Values va = values(a.expand(s)), vb = values(b.expand(s));
  Values out(va.size());
  for (size_t i = 0; i < va.size(); ++i) out[i] = f(va[i], vb[i]);
  return from(out, s);
}

// f on each triple of values of a, b and c, broadcast.
inline Tensor map3(const Tensor& a, const Tensor& b, const Tensor& c,
                   const std::function<double(double, double, double)>& f) {
  const Shape s = broadcast_shapes(broadcast_shapes(a.sizes(), b.sizes()), c.sizes());
  const Values va = values(a.expand(s)), vb = values(b.expand(s)), vc = values(c.expand(s));
  Values out(va.size());
  for (size_t i = 0; i < va.size(); ++i) out[i] = f(va[i], vb[i], vc[i]);
  return from(out, s);
}

// Each slice of x along dim (its values in order) turned by f into out_len values,
// which take dim's place; with out_len 1 and keep false, dim is removed.
inline Tensor along(const Tensor& x, int64_t dim, int64_t out_len, const std::function<Values(const Values&)>& f,
                    bool keep = true) {
  const int64_t nd = x.dim();
  if (dim < 0) dim += nd;
  const Shape& s = x.sizes();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= s[d];
  for (int64_t d = dim + 1; d < nd; ++d) inner *= s[d];
  const int64_t n = s[dim];
  const Values v = values(x);
  Values out(static_cast<size_t>(outer * out_len * inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      Values slice(static_cast<size_t>(n));
      for (int64_t k = 0; k < n; ++k) slice[k] = v[(o * n + k) * inner + i];
      const Values r = f(slice);
      for (int64_t k = 0; k < out_len; ++k) out[(o * out_len + k) * inner + i] = r[k];
    }
  Shape os = s;
  os[dim] = out_len;
  if (!keep && out_len == 1) os.erase(os.begin() + dim);
  return from(out, os);
}

inline Values softmax_values(const Values& v) {
  const double m = *std::max_element(v.begin(), v.end());
  Values e(v.size());
  double sum = 0;
  for (size_t i = 0; i < v.size(); ++i) sum += e[i] = std::exp(v[i] - m);
  for (double& x : e) x /= sum;
  return e;
}

inline Tensor softmax(const Tensor& x, int64_t dim) { return along(x, dim, x.size(dim), softmax_values); }

inline Tensor log_softmax(const Tensor& x, int64_t dim) {
  return along(x, dim, x.size(dim), [](const Values& v) {
    Values s = softmax_values(v);
    for (double& e : s) e = std::log(e);
    return s;
  });
}

// The index of the first maximum (largest) or minimum of each slice along dim.
inline Tensor arg_extreme(const Tensor& x, int64_t dim, bool largest, bool keepdim = false) {
  return along(
      x, dim, 1,
      [largest](const Values& v) {
        size_t best = 0;
        for (size_t i = 1; i < v.size(); ++i)
          if (largest ? v[i] > v[best] : v[i] < v[best]) best = i;
        return Values{static_cast<double>(best)};
      },
      keepdim);
}

// Running sums / products of each slice along dim (as float64).
inline Tensor cumulative(const Tensor& x, int64_t dim, bool product) {
  return along(x.to(DType::Float64), dim, x.size(dim), [product](const Values& v) {
    Values out(v.size());
    double acc = product ? 1.0 : 0.0;
    for (size_t i = 0; i < v.size(); ++i) out[i] = acc = product ? acc * v[i] : acc + v[i];
    return out;
  });
}

// log(cumsum(exp(x))) along dim, in long double from the running maximum.
inline Tensor log_cumulative(const Tensor& x, int64_t dim) {
  return along(x.to(DType::Float64), dim, x.size(dim), [](const Values& v) {
    Values out(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      double m = v[0];
      for (size_t j = 0; j <= i; ++j) m = std::max(m, v[j]);
      long double s = 0;
      for (size_t j = 0; j <= i; ++j) s += std::exp(static_cast<long double>(v[j]) - m);
      out[i] = m + static_cast<double>(std::log(s));
    }
    return out;
  });
}

// Running maxima (minima) along dim and, with `index`, their positions: the
// latest on ties (no NaN in the samples).
inline Tensor cum_extreme(const Tensor& x, int64_t dim, bool largest, bool index) {
  return along(x.to(DType::Float64), dim, x.size(dim), [=](const Values& v) {
    Values out(v.size());
    size_t best = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (largest ? v[i] >= v[best] : v[i] <= v[best]) best = i;
      out[i] = index ? static_cast<double>(best) : v[best];
    }
    return out;
  });
}

// The stable sort of each slice along dim: the first k values (index false)
// or their positions (index true).
inline Tensor sorted(const Tensor& x, int64_t dim, bool descending, bool index, int64_t k = -1) {
  if (k < 0) k = x.size(dim);
  return along(x.to(DType::Float64), dim, k, [=](const Values& v) {
    std::vector<size_t> order(v.size());
    for (size_t i = 0; i < v.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return descending ? v[a] > v[b] : v[a] < v[b]; });
    Values out(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) out[i] = index ? static_cast<double>(order[i]) : v[order[i]];
    return out;
  });
}

// searchsorted by counting: for each value, the boundaries of its row below it (right: not above it); rows
// are the last dim of b (1-D b: one row for every value). Boundaries sorted, values without NaN.
inline Tensor searchsorted(const Tensor& b, const Tensor& v, bool right) {
  const Values bv = values(b), vv = values(v);
  const int64_t n = b.size(-1), m = b.dim() == 1 ? v.numel() : v.size(-1);
  Values out(vv.size());
  for (size_t k = 0; k < vv.size(); ++k) {
    const size_t row = b.dim() == 1 ? 0 : k / static_cast<size_t>(m) * static_cast<size_t>(n);
    double c = 0;
    for (int64_t i = 0; i < n; ++i) c += right ? bv[row + i] <= vv[k] : bv[row + i] < vv[k];
    out[k] = c;
  }
  return from(out, v.sizes());
}

// The moments of each slice along dim: variance with `correction` (1: unbiased).
inline Tensor var(const Tensor& x, int64_t dim, double correction, bool keepdim = false, bool sqrt = false) {
  return along(
      x, dim, 1,
      [=](const Values& v) {
        double mean = 0, ss = 0;
        for (double e : v) mean += e;
        mean /= static_cast<double>(v.size());
        for (double e : v) ss += (e - mean) * (e - mean);
        const double r = ss / (static_cast<double>(v.size()) - correction);
        return Values{sqrt ? std::sqrt(r) : r};
      },
      keepdim);
}

inline Tensor norm(const Tensor& x, double p, int64_t dim, bool keepdim = false) {
  return along(
      x, dim, 1,
      [p](const Values& v) {
        double s = 0;
        for (double e : v) s += std::pow(std::fabs(e), p);
        return Values{std::pow(s, 1.0 / p)};
      },
      keepdim);
}

// a [..., n, k] times b [k, m] or [..., k, m] (the same leading dims), in loops.
inline Tensor matmul(const Tensor& a, const Tensor& b) {
  const int64_t n = a.size(-2), k = a.size(-1), m = b.size(-1);
  const int64_t batch = a.numel() / (n * k);
  const bool shared_b = b.dim() == 2;
  const Values va = values(a), vb = values(b);
  Values out(static_cast<size_t>(batch * n * m), 0.0);
  for (int64_t q = 0; q < batch; ++q)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double s = 0;
        for (int64_t l = 0; l < k; ++l) s += va[(q * n + i) * k + l] * vb[((shared_b ? 0 : q) * k + l) * m + j];
        out[(q * n + i) * m + j] = s;
      }
  Shape os = a.sizes();
  os.back() = m;
  return from(out, os);
}

// x [..., in] times weight [out, in] transposed, plus bias [out] when defined.
inline Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = {}) {
  Tensor y = ref::matmul(x, w.t().contiguous());
  return b.defined() ? map2(y, b, [](double u, double v) { return u + v; }) : y;
}

// Group norm of x [N, C, *]: groups of C / G channels normalized over their values, then w[c], b[c].
inline Tensor group_norm(const Tensor& x, int64_t G, const Tensor& w, const Tensor& b, double eps) {
  const int64_t N = x.size(0), C = x.size(1), S = x.numel() / (N * C), D = C / G * S;
  Values v = values(x);
  const Values vw = values(w), vb = values(b);
  for (int64_t grp = 0; grp < N * G; ++grp) {
    double mean = 0, ss = 0;
    for (int64_t j = 0; j < D; ++j) mean += v[grp * D + j];
    mean /= static_cast<double>(D);
    for (int64_t j = 0; j < D; ++j) ss += (v[grp * D + j] - mean) * (v[grp * D + j] - mean);
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(D) + eps);
    for (int64_t j = 0; j < D; ++j) {
      const int64_t c = (grp % G) * (C / G) + j / S;
      v[grp * D + j] = (v[grp * D + j] - mean) * inv * vw[c] + vb[c];
    }
  }
  return from(v, x.sizes());
}

// Layer norm of x over its last dim, then weight and bias (when defined).
inline Tensor layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  Tensor y = along(x, -1, x.size(-1), [eps](const Values& v) {
    double mean = 0, ss = 0;
    for (double e : v) mean += e;
    mean /= static_cast<double>(v.size());
    for (double e : v) ss += (e - mean) * (e - mean);
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(v.size()) + eps);
    Values out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = (v[i] - mean) * inv;
    return out;
  });
  if (w.defined()) y = map2(y, w, [](double u, double v) { return u * v; });
  if (b.defined()) y = map2(y, b, [](double u, double v) { return u + v; });
  return y;
}

// Mean cross-entropy of logits [N, C] with class targets [N].
inline Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  const Tensor lp = ref::log_softmax(logits, 1);
  const Values v = values(lp), t = values(target);
  const int64_t N = logits.size(0), C = logits.size(1);
  double s = 0;
  for (int64_t n = 0; n < N; ++n) s -= v[n * C + static_cast<int64_t>(t[n])];
  return from({s / static_cast<double>(N)}, {});
}

// NLL loss of log-probabilities x [N, C, K] at targets [N, K] (weight [C] or undefined), loops in double.
inline Tensor nll_loss(const Tensor& x, const Tensor& target, const Tensor& weight, int64_t ignore,
                       const std::string& reduction) {
  const Values v = values(x), t = values(target), w = weight.defined() ? values(weight) : Values();
  const int64_t N = x.size(0), C = x.size(1), K = x.numel() / (N * C);
  Values loss(N * K, 0.0);
  double lsum = 0, wsum = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t c = static_cast<int64_t>(t[n * K + k]);
      if (c == ignore) continue;
      const double wt = w.empty() ? 1.0 : w[c];
      loss[n * K + k] = -wt * v[(n * C + c) * K + k];
      lsum += loss[n * K + k];
      wsum += wt;
    }
  if (reduction == "sum") return from({lsum}, {});
  if (reduction == "mean") return from({lsum / wsum}, {});
  return from(loss, target.sizes());
}

// tril (lower) / triu of the last two dims of x: 0 where j - i > k (lower) or j - i < k (upper).
inline Tensor tri(const Tensor& x, int64_t k, bool lower) {
  Values v = values(x);
  const int64_t M = x.size(-2), N = x.size(-1);
  for (size_t e = 0; e < v.size(); ++e) {
    const int64_t j = static_cast<int64_t>(e) % N, i = static_cast<int64_t>(e) / N % M;
    if (lower ? j - i > k : j - i < k) v[e] = 0.0;
  }
  return from(v, x.sizes());
}

// Rows of weight [V, D] picked by index (any shape): [..., D].
inline Tensor embedding(const Tensor& index, const Tensor& weight) {
  const Values idx = values(index), w = values(weight);
  const int64_t D = weight.size(1);
  Values out;
  for (double i : idx) {
    const int64_t r = static_cast<int64_t>(i);
    out.insert(out.end(), w.begin() + r * D, w.begin() + (r + 1) * D);
  }
  Shape s = index.sizes();
  s.push_back(D);
  return from(out, s);
}

// x [R, C] indexed along dim by a 1-d index.
inline Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const Values idx = values(index), v = values(x);
  const int64_t R = x.size(0), C = x.size(1), K = static_cast<int64_t>(idx.size());
  Values out;
  for (int64_t i = 0; i < (dim == 0 ? K : R); ++i)
    for (int64_t j = 0; j < (dim == 0 ? C : K); ++j)
      out.push_back(dim == 0 ? v[static_cast<int64_t>(idx[i]) * C + j] : v[i * C + static_cast<int64_t>(idx[j])]);
  return from(out, dim == 0 ? Shape{K, C} : Shape{R, K});
}

// index_add / index_copy / index_fill on 2-d x along dim with a 1-d index: column (dim 1) or row (dim 0)
// k of x written from column / row j of src [R, K] / [K, C] (add: alpha times, bool: or; copy: the last j
// wins) or set to value (an index may count from the end; value converted to x's dtype first).
enum class RowWrite { Add, Copy, Fill };
inline Tensor row_write(RowWrite w, const Tensor& x, int64_t dim, const Tensor& index, const Tensor* src,
                        double scalar) {
  const Values idx = values(index), s = src ? values(*src) : Values();
  Values out = values(x);
  const int64_t R = x.size(0), C = x.size(1), K = static_cast<int64_t>(idx.size());
  const bool is_bool = x.dtype() == DType::Bool, integral = !is_floating(x.dtype()) && !is_bool;
  const double a = is_bool ? double(scalar != 0) : integral ? std::trunc(scalar) : scalar;
  for (int64_t j = 0; j < K; ++j) {
    int64_t k = static_cast<int64_t>(idx[j]);
    if (k < 0) k += dim == 0 ? R : C;
    for (int64_t e = 0; e < (dim == 0 ? C : R); ++e) {
      double& o = dim == 0 ? out[k * C + e] : out[e * C + k];
      const double v = w == RowWrite::Fill ? a : dim == 0 ? s[j * C + e] : s[e * K + j];
      o = w == RowWrite::Add ? (is_bool ? double(o != 0 || (v != 0 && a != 0)) : o + a * v) : v;
    }
  }
  return from(out, x.sizes());
}
inline Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, double alpha = 1) {
  return row_write(RowWrite::Add, x, dim, index, &src, alpha);
}
inline Tensor index_copy(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return row_write(RowWrite::Copy, x, dim, index, &src, 0);
}
inline Tensor index_fill(const Tensor& x, int64_t dim, const Tensor& index, double value) {
  return row_write(RowWrite::Fill, x, dim, index, nullptr, value);
}

// torch.gather on 2-d x along dim with a 2-d index.
inline Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const Values idx = values(index), v = values(x);
  const int64_t C = x.size(1), IR = index.size(0), IC = index.size(1);
  Values out(idx.size());
  for (int64_t i = 0; i < IR; ++i)
    for (int64_t j = 0; j < IC; ++j) {
      const int64_t k = static_cast<int64_t>(idx[i * IC + j]);
      out[i * IC + j] = dim == 0 ? v[k * C + j] : v[i * C + k];
    }
  return from(out, index.sizes());
}

// torch.scatter_add on 2-d x along dim: x plus src added at index.
inline Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const Values idx = values(index), s = values(src);
  Values out = values(x);
  const int64_t C = x.size(1), IR = index.size(0), IC = index.size(1), SC = src.size(1);
  for (int64_t i = 0; i < IR; ++i)
    for (int64_t j = 0; j < IC; ++j) {
      const int64_t k = static_cast<int64_t>(idx[i * IC + j]);
      out[dim == 0 ? k * C + j : i * C + k] += s[i * SC + j];
    }
  if (x.dtype() == DType::Bool)  // bool addition is or
    for (double& v : out) v = v != 0;
  return from(out, x.sizes());
}

// torch.scatter_reduce on 2-d x along dim: each element of x named by the
// index reduced with the src values sent to it (and itself, include_self).
inline Tensor scatter_reduce(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                             const std::string& reduce, bool include_self = true) {
  const Values idx = values(index), s = values(src);
  Values out = values(x);
  const int64_t C = x.size(1), IR = index.size(0), IC = index.size(1), SC = src.size(1);
  std::vector<Values> sent(out.size());
  for (int64_t i = 0; i < IR; ++i)
    for (int64_t j = 0; j < IC; ++j) {
      const int64_t k = static_cast<int64_t>(idx[i * IC + j]);
      sent[dim == 0 ? k * C + j : i * C + k].push_back(s[i * SC + j]);
    }
  const bool integral = !is_floating(x.dtype()), boolean = x.dtype() == DType::Bool;
  for (size_t p = 0; p < out.size(); ++p) {
    if (sent[p].empty()) continue;
    Values v = sent[p];
    if (include_self) v.push_back(out[p]);
    double r = reduce == "prod" ? 1.0 : 0.0;
    if (reduce == "amax") r = -std::numeric_limits<double>::infinity();
    if (reduce == "amin") r = std::numeric_limits<double>::infinity();
    for (double e : v) {
      if (reduce == "sum" || reduce == "mean") r += e;
      else if (reduce == "prod") r *= e;
      else if (reduce == "amax") r = std::isnan(e) || std::isnan(r) ? NAN : std::max(r, e);
      else r = std::isnan(e) || std::isnan(r) ? NAN : std::min(r, e);
    }
    if (reduce == "mean") r = integral ? std::floor(r / double(v.size())) : r / double(v.size());
    if (boolean) r = r != 0;
    out[p] = r;
  }
  return from(out, x.sizes());
}

inline double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// A tensor of shape out whose element at each index is the value of x at the
// row-major position src(index) (views, copies and concatenations).
inline Tensor index_map(const Tensor& x, const Shape& out, const std::function<int64_t(const Shape& index)>& src) {
  const Values v = values(x);
  const int64_t n = numel(out);
  Values r(static_cast<size_t>(n));
  Shape idx(out.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i;
    for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
      idx[d] = rem % out[d];
      rem /= out[d];
    }
    r[i] = v[static_cast<size_t>(src(idx))];
  }
  return from(r, out);
}

// The row-major position of index in shape.
inline int64_t offset(const Shape& shape, const Shape& index) {
  int64_t o = 0;
  for (size_t d = 0; d < shape.size(); ++d) o = o * shape[d] + index[d];
  return o;
}

// x with its dims in the order dims.
inline Tensor permute(const Tensor& x, const Dims& dims) {
  Shape out;
  for (int64_t d : dims) out.push_back(x.size(d));
  const Shape in = x.sizes();
  return index_map(x, out, [&](const Shape& idx) {
    Shape src(in.size());
    for (size_t k = 0; k < dims.size(); ++k) src[dims[k]] = idx[k];
    return offset(in, src);
  });
}

// x with the order of its elements reversed along each of dims (non-negative).
inline Tensor flip(const Tensor& x, const Dims& dims) {
  const Shape in = x.sizes();
  return index_map(x, in, [&](const Shape& idx) {
    Shape src = idx;
    for (int64_t d : dims) src[d] = in[d] - 1 - idx[d];
    return offset(in, src);
  });
}

// a and b (2-d, or 3-d with dim 1 for stack) joined along dim 1: cat of [R, A] and [R, B].
inline Tensor cat_cols(const Tensor& a, const Tensor& b) {
  const int64_t R = a.size(0), A = a.size(1), B = b.size(1);
  const Values va = values(a), vb = values(b);
  Values out;
  for (int64_t r = 0; r < R; ++r) {
    out.insert(out.end(), va.begin() + r * A, va.begin() + (r + 1) * A);
    out.insert(out.end(), vb.begin() + r * B, vb.begin() + (r + 1) * B);
  }
  return from(out, {R, A + B});
}

// One AdamW step (PyTorch's formulas) then one SGD step with momentum 0.9,
// no dampening, nesterov, weight decay 0.01 and lr 0.1 on copies of p, from the
// gradient g, moments m, v and momentum buffer m: [p_adamw; m'; v'; p_sgd; buf'].
inline Tensor optim_steps(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, int64_t step) {
  const Values vp = values(p), vg = values(g), vm = values(m), vv = values(v);
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
  const double c1 = 1 - std::pow(b1, static_cast<double>(step)), c2 = 1 - std::pow(b2, static_cast<double>(step));
  Values pa(vp.size()), ma(vp.size()), va(vp.size()), ps(vp.size()), bs(vp.size());
  for (size_t i = 0; i < vp.size(); ++i) {
    ma[i] = b1 * vm[i] + (1 - b1) * vg[i];
    va[i] = b2 * vv[i] + (1 - b2) * vg[i] * vg[i];
    pa[i] = vp[i] * (1 - lr * wd) - (lr / c1) * ma[i] / (std::sqrt(va[i]) / std::sqrt(c2) + eps);
    const double d = vg[i] + wd * vp[i];
    bs[i] = 0.9 * vm[i] + d;
    ps[i] = vp[i] - 0.1 * (d + 0.9 * bs[i]);
  }
  Values out;
  for (const Values* part : {&pa, &ma, &va, &ps, &bs}) out.insert(out.end(), part->begin(), part->end());
  Shape s = p.sizes();
  s[0] *= 5;
  return from(out, s);
}

// The indices [n, ndim] (int64) of the nonzero values of x, in row-major order.
inline Tensor nonzero(const Tensor& x) {
  const Values v = values(x);
  const Shape& s = x.sizes();
  Values out;
  int64_t n = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == 0) continue;
    ++n;
    Values idx(s.size());
    int64_t rem = static_cast<int64_t>(i);
    for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
      idx[d] = static_cast<double>(rem % s[d]);
      rem /= s[d];
    }
    out.insert(out.end(), idx.begin(), idx.end());
  }
  return from(out, {n, static_cast<int64_t>(s.size())}).to(DType::Int64);
}

// Batch norm in training mode of x [N, C, ...]: each channel over N and the
// spatial dims with the biased variance, then weight and bias [C].
inline Tensor batch_norm_train(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  const int64_t N = x.size(0), C = x.size(1), S = x.numel() / (N * C);
  const Values v = values(x), vw = values(w), vb = values(b);
  Values out(v.size());
  for (int64_t c = 0; c < C; ++c) {
    double mean = 0, ss = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) mean += v[(n * C + c) * S + i];
    mean /= static_cast<double>(N * S);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) ss += std::pow(v[(n * C + c) * S + i] - mean, 2);
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(N * S) + eps);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < S; ++i) {
        const int64_t j = (n * C + c) * S + i;
        out[j] = (v[j] - mean) * inv * vw[c] + vb[c];
      }
  }
  return from(out, x.sizes());
}

// softmax(q k^T scale + mask) v over [..., L, E] (the same leading dims);
// causal: key j visible to query i iff j <= i.
inline Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  const int64_t Lq = q.size(-2), Lk = k.size(-2);
  Values mask(static_cast<size_t>(Lq * Lk));
  for (int64_t i = 0; i < Lq; ++i)
    for (int64_t j = 0; j < Lk; ++j)
      mask[i * Lk + j] = causal && j > i ? -std::numeric_limits<double>::infinity() : 0.0;
  Tensor s = ref::matmul(q, k.transpose(-2, -1).contiguous());
  s = map2(s, from(mask, {Lq, Lk}), [scale](double a, double m) { return a * scale + m; });
  return ref::matmul(ref::softmax(s, -1), v);
}

// Mean cross-entropy of logits [N, C] against the classes 0..N-1, both ways, halved: CLIP's loss.
inline Tensor clip_loss(const Tensor& img, const Tensor& txt, const Tensor& logit_scale) {
  const double scale = std::exp(values(logit_scale)[0]);
  const Tensor logits = map(ref::matmul(img, txt.t().contiguous()), [scale](double v) { return v * scale; });
  const int64_t N = img.size(0);
  Values labels(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) labels[i] = static_cast<double>(i);
  const Tensor target = from(labels, {N});
  const double a = values(ref::cross_entropy(logits, target))[0];
  const double b = values(ref::cross_entropy(logits.t().contiguous(), target))[0];
  return from({(a + b) / 2}, {});
}

}  // namespace loom::ref

#include "op_references_nn.h"       // recurrent cells, the CTC loss, embedding bags
#include "op_references_spatial.h"  // convolution, pooling, upsampling, grid sampling
