// Default costs of loom's ops (core/op_cost.h). Counting conventions, the
// same as most roofline tools:
// - a multiply-add is 2 FLOPs; a transcendental (exp, log, sqrt, sin...) is 1;
//   a comparison or select is 1; integer and boolean ops are 0 FLOPs;
// - bytes are the minimum traffic: every input read once, every output
//   written once, nothing for intermediates a fused kernel keeps on chip.
// The output of a pointwise op has the broadcast shape of its inputs and the
// first input's dtype (a bool for comparisons). Reductions count their input.
#include "core/op_cost.h"

#include <algorithm>

#include "core/tensor.h"

namespace loom {

double cost_bytes(const Tensor* t) {
  return t != nullptr && t->defined() ? static_cast<double>(t->numel()) * static_cast<double>(t->element_size()) : 0;
}

double cost_numel(const std::vector<int64_t>& shape) {
  double n = 1;
  for (int64_t d : shape) n *= static_cast<double>(d);
  return n;
}

namespace {

bool defined(const Tensor* t) { return t != nullptr && t->defined(); }

double numel(const Tensor* t) { return defined(t) ? static_cast<double>(t->numel()) : 0; }

// The broadcast shape's element count (the largest extent per aligned dim).
double broadcast_numel(const Tensor* const* in, size_t n) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < n; ++i) {
    if (!defined(in[i])) continue;
    const auto& s = in[i]->shape();
    if (s.size() > out.size()) out.insert(out.begin(), s.size() - out.size(), 1);
    for (size_t k = 0; k < s.size(); ++k) {
      int64_t& o = out[out.size() - s.size() + k];
      o = std::max(o, s[k]);
    }
  }
  return cost_numel(out);
}

bool floating(const Tensor* t) { return defined(t) && is_floating(t->dtype()); }

// FLOPs per output element of the pointwise ops: the ops described in the
// registry declare theirs (`flops` in core/ops.toml: tanh and sigmoid 4 for
// exp, add, divide and a negate; gelu 10; pow 2 for exp(b * log(a))); the
// cases below are the listed-only ones.
double pointwise_flops(Op op) {
  switch (op) {
#include "core/op_cost_pointwise.inc"
    case Op::clamp: return 2;
    case Op::bitwise_and:
    case Op::bitwise_or:
    case Op::bitwise_xor:
    case Op::bitwise_not: return 0;
    default: return 1;
  }
}

OpCost pointwise(Op op, const Tensor* const* in, size_t n) {
  const double out = broadcast_numel(in, n);
  double read = 0;
  for (size_t i = 0; i < n; ++i) read += cost_bytes(in[i]);
  const bool to_bool = op == Op::compare || op == Op::logical_not;
  const double out_item = to_bool ? 1 : (n > 0 && defined(in[0]) ? static_cast<double>(in[0]->element_size()) : 4);
  // Only floating inputs do floating-point work.
  bool any_float = false;
  for (size_t i = 0; i < n; ++i) any_float = any_float || floating(in[i]);
  return {any_float ? out * pointwise_flops(op) : 0, read + out * out_item};
}

OpCost matmul(const Tensor* a, const Tensor* b) {
  if (!defined(a) || !defined(b)) return {};
  auto sa = a->shape(), sb = b->shape();
  const bool va = sa.size() == 1, vb = sb.size() == 1;
  if (va) sa.insert(sa.begin(), 1);  // a vector is a 1 x K row
  if (vb) sb.push_back(1);           // or a K x 1 column
  const double m = static_cast<double>(sa[sa.size() - 2]), k = static_cast<double>(sa.back());
  const double nn = static_cast<double>(sb.back());
  // Batch: the broadcast of the leading dims.
  std::vector<int64_t> ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  if (ba.size() < bb.size()) ba.insert(ba.begin(), bb.size() - ba.size(), 1);
  if (bb.size() < ba.size()) bb.insert(bb.begin(), ba.size() - bb.size(), 1);
  double batch = 1;
  for (size_t i = 0; i < ba.size(); ++i) batch *= static_cast<double>(std::max(ba[i], bb[i]));
  const double item = static_cast<double>(a->element_size());
  return {2 * batch * m * nn * k, cost_bytes(a) + cost_bytes(b) + batch * m * nn * item};
}

// y = x W^T (+ b) for x [..., K] and W [N, K].
OpCost linear(const Tensor* x, const Tensor* w, const Tensor* b) {
  if (!defined(x) || !defined(w) || w->dim() != 2) return {};
  const double k = static_cast<double>(w->shape()[1]), n = static_cast<double>(w->shape()[0]);
  const double rows = k > 0 ? numel(x) / k : 0;
  return {2 * rows * n * k + (defined(b) ? rows * n : 0),
          cost_bytes(x) + cost_bytes(w) + cost_bytes(b) + rows * n * static_cast<double>(x->element_size())};
}

double sum_bytes(const Tensor* const* in, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += cost_bytes(in[i]);
  return s;
}

}  // namespace

OpCost conv2d_cost(const std::vector<int64_t>& input, const std::vector<int64_t>& weight, bool bias,
                   const std::vector<int64_t>& output, size_t itemsize) {
  if (input.size() != 4 || weight.size() != 4 || output.size() != 4) return {};
  const double out = cost_numel(output);
  const double per_out = cost_numel({weight[1], weight[2], weight[3]});  // (C / groups) * KH * KW
  const double item = static_cast<double>(itemsize);
  return {2 * out * per_out + (bias ? out : 0),
          (cost_numel(input) + cost_numel(weight) + (bias ? static_cast<double>(weight[0]) : 0) + out) * item};
}

OpCost default_op_cost(Op op, const Tensor* const* in, size_t n) {
  const Tensor* x = n > 0 ? in[0] : nullptr;
  const double xb = cost_bytes(x), xn = numel(x);
  const double item = defined(x) ? static_cast<double>(x->element_size()) : 4;
  switch (op) {
    // Views move no data.
    case Op::view:
    case Op::reshape:
    case Op::permute:
    case Op::narrow:
    case Op::slice:
    case Op::select:
    case Op::expand:
    case Op::squeeze:
    case Op::unsqueeze:
    case Op::as_strided: return {0, 0};
    // Copies read and write every element once.
    case Op::contiguous:
    case Op::clone:
    case Op::to_device: return {0, 2 * xb};
    case Op::to_dtype:  // the output dtype is not an input: assume the same width
      return {0, 2 * xb};
    case Op::copy_:  // (destination, source)
      return {0, n > 1 ? cost_bytes(x) + cost_bytes(in[1]) : 2 * xb};
    case Op::fill_: return {0, xb};
    case Op::cat:
    case Op::stack:
      return {0, 2 * sum_bytes(in, n)};

      // The pointwise ops of the registry (core/ops.toml), then the listed-only ones.
#define LOOM_OP_COST_CASES
#include "core/op_cost_pointwise.inc"
#undef LOOM_OP_COST_CASES
    case Op::compare:
    case Op::where:
    case Op::clamp:
    case Op::masked_fill:
    case Op::bitwise_and:
    case Op::bitwise_or:
    case Op::bitwise_xor:
    case Op::bitwise_not: return pointwise(op, in, n);

    // Reductions read their input once; the (smaller) output is ignored.
    case Op::sum:
    case Op::mean:
    case Op::prod:
    case Op::amax:
    case Op::amin:
    case Op::max_dim:
    case Op::min_dim:
    case Op::argmax:
    case Op::argmin: return {floating(x) ? xn : 0, xb};
    case Op::var:
    case Op::std:  // mean, then squared deviations
      return {3 * xn, xb};
    case Op::norm: return {2 * xn, xb};
    case Op::logsumexp:  // max, exp(x - max), sum
      return {4 * xn, xb};

    case Op::matmul: return matmul(x, n > 1 ? in[1] : nullptr);
    case Op::softmax:
    case Op::log_softmax:  // max, subtract, exp, sum, divide
      return {5 * xn, 2 * xb};

    // (self, index): the output has the index's shape.
    case Op::gather:
      return {0, n > 1 ? cost_bytes(in[1]) + 2 * numel(in[1]) * item : -1};  // index, values read, output
    // (self, index, src): the output is a copy of self with src added in.
    case Op::scatter_add:
      return {n > 2 ? numel(in[2]) : -1, n > 2 ? 2 * xb + cost_bytes(in[1]) + cost_bytes(in[2]) : -1};
    case Op::nonzero:  // the output size is data-dependent: count the read
      return {0, xb};
    // (indices, weight): one weight row gathered per index.
    case Op::embedding:
      if (n > 1 && defined(in[1]) && in[1]->dim() == 2)
        return {0, xb + 2 * xn * static_cast<double>(in[1]->shape()[1]) * static_cast<double>(in[1]->element_size())};
      return {};
    case Op::dropout:  // the output and its mask (one byte per element)
      return {xn, 2 * xb + xn};

    case Op::attention: {  // (q, k, v, mask): QK^T, softmax, PV over [B, H, L, D] x [B, H, S, D]
      if (n < 3 || !defined(x) || !defined(in[1]) || x->dim() < 2) return {};
      const double d = static_cast<double>(x->shape().back());
      const double l = static_cast<double>(x->shape()[x->dim() - 2]);
      const double s = static_cast<double>(in[1]->shape()[in[1]->dim() - 2]);
      const double heads = l * d > 0 ? xn / (l * d) : 0;  // B * H
      const double dv = static_cast<double>(in[2]->shape().back());
      const double flops = heads * (2 * l * s * d + 2 * l * s * dv + 5 * l * s);
      return {flops,
              xb + cost_bytes(in[1]) + cost_bytes(in[2]) + (n > 3 ? cost_bytes(in[3]) : 0) + heads * l * dv * item};
    }
    case Op::layer_norm:  // (input, weight, bias): mean, variance, normalize, scale and shift
      return {8 * xn, 2 * xb + (n > 1 ? cost_bytes(in[1]) : 0) + (n > 2 ? cost_bytes(in[2]) : 0)};
    case Op::batch_norm: {  // (input, running_mean, running_var, weight, bias)
      double params = 0;
      for (size_t i = 1; i < n; ++i) params += cost_bytes(in[i]);
      return {8 * xn, 2 * xb + params};
    }
    case Op::cross_entropy: {  // (logits [N, C], target, weight): log_softmax and a gather
      double rest = 0;
      for (size_t i = 1; i < n; ++i) rest += cost_bytes(in[i]);
      return {5 * xn, xb + rest};
    }
    case Op::lstm_cell:
    case Op::gru_cell: {  // (input, hx, [cx,] w_ih, w_hh, b_ih, b_hh)
      const size_t wi = op == Op::lstm_cell ? 3 : 2;
      if (n < wi + 2 || !defined(in[wi]) || !defined(in[wi + 1])) return {};
      const OpCost a = linear(x, in[wi], n > wi + 2 ? in[wi + 2] : nullptr);
      const OpCost b = linear(in[1], in[wi + 1], n > wi + 3 ? in[wi + 3] : nullptr);
      const double gates = numel(in[1]) * (op == Op::lstm_cell ? 4 : 3);
      // The gate math: ~ 6 FLOPs (sigmoid / tanh counted at 4) per gate element.
      return {a.flops + b.flops + 6 * gates, a.bytes + b.bytes};
    }

    case Op::linear:  // (input, weight, bias)
      return linear(x, n > 1 ? in[1] : nullptr, n > 2 ? in[2] : nullptr);
    case Op::linear2: {  // (a, b, weight, bias): [a, b] W^T + bias without the concat
      if (n < 3 || !defined(in[2]) || in[2]->dim() != 2 || !defined(x) || x->dim() < 1) return {};
      const double k = static_cast<double>(in[2]->shape()[1]), nn = static_cast<double>(in[2]->shape()[0]);
      const double rows = numel(x) / static_cast<double>(std::max<int64_t>(1, x->shape().back()));
      return {2 * rows * nn * k + (n > 3 && defined(in[3]) ? rows * nn : 0), sum_bytes(in, n) + rows * nn * item};
    }
    case Op::gated_fusion: {  // (a, b, weight, bias): g = sigmoid([a, b] W^T + bias); g*a + (1-g)*b
      if (n < 3 || !defined(in[2]) || in[2]->dim() != 2) return {};
      const double k = static_cast<double>(in[2]->shape()[1]), nn = static_cast<double>(in[2]->shape()[0]);
      const double rows = nn > 0 ? xn / nn : 0;
      return {2 * rows * nn * k + 8 * rows * nn, sum_bytes(in, n) + rows * nn * item};
    }
    case Op::film: {  // (a, b, weight, bias): [gamma, beta] = b W^T + bias; gamma * a + beta
      if (n < 3 || !defined(in[2]) || in[2]->dim() != 2 || !defined(in[1])) return {};
      const double k = static_cast<double>(in[2]->shape()[1]), nn = static_cast<double>(in[2]->shape()[0]);
      const double rows = k > 0 ? numel(in[1]) / k : 0;
      return {2 * rows * nn * k + 2 * xn, sum_bytes(in, n) + xb};
    }
    case Op::bilinear_pool: {  // (a, b, U, V, P): P^T ((a U) * (b V))
      if (n < 5 || !defined(in[2]) || !defined(in[3]) || !defined(in[4]) || in[2]->dim() != 2 || in[4]->dim() != 2)
        return {};
      const double da = static_cast<double>(in[2]->shape()[0]), r = static_cast<double>(in[2]->shape()[1]);
      const double rows = da > 0 ? xn / da : 0;
      const double out = static_cast<double>(in[4]->shape()[1]);
      return {2 * rows * r * (da + static_cast<double>(in[3]->shape()[0])) + rows * r + 2 * rows * r * out,
              sum_bytes(in, n) + rows * out * item};
    }
    case Op::clip_loss: {  // (img [B, D], txt [B, D], logit_scale): B x B logits, two cross entropies
      if (!defined(x) || x->dim() != 2) return {};
      const double b = static_cast<double>(x->shape()[0]), d = static_cast<double>(x->shape()[1]);
      return {2 * b * b * d + 10 * b * b, sum_bytes(in, n)};
    }

    // These declare their cost in their front ends (the output shape or the
    // work depends on arguments): see OpScope::set_cost.
    case Op::conv2d:
    case Op::max_pool2d:
    case Op::avg_pool2d:
    case Op::adaptive_avg_pool2d:
    case Op::lstm:
    case Op::gru:
    case Op::index_select:
    case Op::one_hot:
    case Op::optim_step:
    case Op::rand:
    case Op::randn:
    case Op::randint:
    case Op::arange:
    case Op::linspace:
    case Op::kCount: return {};
  }
  return {};
}

}  // namespace loom
