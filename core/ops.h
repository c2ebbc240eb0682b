// Op identities and the hook every op front end calls. The profiler (Chrome
// trace, NVTX ranges) installs an OpObserver; when none is installed the cost
// of an OpScope is one relaxed atomic load.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace loom {

// Only pointers cross this header, so it stays light enough for every file.
class Tensor;

// core/ops.def is generated from the op registry core/ops.toml into the build
// tree (tools/gen_ops.py; installed beside this header).
enum class Op : int16_t {
#define LOOM_OP(name, family) name,
#include "core/ops.def"
#undef LOOM_OP
  kCount
};
constexpr int kNumOps = static_cast<int>(Op::kCount);

const char* op_name(Op op);
const char* op_family(Op op);

struct OpObserver {
  virtual ~OpObserver() = default;
  virtual void on_enter(Op op) = 0;
  virtual void on_exit(Op op) = 0;
  // The call's tensor inputs (some may be undefined, e.g. a missing bias),
  // valid only during the call. Observers that record shapes override it;
  // the others see a plain on_enter.
  virtual void on_enter_inputs(Op op, const Tensor* const* inputs, size_t n) { on_enter(op); }
  // The call's work for the roofline column (OpScope::set_cost), reported
  // between on_enter and on_exit; it replaces the op's default cost.
  virtual void on_cost(Op op, double flops, double bytes) {}
};
// Installs (or with nullptr removes) the global observer; returns the previous one.
OpObserver* set_op_observer(OpObserver* observer);
extern std::atomic<OpObserver*> g_op_observer;

class OpScope {
 public:
  explicit OpScope(Op op) : op_(op), obs_(g_op_observer.load(std::memory_order_relaxed)) {
    if (obs_) obs_->on_enter(op_);
  }
  ~OpScope() {
    if (obs_) obs_->on_exit(op_);
  }
  // Front ends that report their inputs (for the profiler's shapes) write
  // `OpScope scope(Op::conv2d, {&x, &w, &b});`: the spelled-out Op:: name is
  // what tests/core/test_ops_coverage.cpp looks for. The tensors are only
  // looked at when an observer is installed: off, this costs the same
  // relaxed load (plus filling the pointer list).
  OpScope(Op op, std::initializer_list<const Tensor*> inputs)
      : op_(op), obs_(g_op_observer.load(std::memory_order_relaxed)) {
    if (obs_) obs_->on_enter_inputs(op_, inputs.begin(), inputs.size());
  }
  // For ops over a TensorList (cat, stack, the optimizer steps); defined in
  // core/tensor.cpp, where Tensor is complete.
  OpScope(Op op, const std::vector<Tensor>& inputs);
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

  // An observer saw this call's entry: only then is a cost worth computing.
  bool observed() const { return obs_ != nullptr; }
  // The floating-point operations and the minimum DRAM bytes (every input
  // read once, every output written once) of this call, for the profiler's
  // roofline column. Ops whose work depends on more than their input shapes
  // (stride, padding, dims) declare it beside their definition:
  //   if (scope.observed()) scope.set_cost(conv2d_flops(...), conv2d_bytes(...));
  // Others get their family's default (core/op_cost.cpp).
  void set_cost(double flops, double bytes) const {
    if (obs_) obs_->on_cost(op_, flops, bytes);
  }

 private:
  Op op_;
  OpObserver* obs_;
};

}  // namespace loom

#define LOOM_OP_SCOPE(name) ::loom::OpScope loom_op_scope_(::loom::Op::name)
