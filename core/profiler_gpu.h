// GPU timing for the profiler (core/profiler.h), internal to core/: which
// kernels ran, when, and which op launched them. Three sources:
// - CUPTI's activity API (libcupti, loaded with dlopen when a recording asks
//   for CUDA activity): every kernel, memcpy and memset of loom, cuBLAS and
//   cuDNN, correlated with the op that was open on the launching thread
//   through an external correlation id pushed at op entry;
// - CUDA event pairs around each op on its device's current stream, where
//   CUPTI cannot be loaded or LOOM_PROFILER_CUDA=events: per-op GPU time
//   only (no kernel names);
// - the CUDA emulator's launch records (-DLOOM_CUDA=EMU): kernel names, grid,
//   block and, where the build collected them, ptxas resource usage; their
//   times are host times of the emulation and mean nothing about a GPU.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/profiler.h"

namespace loom::profiler::gpu {

enum class Mode { Off, Cupti, Events, Emulator };
const char* mode_name(Mode m);

// Picks and starts the source for a recording: requested is "auto" (the
// emulator in an emulator build, else CUPTI, else events), "cupti", "events"
// or "off"; LOOM_PROFILER_CUDA overrides "auto". Off when no GPU is present.
// base_ns: the recording's time zero on the steady clock.
Mode begin(const std::string& requested);

// Around every recorded event while a source is on. op_id identifies the
// event (the collector packs thread and index). Returns a token for exit.
int64_t op_enter(Mode m, uint64_t op_id, int device);
void op_exit(Mode m, int64_t token);

// A kernel (or copy) and the op it belongs to (op_id as given to op_enter,
// or ~0 when none was open).
struct Kernel {
  KernelEvent event;
  uint64_t op_id = ~0ull;
};
// Stops the source; returns what it recorded, times on the steady clock.
// Events mode returns one entry per op_enter/op_exit pair, name left empty.
std::vector<Kernel> end(Mode m);

// The emulator's launches arrive on the launching thread; the collector
// installs this sink to attribute them to the op open there.
void set_emulator_sink(std::function<void(const KernelEvent&)> sink);

}  // namespace loom::profiler::gpu
