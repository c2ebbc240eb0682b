// Process-wide switches.
#include <atomic>

#include "core/tensor.h"
#include "kernels/cpu/thread_pool.h"

namespace loom {

namespace {
std::atomic<bool> g_allow_tf32{false};
}

void set_allow_tf32(bool allow) { g_allow_tf32.store(allow); }
bool allow_tf32() { return g_allow_tf32.load(); }

namespace {
std::atomic<bool> g_deterministic{false};
}
void use_deterministic_algorithms(bool mode) { g_deterministic.store(mode); }
bool are_deterministic_algorithms_enabled() { return g_deterministic.load(); }

// The kernels' pool; OpenBLAS stays single-threaded, called from the pool's threads
// (kernels/cpu/thread_pool.cpp).
void set_num_threads(int n) {
  LOOM_CHECK_VALUE(n > 0, "set_num_threads: expected a positive number of threads, got ", n);
  kernels::cpu::set_pool_threads(n);
}
int get_num_threads() { return kernels::cpu::pool_threads(); }

}  // namespace loom
