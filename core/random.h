// Generator state: a seed and a counter offset per device. A random op that
// draws n elements takes the current offset and advances it by
// philox::blocks_for(n); the kernel is a pure function of (seed, offset), so
// CPU and CUDA give the same numbers and a captured CUDA graph can be replayed
// at a new offset.
#pragma once
#include <cstdint>
#include "core/device.h"

namespace loom {

struct PhiloxState {
  uint64_t seed;
  uint64_t offset;
};

// Reserves the counters for a draw of n elements on `device`.
PhiloxState philox_reserve(Device device, uint64_t n);
PhiloxState get_rng_state(Device device);
void set_rng_state(Device device, PhiloxState state);

}  // namespace loom
