// Op identities and the hook every op front end calls. The profiler (Chrome
// trace, NVTX ranges) installs an OpObserver; when none is installed the cost
// of an OpScope is one relaxed atomic load.
#pragma once
#include <atomic>
#include <cstdint>

namespace loom {

enum class Op : int16_t {
#define LOOM_OP(name, family) name,
#include "core/ops.def"
#undef LOOM_OP
  kCount
};
constexpr int kNumOps = 97;
static_assert(static_cast<int>(Op::kCount) == kNumOps, "core/ops.def changed: update kNumOps");

const char* op_name(Op op);
const char* op_family(Op op);

struct OpObserver {
  virtual ~OpObserver() = default;
  virtual void on_enter(Op op) = 0;
  virtual void on_exit(Op op) = 0;
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
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  Op op_;
  OpObserver* obs_;
};

}  // namespace loom

#define LOOM_OP_SCOPE(name) ::loom::OpScope loom_op_scope_(::loom::Op::name)
