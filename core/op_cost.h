// The work of an op call for the profiler's roofline column: floating-point
// operations and the minimum DRAM traffic (each input read once, each output
// written once). An op whose work follows from its input shapes gets it here
// (default_op_cost, one rule per op in core/op_cost.cpp); an op whose work
// depends on its arguments too (conv2d's stride, a pool's window, the dim of
// index_select) declares it beside its definition with OpScope::set_cost,
// using the helpers below. Costs are only computed while a profiler records.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/ops.h"

namespace loom {

struct OpCost {
  double flops = -1;  // -1: unknown (the table then shows no roofline for the op)
  double bytes = -1;
  bool known() const { return flops >= 0 && bytes >= 0; }
};

OpCost default_op_cost(Op op, const Tensor* const* inputs, size_t n);

// numel * itemsize of a defined tensor, 0 for an undefined one.
double cost_bytes(const Tensor* t);
double cost_numel(const std::vector<int64_t>& shape);

// conv2d: 2 * N * OC * OH * OW * (C / groups) * KH * KW (+ the bias add),
// bytes of input, weight, bias and output; conv3d alike with the depth (5-D
// shapes).
OpCost conv2d_cost(const std::vector<int64_t>& input, const std::vector<int64_t>& weight, bool bias,
                   const std::vector<int64_t>& output, size_t itemsize);

}  // namespace loom
