// Python's in-place unary methods (Tensor.sigmoid_, abs_, floor_...): the unary kernel written straight into
// self when nothing tracks it and the dtype stays (autograd/ops/pointwise.h, unary_inplace_direct).
#include <string>
#include <unordered_map>

#include "autograd/ops/common.h"
#include "autograd/ops/pointwise.h"

namespace loom::pointwise {

using kernels::UnaryOp;

bool unary_inplace_direct(Tensor& self, const std::string& name) {
  static const std::unordered_map<std::string, UnaryOp> kOps = [] {
    std::unordered_map<std::string, UnaryOp> m;
    for (int i = 0; i <= static_cast<int>(UnaryOp::AiryAi); ++i) {
      const auto op = static_cast<UnaryOp>(i);
      const std::string n = unary_name(op);
      // gelu has two ops (and an approximate= argument); logical_not writes bool
      if (n != "unary" && n != "gelu" && op != UnaryOp::LogicalNot) m.emplace(n, op);
    }
    for (auto [alias, op] : {std::pair<const char*, UnaryOp>{"absolute", UnaryOp::Abs},
                             {"negative", UnaryOp::Neg},
                             {"arccos", UnaryOp::Acos},
                             {"arcsin", UnaryOp::Asin},
                             {"arctan", UnaryOp::Atan},
                             {"fix", UnaryOp::Trunc}})
      m.emplace(alias, op);
    return m;
  }();
  const auto it = kOps.find(name);
  if (it == kOps.end() || self.dtype() == DType::Bool || (float_only(it->second) && !is_floating(self.dtype())))
    return false;
  if (autograd::grad_enabled() && self.requires_grad()) return false;
  const std::string op = name + "_";
  ops::check_no_internal_overlap(self, op.c_str());
  ops::run_unary(it->second, self, self);
  self.bump_version();
  return true;
}

}  // namespace loom::pointwise
