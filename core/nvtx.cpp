// EmitNvtx (core/nvtx.h): an OpObserver that pushes and pops NVTX ranges.
#include "core/nvtx.h"

#include <atomic>
#include <mutex>

#include "core/error.h"
#include "core/ops.h"

#if defined(LOOM_WITH_CUDA) && !defined(LOOM_CUDA_EMU)
#define LOOM_WITH_NVTX 1
#include <nvtx3/nvToolsExt.h>
#endif

namespace loom::profiler {

namespace {

thread_local int64_t t_depth = 0;
std::atomic<bool> g_enabled{false};
std::mutex g_mu;

bool push(const char* name) {
#ifdef LOOM_WITH_NVTX
  nvtxRangePushA(name);
#else
  (void)name;
#endif
  ++t_depth;
  return true;
}

void pop() {
#ifdef LOOM_WITH_NVTX
  nvtxRangePop();
#endif
  --t_depth;
}

struct NvtxObserver : OpObserver {
  void on_enter(Op op) override { push(op_name(op)); }
  void on_exit(Op) override { pop(); }
};

NvtxObserver g_observer;

}  // namespace

bool nvtx_available() {
#ifdef LOOM_WITH_NVTX
  return true;
#else
  return false;
#endif
}

bool nvtx_enabled() { return g_enabled.load(std::memory_order_relaxed); }
int64_t nvtx_depth() { return t_depth; }

bool nvtx_push(const char* name) { return nvtx_enabled() && push(name); }
void nvtx_pop() { pop(); }

EmitNvtx::EmitNvtx(bool enabled) {
  if (!enabled) return;
  LOOM_CHECK(nvtx_available(), "emit_nvtx: NVTX needs a build with the CUDA toolkit (this one has none)");
  std::lock_guard<std::mutex> lock(g_mu);
  LOOM_CHECK(!g_enabled.load(), "emit_nvtx: NVTX ranges are already being emitted");
  OpObserver* previous = set_op_observer(&g_observer);
  if (previous != nullptr) {
    set_op_observer(previous);
    LOOM_THROW(ErrorKind::Runtime,
               "emit_nvtx: another op observer is installed (a recording profiler?); stop it first");
  }
  g_enabled.store(true);
  on_ = true;
}

EmitNvtx::~EmitNvtx() {
  if (!on_) return;
  std::lock_guard<std::mutex> lock(g_mu);
  OpObserver* self = &g_observer;
  g_op_observer.compare_exchange_strong(self, nullptr);
  g_enabled.store(false);
}

}  // namespace loom::profiler
