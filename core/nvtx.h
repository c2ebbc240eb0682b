// NVTX ranges for Nsight Systems / Nsight Compute (PyTorch's
// torch.autograd.profiler.emit_nvtx): while an EmitNvtx is alive, every op
// front end (OpScope) and every profiler::RecordFunction range is pushed as
// an NVTX range named after the op, so the Nsight tools show loom's op names
// around the kernels they launched. NVTX is header-only (nvtx3 in the CUDA
// toolkit): without an Nsight tool attached a push costs a branch. The ranges
// use the op observer slot, so EmitNvtx and a recording Profiler exclude each
// other (each raises if the other is on). Builds without CUDA raise.
#pragma once
#include <cstdint>

namespace loom::profiler {

class EmitNvtx {
 public:
  explicit EmitNvtx(bool enabled = true);
  ~EmitNvtx();
  EmitNvtx(const EmitNvtx&) = delete;
  EmitNvtx& operator=(const EmitNvtx&) = delete;

 private:
  bool on_ = false;
};

bool nvtx_available();  // built with the CUDA toolkit's NVTX headers
bool nvtx_enabled();    // an EmitNvtx is alive
// Ranges this thread has pushed and not popped (for tests).
int64_t nvtx_depth();

// Used by RecordFunction: pushes when enabled; returns whether it did.
bool nvtx_push(const char* name);
void nvtx_pop();

}  // namespace loom::profiler
