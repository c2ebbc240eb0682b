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

// FLOPs per output element of the pointwise ops: the ops of kind "pointwise"
// in the registry declare theirs (`flops` in core/ops.toml: tanh and sigmoid 4
// for exp, add, divide and a negate; gelu 10; pow 2 for exp(b * log(a))); the
// cases below are the general ones with the pointwise rule (compare, where and
// masked_fill: 1, a comparison or select).
double pointwise_flops(Op op) {
  switch (op) {
#include "core/op_cost.inc"
    case Op::clamp: return 2;
    case Op::bitwise_and:
    case Op::bitwise_or:
    case Op::bitwise_xor:
    case Op::bitwise_not: return 0;
    default: return 1;
  }
}

// FLOPs per input element of the reductions of kind "reduce" (`flops` in
// core/ops.toml: logsumexp 4 for max, exp(x - max) and sum; the others 1).
double reduce_flops(Op op) {
  switch (op) {
#define LOOM_OP_COST_REDUCE
#include "core/op_cost.inc"
#undef LOOM_OP_COST_REDUCE
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

// The inputs of an op call and the sizes of the first one, which most rules read.
struct CostArgs {
  Op op;
  const Tensor* const* in;
  size_t n;
  const Tensor* x;  // the first input, or null
  double xb;        // its bytes
  double xn;        // its element count
  double item;      // its element size (4 when there is none)
};

// The rule families of default_op_cost.
enum class CostFamily {
  view,       // moves no data
  copy,       // reads and writes every element once
  pointwise,  // elementwise over the broadcast shape
  reduction,  // reads its input once
  matmul,
  softmax,
  indexing,  // gather, scatter and lookups
  dropout,
  attention,
  norm,  // layer and batch norm
  loss,
  recurrent,     // the LSTM and GRU cells
  fused_linear,  // linear and the multimodal fusions built on a GEMM
  declared,      // declared by the front end (OpScope::set_cost)
};

// Every op's cost rule: `cost` in core/ops.toml ("pointwise" for the pointwise
// ops, "reduction" for the reductions). The switch has no default, so
// -Wswitch names an op the generated cases miss.
CostFamily cost_family(Op op) {
  switch (op) {
#define LOOM_OP_COST_FAMILY
#include "core/op_cost.inc"
#undef LOOM_OP_COST_FAMILY
    case Op::kCount: return CostFamily::declared;
  }
  return CostFamily::declared;
}

OpCost copy_cost(const CostArgs& a) {
  switch (a.op) {
    case Op::copy_:  // (destination, source)
      return {0, a.n > 1 ? cost_bytes(a.x) + cost_bytes(a.in[1]) : 2 * a.xb};
    case Op::fill_: return {0, a.xb};
    case Op::cat:
    case Op::stack: return {0, 2 * sum_bytes(a.in, a.n)};
    default:  // contiguous, clone, to_device; to_dtype's output dtype is not an input: assume the same width
      return {0, 2 * a.xb};
  }
}

// The (smaller) output is ignored.
OpCost reduction_cost(const CostArgs& a) {
  switch (a.op) {
    case Op::var:
    case Op::std:  // mean, then squared deviations
      return {3 * a.xn, a.xb};
    case Op::norm: return {2 * a.xn, a.xb};
    case Op::max_dim:
    case Op::min_dim:
    case Op::argmax:
    case Op::argmin: return {floating(a.x) ? a.xn : 0, a.xb};
    default:  // the reductions of the registry: `flops` per input element
      return {floating(a.x) ? a.xn * reduce_flops(a.op) : 0, a.xb};
  }
}

OpCost indexing_cost(const CostArgs& a) {
  const Tensor* const* in = a.in;
  const size_t n = a.n;
  switch (a.op) {
    // (self, index): the output has the index's shape.
    case Op::gather:
      return {0, n > 1 ? cost_bytes(in[1]) + 2 * numel(in[1]) * a.item : -1};  // index, values read, output
    // (self, index, src): the output is a copy of self with src added in.
    case Op::scatter_add:
    case Op::scatter_reduce:
      return {n > 2 ? numel(in[2]) : -1, n > 2 ? 2 * a.xb + cost_bytes(in[1]) + cost_bytes(in[2]) : -1};
    // (self, index, source): a copy of self, with source read and the rows it names written (index_add:
    // read and written).
    case Op::index_add:
      return {n > 2 ? numel(in[2]) : -1, n > 2 ? 2 * a.xb + cost_bytes(in[1]) + 3 * cost_bytes(in[2]) : -1};
    case Op::index_copy: return {n > 2 ? 0.0 : -1.0, n > 2 ? 2 * a.xb + cost_bytes(in[1]) + 2 * cost_bytes(in[2]) : -1};
    case Op::index_fill:  // (self, index): a copy of self
      return {0, n > 1 ? 2 * a.xb + cost_bytes(in[1]) : -1};
    case Op::nonzero:  // the output size is data-dependent: count the read
      return {0, a.xb};
    case Op::embedding:  // (indices, weight): one weight row gathered per index
      if (n > 1 && defined(in[1]) && in[1]->dim() == 2)
        return {0,
                a.xb + 2 * a.xn * static_cast<double>(in[1]->shape()[1]) * static_cast<double>(in[1]->element_size())};
      return {};
    default: return {};
  }
}

// (q, k, v, mask): QK^T, softmax, PV over [B, H, L, D] x [B, H, S, D].
OpCost attention_cost(const CostArgs& a) {
  const Tensor* const* in = a.in;
  const Tensor* x = a.x;
  if (a.n < 3 || !defined(x) || !defined(in[1]) || x->dim() < 2) return {};
  const double d = static_cast<double>(x->shape().back());
  const double l = static_cast<double>(x->shape()[x->dim() - 2]);
  const double s = static_cast<double>(in[1]->shape()[in[1]->dim() - 2]);
  const double heads = l * d > 0 ? a.xn / (l * d) : 0;  // B * H
  const double dv = static_cast<double>(in[2]->shape().back());
  const double flops = heads * (2 * l * s * d + 2 * l * s * dv + 5 * l * s);
  return {flops,
          a.xb + cost_bytes(in[1]) + cost_bytes(in[2]) + (a.n > 3 ? cost_bytes(in[3]) : 0) + heads * l * dv * a.item};
}

OpCost norm_cost(const CostArgs& a) {
  if (a.op == Op::layer_norm)  // (input, weight, bias): mean, variance, normalize, scale and shift
    return {8 * a.xn, 2 * a.xb + (a.n > 1 ? cost_bytes(a.in[1]) : 0) + (a.n > 2 ? cost_bytes(a.in[2]) : 0)};
  // batch_norm: (input, running_mean, running_var, weight, bias)
  double params = 0;
  for (size_t i = 1; i < a.n; ++i) params += cost_bytes(a.in[i]);
  return {8 * a.xn, 2 * a.xb + params};
}

OpCost loss_cost(const CostArgs& a) {
  if (a.op == Op::cross_entropy) {  // (logits [N, C], target, weight): log_softmax and a gather
    double rest = 0;
    for (size_t i = 1; i < a.n; ++i) rest += cost_bytes(a.in[i]);
    return {5 * a.xn, a.xb + rest};
  }
  if (a.op == Op::nll_loss) {  // (log-probs [N, C, d...], target [N, d...], weight): one gathered value per target
    const double m = a.n > 1 ? numel(a.in[1]) : 0;
    return {2 * m, 2 * m * a.item + (a.n > 1 ? cost_bytes(a.in[1]) : 0) + (a.n > 2 ? cost_bytes(a.in[2]) : 0)};
  }
  // clip_loss: (img [B, D], txt [B, D], logit_scale): B x B logits, two cross entropies
  if (!defined(a.x) || a.x->dim() != 2) return {};
  const double b = static_cast<double>(a.x->shape()[0]), d = static_cast<double>(a.x->shape()[1]);
  return {2 * b * b * d + 10 * b * b, sum_bytes(a.in, a.n)};
}

// lstm_cell, gru_cell: (input, hx, [cx,] w_ih, w_hh, b_ih, b_hh).
OpCost recurrent_cell_cost(const CostArgs& a) {
  const Tensor* const* in = a.in;
  const size_t n = a.n;
  const size_t wi = a.op == Op::lstm_cell ? 3 : 2;
  if (n < wi + 2 || !defined(in[wi]) || !defined(in[wi + 1])) return {};
  const OpCost ci = linear(a.x, in[wi], n > wi + 2 ? in[wi + 2] : nullptr);
  const OpCost ch = linear(in[1], in[wi + 1], n > wi + 3 ? in[wi + 3] : nullptr);
  const double gates = numel(in[1]) * (a.op == Op::lstm_cell ? 4 : 3);
  // The gate math: ~ 6 FLOPs (sigmoid / tanh counted at 4) per gate element.
  return {ci.flops + ch.flops + 6 * gates, ci.bytes + ch.bytes};
}

// (a, b, weight, bias): [a, b] W^T + bias without the concat.
OpCost linear2_cost(const CostArgs& a) {
  const Tensor* const* in = a.in;
  const Tensor* x = a.x;
  if (a.n < 3 || !defined(in[2]) || in[2]->dim() != 2 || !defined(x) || x->dim() < 1) return {};
  const double k = static_cast<double>(in[2]->shape()[1]), nn = static_cast<double>(in[2]->shape()[0]);
  const double rows = numel(x) / static_cast<double>(std::max<int64_t>(1, x->shape().back()));
  return {2 * rows * nn * k + (a.n > 3 && defined(in[3]) ? rows * nn : 0), sum_bytes(in, a.n) + rows * nn * a.item};
}

// (a, b, weight, bias): g = sigmoid([a, b] W^T + bias); g*a + (1-g)*b.
OpCost gated_fusion_cost(const CostArgs& a) {
  const Tensor* const* in = a.in;
  if (a.n < 3 || !defined(in[2]) || in[2]->dim() != 2) return {};
  const double k = static_cast<double>(in[2]->shape()[1]), nn = static_cast<double>(in[2]->shape()[0]);
  const double rows = nn > 0 ? a.xn / nn : 0;
  return {2 * rows * nn * k + 8 * rows * nn, sum_bytes(in, a.n) + rows * nn * a.item};
}

// (a, b, weight, bias): [gamma, beta] = b W^T + bias; gamma * a + beta.
OpCost film_cost(const CostArgs& a) {
  const Tensor* const* in = a.in;
  if (a.n < 3 || !defined(in[2]) || in[2]->dim() != 2 || !defined(in[1])) return {};
  const double k = static_cast<double>(in[2]->shape()[1]), nn = static_cast<double>(in[2]->shape()[0]);
  const double rows = k > 0 ? numel(in[1]) / k : 0;
  return {2 * rows * nn * k + 2 * a.xn, sum_bytes(in, a.n) + a.xb};
}

// (a, b, U, V, P): P^T ((a U) * (b V)).
OpCost bilinear_pool_cost(const CostArgs& a) {
  const Tensor* const* in = a.in;
  if (a.n < 5 || !defined(in[2]) || !defined(in[3]) || !defined(in[4]) || in[2]->dim() != 2 || in[4]->dim() != 2)
    return {};
  const double da = static_cast<double>(in[2]->shape()[0]), r = static_cast<double>(in[2]->shape()[1]);
  const double rows = da > 0 ? a.xn / da : 0;
  const double out = static_cast<double>(in[4]->shape()[1]);
  return {2 * rows * r * (da + static_cast<double>(in[3]->shape()[0])) + rows * r + 2 * rows * r * out,
          sum_bytes(in, a.n) + rows * out * a.item};
}

OpCost fused_linear_cost(const CostArgs& a) {
  switch (a.op) {
    case Op::linear:  // (input, weight, bias)
      return linear(a.x, a.n > 1 ? a.in[1] : nullptr, a.n > 2 ? a.in[2] : nullptr);
    case Op::linear2: return linear2_cost(a);
    case Op::gated_fusion: return gated_fusion_cost(a);
    case Op::film: return film_cost(a);
    case Op::bilinear_pool: return bilinear_pool_cost(a);
    default: return {};
  }
}

}  // namespace

OpCost conv2d_cost(const std::vector<int64_t>& input, const std::vector<int64_t>& weight, bool bias,
                   const std::vector<int64_t>& output, size_t itemsize) {
  const size_t nd = weight.size();  // 4: conv2d, 5: conv3d
  if ((nd != 4 && nd != 5) || input.size() != nd || output.size() != nd) return {};
  const double out = cost_numel(output);
  const double per_out = cost_numel(std::vector<int64_t>(weight.begin() + 1, weight.end()));  // (C / groups) * K...
  const double item = static_cast<double>(itemsize);
  return {2 * out * per_out + (bias ? out : 0),
          (cost_numel(input) + cost_numel(weight) + (bias ? static_cast<double>(weight[0]) : 0) + out) * item};
}

OpCost default_op_cost(Op op, const Tensor* const* in, size_t n) {
  const Tensor* x = n > 0 ? in[0] : nullptr;
  const CostArgs a{op, in, n, x, cost_bytes(x), numel(x), defined(x) ? static_cast<double>(x->element_size()) : 4};
  switch (cost_family(op)) {
    case CostFamily::view: return {0, 0};
    case CostFamily::copy: return copy_cost(a);
    case CostFamily::pointwise: return pointwise(op, in, n);
    case CostFamily::reduction: return reduction_cost(a);
    case CostFamily::matmul: return matmul(x, n > 1 ? in[1] : nullptr);
    case CostFamily::softmax:  // max, subtract, exp, sum, divide
      return {5 * a.xn, 2 * a.xb};
    case CostFamily::indexing: return indexing_cost(a);
    case CostFamily::dropout:  // the output and its mask (one byte per element)
      return {a.xn, 2 * a.xb + a.xn};
    case CostFamily::attention: return attention_cost(a);
    case CostFamily::norm: return norm_cost(a);
    case CostFamily::loss: return loss_cost(a);
    case CostFamily::recurrent: return recurrent_cell_cost(a);
    case CostFamily::fused_linear: return fused_linear_cost(a);
    case CostFamily::declared: return {};  // see OpScope::set_cost
  }
  return {};
}

}  // namespace loom
